"""Links built outside a request: absolute URLs under SITE_URL (mail, feeds,
metadata), and URL patterns reversed once for many objects."""

import re

from django.conf import settings
from django.urls import reverse

_MARKER = 987654321


def absolute(path: str) -> str:
    """`path` under SITE_URL's scheme and host, never the request's."""
    return f"{settings.SITE_URL}{path}"


def url_pattern(name: str, kwarg: str) -> str:
    """The URL named `name` with `{}` where `kwarg` (an integer) goes: one
    reverse() for a page of comments instead of one per comment."""
    return reverse(name, kwargs={kwarg: _MARKER}).replace(str(_MARKER), "{}")


_RELATIVE_URL = re.compile(r'(\s(?:src|href|poster)=")/(?!/)')
_SRCSET = re.compile(r'(\ssrcset=")([^"]*)"')


def absolute_html(html: str) -> str:
    """`html` with its site-relative links and pictures (href, src, srcset)
    under SITE_URL, for a page read outside the site (a mail)."""

    def srcset(match: re.Match) -> str:
        candidates = [
            f"{settings.SITE_URL}{item}"
            if item.startswith("/") and not item.startswith("//")
            else item
            for item in (part.strip() for part in match.group(2).split(","))
        ]
        return f'{match.group(1)}{", ".join(candidates)}"'

    html = _RELATIVE_URL.sub(rf"\g<1>{settings.SITE_URL}/", html)
    return _SRCSET.sub(srcset, html)
