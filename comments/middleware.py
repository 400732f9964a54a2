"""Responses that show a reader's own details stay out of shared caches."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers


class PrivateResponseMiddleware:
    """Marks a response `Cache-Control: private` when the page was filled in
    with the reader's remembered name and email (see `views.mark_private`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "inkwell_private", False):
            patch_cache_control(response, private=True)
            patch_vary_headers(response, ["Cookie"])
        return response
