"""Pages, feeds and JSON answers compressed for browsers that accept gzip.

Django's GZipMiddleware (with its BREACH mitigation: random bytes in the
gzip header, as the CSRF token is in the page), for text only: static files
come compressed from WhiteNoise (and are answered before this runs, see
settings.MIDDLEWARE), pictures and fonts are compressed already, and a
streamed file must keep its length. A post page with a long thread goes
from ~100 KB to ~15 KB on the wire: what a phone on a slow network, and
Lighthouse's performance score, notice first.
"""

from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.text import compress_string

COMPRESSED_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
)


def compressible(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith(COMPRESSED_TYPES)


def accepts_gzip(request: HttpRequest) -> bool:
    return bool(re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


def gzipped(content: bytes) -> bytes | None:
    """`content` compressed as the middleware would, for a page the page
    cache stores once and serves many times (None when that is no shorter).
    Without the middleware's random bytes: a stored page holds no secret
    (no CSRF token), and every reader gets the same bytes."""
    compressed = compress_string(content)
    return compressed if len(compressed) < len(content) else None


class TextCompressionMiddleware(GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        if response.streaming or not compressible(response):
            return response
        return super().process_response(request, response)
