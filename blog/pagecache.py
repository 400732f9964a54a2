"""Anonymous full-page cache, invalidated at once in every process.

Every cached page's key holds a site-wide "content version", a counter kept in
the shared cache (Redis, or the file cache that every process on one machine
sees). Anything that changes what a public page shows bumps the counter
(`bump_content_version`, called from signal receivers here and in the
comments app), so every page cached before the change is simply never looked
up again and ages out: no per-page deletion, no list of URLs to forget.

What is never served from nor stored in the cache: anything but GET/HEAD,
requests carrying a session or messages cookie (signed-in users, flash
messages) or another cookie registered with `bypass_for_cookie`, the admin
and /healthz, and responses that are not 200, set a cookie, touch the
session or the messages, use a CSP nonce, vary on anything but Cookie and
Accept-Encoding, carry their own ETag or Last-Modified (the
feeds answer conditional requests themselves), or say `Cache-Control:
private`, `no-cache` or `no-store` (a comment form prefilled from the
reader's cookie does).

Changes made without model signals (queryset.update(), bulk_create(), raw
SQL) must call `forget_all_pages()`; the WordPress import does.

Scheduled posts: a cached page lives at most until the next scheduled post's
publish time (kept in the cache, refreshed when posts change), so a home page
cached at 11:59 cannot hide a post due at 12:00. That is cheaper than putting
the current minute in every key, which would re-render every page every
minute whether or not anything was scheduled.

CSRF: anonymous pages carry comment forms with a CSRF token tied to the
reader's cookie. The stored copy holds a placeholder instead, and each hit
gets the token of its own request (setting the CSRF cookie as usual).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils import timezone
from django.utils.cache import (
    get_conditional_response,
    patch_vary_headers,
)
from django.utils.http import http_date, quote_etag

VERSION_KEY = "pagecache:content-version"
NEXT_PUBLICATION_KEY = "pagecache:next-publication"
EXCLUDED_PREFIXES = ("/admin/", "/healthz", "/media/", "/static/")
# Cookies whose presence changes a page; other apps add theirs with
# `bypass_for_cookie` (the comments app: remembered commenter, liker id).
BYPASS_COOKIES = {"messages"}
CSRF_PLACEHOLDER = b"__inkwell_csrf_token__"
_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
_ALLOWED_VARY = {"cookie", "accept-encoding"}


def bypass_for_cookie(name: str) -> None:
    """Requests carrying cookie `name` get pages of their own: never cached."""
    BYPASS_COOKIES.add(name)


def content_version() -> int:
    """The current content version, started from the clock if unknown.

    A lost counter (Redis flushed, the file cache culled) restarts from the
    time in nanoseconds, which is always past any earlier value: pages cached
    under an old version can never come back.
    """
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY, 0)
    return version


def bump_content_version() -> None:
    """Make every cached page stale, now and once the transaction commits.

    The second bump closes a race: another process could otherwise render
    the old rows between the first bump and the commit and cache them under
    the new version.
    """
    _bump()
    transaction.on_commit(_bump)


def forget_all_pages() -> None:
    """For bulk changes that send no signals (imports, queryset updates)."""
    bump_content_version()
    refresh_next_publication()
    transaction.on_commit(refresh_next_publication)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def next_publication_in() -> float | None:
    """Seconds until the next scheduled post goes live, or None if none is.

    The time is kept in the cache, refreshed whenever a post is saved or
    deleted and once it has passed, so a page request seldom queries for it.
    """
    at = cache.get(NEXT_PUBLICATION_KEY)
    now = time.time()
    if at is None or (at and at <= now):
        at = refresh_next_publication()
    return max(0.0, at - now) if at else None


def refresh_next_publication() -> float:
    """Look up the next scheduled publish time and cache it (0: none)."""
    from blog.models import Post

    when = (
        Post.objects.filter(
            status=Post.Status.PUBLISHED, published_at__gt=timezone.now()
        )
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    at = when.timestamp() if when else 0
    cache.set(NEXT_PUBLICATION_KEY, at, timeout=None)
    return at


class PageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.request_is_cacheable(request):
            return self.get_response(request)
        version = content_version()
        key = self.key_for(request, version)
        entry = cache.get(key)
        # The expiry is checked here too: backends round timeouts to seconds.
        if entry is not None and entry["expires_at"] > time.time():
            return self.from_entry(request, entry)
        response = self.get_response(request)
        if request.method == "GET" and self.response_is_cacheable(request, response):
            return self.store(request, response, key)
        response.headers.setdefault("X-Page-Cache", "bypass")
        return response

    @staticmethod
    def request_is_cacheable(request: HttpRequest) -> bool:
        if not settings.INKWELL_PAGE_CACHE or request.method not in {"GET", "HEAD"}:
            return False
        if request.path.startswith(EXCLUDED_PREFIXES):
            return False
        cookies = {settings.SESSION_COOKIE_NAME, *BYPASS_COOKIES}
        return not any(name in request.COOKIES for name in cookies)

    @staticmethod
    def key_for(request: HttpRequest, version: int) -> str:
        address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
        digest = hashlib.sha256(address.encode()).hexdigest()
        return f"pagecache:page:{version}:{digest}"

    @staticmethod
    def response_is_cacheable(request: HttpRequest, response: HttpResponse) -> bool:
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        # A view that sets its own validators (the feeds) answers conditional
        # requests itself and knows its freshness better than a counter.
        if response.has_header("ETag") or response.has_header("Last-Modified"):
            return False
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-cache", "no-store")):
            return False
        vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v}
        if vary - _ALLOWED_VARY:
            return False
        session = getattr(request, "session", None)
        if session is not None and session.modified:
            return False
        messages = getattr(request, "_messages", None)
        if messages is not None and messages._queued_messages:
            return False
        user = getattr(request, "_cached_user", None)
        if user is not None and user.is_authenticated:
            return False
        # A page that used a CSP nonce must not hand that nonce to others.
        return not getattr(request, "_csp_nonce", None)

    def store(
        self, request: HttpRequest, response: HttpResponse, key: str
    ) -> HttpResponse:
        content = self.with_placeholder(request, response.content)
        now = time.time()
        entry = {
            "content": content,
            "headers": [
                (name, value)
                for name, value in response.headers.items()
                if name.lower() not in {"content-length", "x-page-cache"}
            ],
            "etag": quote_etag(hashlib.sha256(content).hexdigest()[:32]),
            "last_modified": int(now),
        }
        ttl = float(settings.INKWELL_PAGE_CACHE_SECONDS)
        until_next = next_publication_in()
        if until_next is not None:
            ttl = min(ttl, until_next)
        entry["expires_at"] = now + ttl
        if ttl >= 1:
            cache.set(key, entry, timeout=math.ceil(ttl))
        self.add_validators(response, entry, "miss")
        return get_conditional_response(
            request, entry["etag"], entry["last_modified"], response
        )

    def from_entry(self, request: HttpRequest, entry: dict) -> HttpResponse:
        content = entry["content"]
        if CSRF_PLACEHOLDER in content:
            content = content.replace(CSRF_PLACEHOLDER, get_token(request).encode())
        response = HttpResponse(content)
        for name, value in entry["headers"]:
            response.headers[name] = value
        self.add_validators(response, entry, "hit")
        return get_conditional_response(
            request, entry["etag"], entry["last_modified"], response
        )

    @staticmethod
    def add_validators(response: HttpResponse, entry: dict, state: str) -> None:
        response["ETag"] = entry["etag"]
        response["Last-Modified"] = http_date(entry["last_modified"])
        # Browsers may keep the page but must ask again (and get a 304).
        response["Cache-Control"] = "no-cache"
        response["X-Page-Cache"] = state
        patch_vary_headers(response, ["Cookie"])

    @staticmethod
    def with_placeholder(request: HttpRequest, content: bytes) -> bytes:
        """`content` with every CSRF token of this request replaced.

        Every 64-character run is checked, not only form fields: a masked
        token reveals the reader's CSRF secret, so none may reach the cache.
        """
        secret = request.META.get("CSRF_COOKIE")
        if not secret:
            return content

        def replace(match: re.Match) -> bytes:
            token = match.group().decode()
            if _unmask_cipher_token(token) == secret:
                return CSRF_PLACEHOLDER
            return match.group()

        return _TOKEN.sub(replace, content)


def content_changed(sender, **kwargs) -> None:
    """Signal receiver: something public pages show was saved or deleted."""
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in, not a change to any page
    if sender._meta.label == "blog.Post":
        forget_all_pages()
    else:
        bump_content_version()


def connect_signals() -> None:
    """Bump the content version when posts, categories, tags, authors or the
    site change. The comments app connects its own models (DESIGN.md: blog
    never imports comments)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site
    from django.db.models.signals import post_delete, post_save
    from taggit.models import Tag, TaggedItem

    from blog.models import Category, Post

    for model in (Post, Category, Tag, TaggedItem, get_user_model(), Site):
        post_save.connect(content_changed, sender=model, dispatch_uid="pagecache")
        post_delete.connect(content_changed, sender=model, dispatch_uid="pagecache")
