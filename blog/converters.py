"""Path converters that refuse what the database cannot hold, before a view
runs: an id past the 64-bit integer range (SQLite raises OverflowError,
PostgreSQL a DataError) or a username with NUL or control characters
(PostgreSQL refuses NUL in text). A converter's ValueError is Django's "this
pattern does not match", so such an address is a 404, never a 500.

Registered here, once, for blog/urls.py and comments/urls.py, with the
blog's own (month, slugs in any alphabet).
"""

import unicodedata

from django.urls import register_converter

# The largest primary key a BigAutoField (settings.DEFAULT_AUTO_FIELD) holds.
MAX_ID = 2**63 - 1


class IdConverter:
    """A database id: 1 to MAX_ID."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError("not a database id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)


class UsernameConverter:
    """A username as Django's validator allows it: no slash, no control or
    format character, no longer than the field."""

    regex = "[^/]{1,150}"

    def to_python(self, value: str) -> str:
        if not is_plain(value):
            raise ValueError("not a username")
        return value

    def to_url(self, value: str) -> str:
        return value


def is_plain(value: str) -> bool:
    """No control (Cc) or format (Cf) character: NUL, CR, LF, bidi controls."""
    return not any(unicodedata.category(char) in {"Cc", "Cf"} for char in value)


class UnicodeSlugConverter:
    """A slug in any alphabet, as `SlugField(allow_unicode=True)` accepts
    (WordPress blogs in Chinese, Russian, Greek... have such slugs)."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class MonthConverter:
    regex = "0[1-9]|1[0-2]"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")
register_converter(UsernameConverter, "username")
register_converter(MonthConverter, "mm")
register_converter(UnicodeSlugConverter, "uslug")
