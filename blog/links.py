"""Links built outside a request: absolute URLs under SITE_URL (mail, feeds,
metadata), and URL patterns reversed once for many objects."""

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
