"""Requests as the site sees them: the reader's own address behind proxies,
a 503 page instead of a traceback when the database is down, and the
Content-Security-Policy with the sources the site's settings add."""

import ipaddress
import logging
import sys
from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin
from django.views import defaults

from blog import avatars

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)


class TrustedProxyMiddleware:
    """Sets REMOTE_ADDR to the reader's address when proxies stand in front,
    for per-IP rate limits, likes, bans and login throttling (axes).

    With INKWELL_TRUSTED_PROXIES = N (`TRUSTED_PROXIES`), each of the N
    proxies appends the address it was reached from to X-Forwarded-For, so
    the N-th entry from the right is the one the outermost proxy saw: the
    reader; entries further left are the client's own and never believed.
    With 0 (the default) the header is ignored. A request with fewer entries
    than proxies, or an entry that is not an IP address, keeps REMOTE_ADDR.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        proxies = settings.INKWELL_TRUSTED_PROXIES
        if proxies:
            hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if len(hops) >= proxies:
                candidate = hops[-proxies].strip()
                try:
                    request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(candidate))
                except ValueError:
                    logger.warning("Ignored X-Forwarded-For entry %r", candidate)
        return self.get_response(request)


def database_unavailable_response() -> HttpResponse:
    """templates/503.html, rendered without a request: no context processor,
    no session, nothing that could touch the database again."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "60"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """Turns OperationalError/InterfaceError raised by a view into a 503 page.

    Errors raised by other middleware (a session saved after the view) never
    reach process_exception; `server_error`, the project's handler500, covers
    those.
    """

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if isinstance(exception, DATABASE_DOWN):
            logger.error("Database unavailable: %s", exception)
            return database_unavailable_response()
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the 503 page when the error was the database going away."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return database_unavailable_response()
    return defaults.server_error(request)


class SiteCSPMiddleware(CSPMiddleware):
    """django-csp's middleware (settings.CONTENT_SECURITY_POLICY), with
    Gravatar's pictures let in on pages while the administrator has turned
    Gravatar on (blog/avatars.py), and only then.

    A page the page cache stores keeps this header with it, and turning the
    setting on or off bumps the site version, so no stored page outlives the
    policy it was built under.
    """

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponse,
        report_only: bool = False,
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only or parts.update is not None or parts.replace is not None:
            return parts  # a view's own policy changes rule
        if not response.get("Content-Type", "").startswith("text/html"):
            return parts
        try:
            enabled = avatars.gravatar_enabled()
        except DATABASE_DOWN:
            enabled = False  # the 503 page shows no faces
        if enabled:
            parts.update = {"img-src": [avatars.GRAVATAR_ORIGIN]}
        return parts
