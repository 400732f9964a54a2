"""Large ready-made HTML joined into the response once, after the template.

Django's templates copy what a node renders at every level it passes
through (each NodeList joins its children into a new string), at two bytes
a character once any text on the page is past Latin-1. A post's thread,
ready-made HTML kept whole in the cache (comments/threads.py), is most of a
long post page: `deferred(html)` writes a marker in its place, and
SpliceMiddleware (inside every other middleware but django-axes, so that
they see the whole page) replaces each marker with the HTML's UTF-8 bytes,
one copy (a warm post page with 500 comments, 200 shown: 39% fewer
instructions). Outside a request through the middleware (a template
rendered on its own, a test's RequestFactory), the HTML is returned as it is.

Never inside `{% cache %}`: a marker kept in a fragment would name HTML that
a later request does not have (the middleware then raises, rather than
serve a page without it).
"""

from __future__ import annotations

import itertools
import re
import secrets
from contextvars import ContextVar

from django.utils.safestring import SafeString, mark_safe

_TOKEN = secrets.token_hex(8)
_TOKEN_BYTES = _TOKEN.encode()
_MARKER = re.compile(rb"<!--" + _TOKEN_BYTES + rb":(\d+)-->")
_numbers = itertools.count()
_pending: ContextVar[dict[bytes, bytes] | None] = ContextVar(
    "inkwell_spliced_html", default=None
)


def deferred(html: str | bytes) -> SafeString:
    """`html` (already safe; bytes in UTF-8) in the page, by a marker that
    the middleware replaces."""
    pending = _pending.get()
    if pending is None or not html:
        return mark_safe(html.decode() if isinstance(html, bytes) else html)
    number = next(_numbers)
    pending[b"%d" % number] = html if isinstance(html, bytes) else html.encode()
    return mark_safe(f"<!--{_TOKEN}:{number}-->")


class SpliceMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        pending: dict[bytes, bytes] = {}
        token = _pending.set(pending)
        try:
            response = self.get_response(request)
        finally:
            _pending.reset(token)
        if not response.streaming and (pending or _TOKEN_BYTES in response.content):
            response.content = _MARKER.sub(
                lambda match: pending[match[1]], response.content
            )
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
