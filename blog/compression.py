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
from django.middleware.gzip import GZipMiddleware

COMPRESSED_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
)


class TextCompressionMiddleware(GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        content_type = response.get("Content-Type", "")
        if response.streaming or not content_type.startswith(COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)
