"""Anonymous full-page cache, invalidated at once in every process.

Every cached page is stored with the site-wide "content version" it was
rendered under, a counter kept in the shared cache (Redis, or the file cache
that every process on one machine sees). Anything that changes what a public
page shows bumps the counter (`bump_content_version`, called from signal
receivers here and in the comments app); a page is served only while its
version is the current one, so every page cached before a change is simply
re-rendered on its next request: no per-page deletion, no list of URLs to
forget. The counter is read from the shared cache on every request; the
page itself mostly comes from a copy kept in the process (`RecentPages`).

What is never served from nor stored in the cache: anything but GET/HEAD,
requests carrying a session or messages cookie (signed-in users, flash
messages) or another cookie registered with `bypass_for_cookie`, the admin
and /healthz, and responses that are not 200, set a cookie other than the
reader's CSRF cookie, touch the session or the messages, use a CSP nonce,
vary on anything but Cookie and Accept-Encoding, carry their own ETag or
Last-Modified (the feeds answer conditional requests themselves), or say
`Cache-Control: private`, `no-cache` or `no-store` (a comment form prefilled
from the reader's cookie does).

Changes made without model signals (queryset.update(), bulk_create(), raw
SQL) must call `forget_all_pages()`; the WordPress import does.

Scheduled posts: a cached page lives at most until the next scheduled post's
publish time (kept in the cache, refreshed when posts change), so a home page
cached at 11:59 cannot hide a post due at 12:00. That is cheaper than putting
the current minute in every key, which would re-render every page every
minute whether or not anything was scheduled.

Where it sits (settings.MIDDLEWARE): right after WhiteNoise, before CSP,
sessions, CSRF, auth and messages, so that a hit costs little more than a
static file. A hit still answers exactly what those would have made of it:

- The stored headers are the page's headers after every middleware inside
  this one ran (X-Frame-Options, the Content-Security-Policy computed for
  this URL); SecurityMiddleware, outside, adds its own to every response.
- CSRF: anonymous pages carry comment forms with a CSRF token tied to the
  reader's cookie. The stored copy holds a placeholder instead; each hit
  gets a token of its own reader's secret, and CsrfViewMiddleware's own
  `process_request`/`process_response` read and set the cookie.
- Sessions, auth and messages do nothing to a response for a request that
  carries none of their cookies, and a request that does is never a hit.
- CommonMiddleware: the host is checked (`get_host`, part of the key) and
  Content-Length set here; with DISALLOWED_USER_AGENTS or PREPEND_WWW set,
  pages are not served from the cache at all (those checks are not repeated).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from typing import NamedTuple

from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_REPORT_ONLY_HEADER
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CsrfViewMiddleware,
    _unmask_cipher_token,
)
from django.utils import timezone
from django.utils.cache import (
    get_conditional_response,
    patch_vary_headers,
)
from django.utils.http import http_date, quote_etag

VERSION_KEY = "pagecache:content-version"
NEXT_PUBLICATION_KEY = "pagecache:next-publication"
PAGE_KEY_PREFIX = "pagecache:page:"
EXCLUDED_PREFIXES = ("/admin/", "/healthz", "/media/", "/static/")
# Cookies whose presence changes a page; other apps add theirs with
# `bypass_for_cookie` (the comments app: remembered commenter, liker id).
BYPASS_COOKIES = {"messages"}
CSRF_PLACEHOLDER = b"__inkwell_csrf_token__"
_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
_ALLOWED_VARY = {"cookie", "accept-encoding"}
_CSP_HEADERS = {CSP_HEADER.lower(), CSP_REPORT_ONLY_HEADER.lower()}
# Without any of these, get_conditional_response has nothing to do.
_CONDITIONAL_HEADERS = {
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
}
# Headers that the middleware listed after this one add on the way out. When
# this one sat inside them, its own headers came before these; they still do
# (`_insert_before_outer`), so responses look as they always did.
_OUTER_HEADERS = {"content-length", "vary", *_CSP_HEADERS}


class Entry(NamedTuple):
    """A stored page, in the form that is quickest to turn into a response."""

    version: int  # the content version it was rendered under
    expires_at: float
    etag: str
    last_modified: int
    parts: tuple[bytes, ...]  # the page, split where the CSRF tokens go
    headers: tuple[tuple[str, str], ...]  # in the order a hit sends them
    csp_headers: tuple[tuple[str, str], ...]


class RecentPages:
    """The pages this process served lately, already unpickled: a copy that
    saves reading (and, in the file cache, decompressing) the page on every
    hit. An entry is only served while its content version is the shared
    cache's current one, read on every request, so a change still shows on
    the next request in every process. Pages are only taken from the shared
    cache, never from this process's own render, so that when two processes
    render a page at once they both go on serving the copy (and ETag) that
    the shared cache kept.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry) -> None:
        size = sum(map(len, entry.parts))
        if size > self.max_bytes:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= sum(map(len, old.parts))
            self.entries[key] = entry
            self.size += size
            while self.size > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.size -= sum(map(len, dropped.parts))


# A few of the most read pages: 8 MB per process at most.
recent_pages = RecentPages(max_bytes=8 * 1024 * 1024)


def bypass_for_cookie(name: str) -> None:
    """Requests carrying cookie `name` get pages of their own: never cached."""
    BYPASS_COOKIES.add(name)


# The content version as this request first read it: a page and each of its
# fragments (blog/fragments.py) ask for it, one shared-cache read serves them
# all. Set per request by PageCacheMiddleware; a bump empties it.
_request_version: ContextVar[list[int] | None] = ContextVar(
    "inkwell_content_version", default=None
)


def content_version() -> int:
    """The current content version, as of the first time this request asked.

    That is safe: whatever is cached under a version that has since moved on
    is never looked up again. A change made by this request (a bump) is seen
    by its later reads.
    """
    memo = _request_version.get()
    if memo:
        return memo[0]
    version = _read_content_version()
    if memo is not None:
        memo.append(version)
    return version


def _read_content_version() -> int:
    """The counter from the shared cache, started from the clock if unknown.

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
    memo = _request_version.get()
    if memo:
        memo.clear()


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


def lifetime(seconds: float) -> float:
    """How long something rendered now may be kept: `seconds`, but never past
    the next scheduled post's publication, which sends no signal."""
    until_next = next_publication_in()
    return seconds if until_next is None else min(seconds, until_next)


def refresh_next_publication() -> float:
    """Look up the next scheduled publish time of a post or a page and cache
    it (0: none)."""
    from blog.models import Page, Post

    now = timezone.now()
    times = [
        model.objects.filter(status="published", published_at__gt=now)
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
        for model in (Post, Page)
    ]
    when = min((t for t in times if t is not None), default=None)
    at = when.timestamp() if when else 0
    cache.set(NEXT_PUBLICATION_KEY, at, timeout=None)
    return at


# The CSRF token of a hit. Django's get_token draws its random strings with
# one secrets.choice() call per character (64 for a reader without a cookie),
# which was the largest cost of a hit; these draw from a single os.urandom()
# call, keep the same uniform distribution over the same characters, and
# produce the same masked format that CsrfViewMiddleware checks.
_CSRF_CHARS_FROM_BYTE = bytes.maketrans(
    bytes(range(4 * len(CSRF_ALLOWED_CHARS))), (4 * CSRF_ALLOWED_CHARS).encode()
)
# Bytes past the last whole multiple of 62 are dropped, or the first
# characters would come up more often than the others.
_UNEVEN_BYTES = bytes(range(4 * len(CSRF_ALLOWED_CHARS), 256))
_CSRF_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}


def _random_csrf_string() -> str:
    """What django.middleware.csrf._get_new_csrf_string returns, drawn faster."""
    drawn = b""
    while len(drawn) < CSRF_SECRET_LENGTH:
        drawn += os.urandom(CSRF_SECRET_LENGTH + 8).translate(
            _CSRF_CHARS_FROM_BYTE, _UNEVEN_BYTES
        )
    return drawn[:CSRF_SECRET_LENGTH].decode()


def csrf_token(request: HttpRequest) -> str:
    """What django.middleware.csrf.get_token returns, with the same effects
    on request.META (a new secret if there is none; the cookie is sent)."""
    if "CSRF_COOKIE" in request.META:
        secret = request.META["CSRF_COOKIE"]
    else:
        secret = request.META["CSRF_COOKIE"] = _random_csrf_string()
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _random_csrf_string()
    chars, index, count = CSRF_ALLOWED_CHARS, _CSRF_INDEX, len(CSRF_ALLOWED_CHARS)
    cipher = "".join(
        chars[(index[s] + index[m]) % count] for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher


class PageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if settings.CSRF_USE_SESSIONS:
            raise ImproperlyConfigured(
                "The page cache serves hits before sessions are loaded: "
                "it needs the CSRF secret in a cookie (CSRF_USE_SESSIONS off)."
            )
        self.get_response = get_response
        # Only its cookie handling is used: a hit reads and renews the
        # reader's CSRF cookie exactly as every other page does.
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_version.set([])
        try:
            return self.respond(request)
        finally:
            _request_version.reset(token)

    def respond(self, request: HttpRequest) -> HttpResponse:
        if not self.request_is_cacheable(request):
            return self.get_response(request)
        try:
            key = self.key_for(request)
        except DisallowedHost:
            # Refused further in, as on every other page (with a CSP header).
            return self.get_response(request)
        version = content_version()
        entry = self.lookup(key, version)
        if entry is not None:
            return self.from_entry(request, entry)
        response = self.get_response(request)
        if request.method == "GET" and self.response_is_cacheable(request, response):
            return self.store(request, response, key, version)
        if "X-Page-Cache" not in response:
            _insert_before_outer(response, {"X-Page-Cache": "bypass"})
        return response

    @staticmethod
    def request_is_cacheable(request: HttpRequest) -> bool:
        if not settings.INKWELL_PAGE_CACHE or request.method not in {"GET", "HEAD"}:
            return False
        # CommonMiddleware's checks, which a hit would skip.
        if settings.DISALLOWED_USER_AGENTS or settings.PREPEND_WWW:
            return False
        if request.path.startswith(EXCLUDED_PREFIXES):
            return False
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies:
            return False
        return BYPASS_COOKIES.isdisjoint(cookies)

    @staticmethod
    def key_for(request: HttpRequest) -> str:
        address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
        return PAGE_KEY_PREFIX + hashlib.sha256(address.encode()).hexdigest()

    @staticmethod
    def lookup(key: str, version: int) -> Entry | None:
        """The page stored under `key` if it is current: from this process's
        recent pages, or else from the shared cache."""

        def current(entry: Entry | None) -> bool:
            # The expiry is checked here too: backends round timeouts to
            # seconds, and recent pages have none.
            return (
                entry is not None
                and entry.version == version
                and entry.expires_at > time.time()
            )

        entry = recent_pages.get(key)
        if current(entry):
            return entry
        entry = cache.get(key)
        if not current(entry):
            return None
        recent_pages.put(key, entry)
        return entry

    @staticmethod
    def response_is_cacheable(request: HttpRequest, response: HttpResponse) -> bool:
        if response.status_code != 200 or response.streaming:
            return False
        # The one cookie allowed is the reader's CSRF cookie, which
        # CsrfViewMiddleware set; every hit sets its own reader's.
        cookies = set(response.cookies)
        if cookies - {settings.CSRF_COOKIE_NAME}:
            return False
        if cookies and response.cookies[
            settings.CSRF_COOKIE_NAME
        ].value != request.META.get("CSRF_COOKIE"):
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
        self, request: HttpRequest, response: HttpResponse, key: str, version: int
    ) -> HttpResponse:
        content = self.with_placeholder(request, response.content)
        now = time.time()
        ttl = lifetime(float(settings.INKWELL_PAGE_CACHE_SECONDS))
        etag = quote_etag(hashlib.sha256(content).hexdigest()[:32])
        self.add_validators(response, etag, int(now), "miss")
        # A hit sets Content-Length and the CSP headers last (`finish`).
        entry = Entry(
            version=version,
            expires_at=now + ttl,
            etag=etag,
            last_modified=int(now),
            parts=tuple(content.split(CSRF_PLACEHOLDER)),
            headers=tuple(
                (name, "hit" if name == "X-Page-Cache" else value)
                for name, value in response.headers.items()
                if name.lower() != "content-length" and name.lower() not in _CSP_HEADERS
            ),
            csp_headers=tuple(
                (name, value)
                for name, value in response.headers.items()
                if name.lower() in _CSP_HEADERS
            ),
        )
        if ttl >= 1:
            cache.set(key, entry, timeout=math.ceil(ttl))
        return self.finish(request, response, entry)

    def from_entry(self, request: HttpRequest, entry: Entry) -> HttpResponse:
        self.csrf.process_request(request)
        if len(entry.parts) > 1:
            content = csrf_token(request).encode().join(entry.parts)
        else:
            content = entry.parts[0]
        response = HttpResponse(content)
        for name, value in entry.headers:
            response.headers[name] = value
        return self.finish(request, response, entry)

    def finish(
        self, request: HttpRequest, response: HttpResponse, entry: Entry
    ) -> HttpResponse:
        """A 304 if the reader has the page; then what the middleware inside
        this one adds to a response, in their order: the CSRF cookie,
        Content-Length (CommonMiddleware), the CSP headers."""
        if not _CONDITIONAL_HEADERS.isdisjoint(request.META):
            response = get_conditional_response(
                request, entry.etag, entry.last_modified, response
            )
        response = self.csrf.process_response(request, response)
        response.headers["Content-Length"] = str(len(response.content))
        for name, value in entry.csp_headers:
            response.headers[name] = value
        return response

    @staticmethod
    def add_validators(
        response: HttpResponse, etag: str, last_modified: int, state: str
    ) -> None:
        patch_vary_headers(response, ["Cookie"])
        validators = {
            "ETag": etag,
            "Last-Modified": http_date(last_modified),
            # Browsers may keep the page but must ask again (and get a 304).
            "Cache-Control": "no-cache",
            "X-Page-Cache": state,
            "Vary": response["Vary"],
        }
        _insert_before_outer(response, validators)

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


def _insert_before_outer(response: HttpResponse, headers: dict[str, str]) -> None:
    """Set `headers` (moving them if set) before the first header that
    middleware listed after this one added (`_OUTER_HEADERS`)."""
    moved = {name.lower() for name in headers}
    kept = [(n, v) for n, v in response.headers.items() if n.lower() not in moved]
    cut = next(
        (i for i, (name, _) in enumerate(kept) if name.lower() in _OUTER_HEADERS),
        len(kept),
    )
    for name, _ in list(response.headers.items()):
        del response.headers[name]
    for name, value in [*kept[:cut], *headers.items(), *kept[cut:]]:
        response.headers[name] = value


def content_changed(sender, **kwargs) -> None:
    """Signal receiver: something public pages show was saved or deleted."""
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in, not a change to any page
    if sender._meta.label in {"blog.Post", "blog.Page"}:
        forget_all_pages()
    else:
        bump_content_version()


def connect_signals() -> None:
    """Bump the content version when posts, pages, menus, categories, tags,
    authors, the site or its identity change. The comments app connects its
    own models (blog never imports comments)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site
    from django.db.models.signals import post_delete, post_save
    from taggit.models import Tag, TaggedItem

    from blog.models import Category, Menu, MenuItem, Page, Post, SiteIdentity

    models = (Post, Page, Menu, MenuItem, SiteIdentity, Category, Tag, TaggedItem)
    for model in (*models, get_user_model(), Site):
        post_save.connect(content_changed, sender=model, dispatch_uid="pagecache")
        post_delete.connect(content_changed, sender=model, dispatch_uid="pagecache")
