"""What Inkwell adds to Django's cache framework (ARCHITECTURE.md, "Caching
and invalidation"): content versions, and the anonymous page cache that
serves on them.

Content versions are counters in the shared cache that signal receivers
`bump` (here and in comments/receivers.py). Whatever is cached names the
versions it was built under (`{% cache %}` vary-on values, `cached()` key
parts), so that after a bump nothing built before it is looked up again, in
any process. Changes that send no signal call `forget_all_pages()`. What
changes only with the site version (the settings rows, the next scheduled
publication) each process reads once per site version (`per_site_version`).

The page cache (PageCacheMiddleware) serves anonymous GETs before sessions,
CSRF, auth and messages run. A page is stored with the versions its
rendering read and served while they are all current, the same bytes for
every reader. Whether it may be stored is decided from the request (no
session or other personal cookie: `bypass_for_cookie`; a canonical query)
and the response (`storable`). Pages rendered for it get a placeholder for
the CSRF token (`versions`), stored empty: the reader's own token comes from
`blog:csrf_token` (static/js/csrf.js) or, without JavaScript, from the form
comments.views.csrf_failure sends back; a page not stored after all gets
`get_token()` in the placeholder's place.
"""

from __future__ import annotations

import functools
import hashlib
import math
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils import timezone, translation
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, quote_etag

from blog import compression, frontcache

SITE = "site"
DISCUSSIONS = "discussions"
VERSION_PREFIX = "pagecache:version:"
PAGE_KEY_PREFIX = "pagecache:page:"
EXCLUDED_PREFIXES = ("/admin/", "/healthz", "/media/", "/static/")
# Cookies that make a page the reader's own; other apps add theirs with
# `bypass_for_cookie` (the comments app: remembered commenter, liker id).
BYPASS_COOKIES = {"messages"}
# The query parameters a public page reads; any other one is not stored.
KNOWN_PARAMETERS = {"page", "cpage", "q"}
CSRF_PLACEHOLDER = "__inkwell_csrf_token__"
_ALLOWED_VARY = {"cookie", "accept-encoding"}
_CONDITIONAL_HEADERS = {
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
}


def post_scope(post_id: int | str, model_name: str = "post") -> str:
    """The content version of one post's discussion and likes; of a page's
    with `model_name` "page" (a post and a page may share an id)."""
    return f"{model_name}:{post_id}"


# Content versions


# The versions this request has read (scope -> value; None: the cache did
# not answer). The page and each of its fragments share one read, and the
# page cache stores them with the page. Set per request by the middleware.
_read_versions: ContextVar[dict[str, int | None] | None] = ContextVar(
    "inkwell_content_versions", default=None
)
# Bumps that did not reach the cache, retried by later requests.
_unsent_bumps: set[str] = set()
# The site version and what this process read under it (`per_site_version`).
_site_kept: tuple[int | None, dict[str, Any]] = (None, {})


def version(scope: str = SITE) -> int | None:
    """The current value of counter `scope`, as this request first read it;
    None when the cache cannot say (then nothing may be cached on it)."""
    memo = _read_versions.get()
    if memo and scope in memo:  # most calls: a page asks dozens of times
        return memo[scope]
    return read_versions([scope])[scope]


def read_versions(scopes: Iterable[str]) -> dict[str, int | None]:
    """Counters as this request first read them, the others in one round
    trip. A missing one starts from the clock (in nanoseconds: past any
    value it had, so nothing cached under an older one comes back)."""
    memo = _read_versions.get()
    if memo is None:
        memo = {}
    values = {scope: memo[scope] for scope in scopes if scope in memo}
    keys = {VERSION_PREFIX + scope: scope for scope in scopes if scope not in memo}
    if keys:
        found = cache.get_many(keys) or {}
        for key, scope in keys.items():
            if key not in found:
                cache.add(key, time.time_ns(), timeout=None)
                found[key] = cache.get(key)
            values[scope] = memo[scope] = found[key]
    return values


def _kept_for_site_version() -> dict[str, Any]:
    global _site_kept
    current = version(SITE)
    if current is None:
        return {}  # the cache cannot say: read afresh
    if _site_kept[0] != current:
        _site_kept = (current, {})
    return _site_kept[1]


def per_site_version(key: str, read: Callable[[], Any]) -> Any:
    """`read()` once per site version in this process: for what changes only
    with a bump of it (the settings rows, which many rules of a page read)."""
    kept = _kept_for_site_version()
    if key not in kept:
        kept[key] = read()
    return kept[key]


def bump(*scopes: str) -> None:
    """Make whatever was cached under `scopes` stale, now and once the
    transaction commits (another process could otherwise cache the old rows
    under the new version between the first bump and the commit)."""
    _bump(scopes)
    transaction.on_commit(lambda: _bump(scopes))
    transaction.on_commit(lambda: frontcache.purge(scopes))


def forget_all_pages() -> None:
    """For bulk changes that send no signals (imports, queryset updates)."""
    bump(SITE)


def _bump(scopes: Iterable[str]) -> None:
    memo = _read_versions.get()
    for scope in scopes:
        key = VERSION_PREFIX + scope
        try:
            landed = cache.incr(key) is not None  # django-redis: None when down
        except ValueError:  # not there: any fresh value is past the old ones
            cache.set(key, time.time_ns(), timeout=None)
            landed = True
        if landed:
            _unsent_bumps.discard(scope)
        else:
            _unsent_bumps.add(scope)
        if memo is not None:
            memo.pop(scope, None)


def retry_unsent_bumps() -> None:
    if _unsent_bumps:
        _bump(list(_unsent_bumps))


def next_publication() -> float:
    """When the next scheduled post or page goes live (0: none): looked up
    once per site version, and again once it has passed."""
    from blog.models import Page, Post

    kept = _kept_for_site_version()
    at = kept.get("next-publication")
    if at is None or (at and at <= time.time()):
        now = timezone.now()
        times = [
            model.objects.filter(status="published", published_at__gt=now)
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
            for model in (Post, Page)
        ]
        when = min((t for t in times if t is not None), default=None)
        at = kept["next-publication"] = when.timestamp() if when else 0
    return at


def lifetime(seconds: float) -> float:
    """How long something rendered now may be kept: `seconds`, but never past
    the next scheduled publication."""
    at = next_publication()
    return min(seconds, max(0.0, at - time.time())) if at else seconds


def site_version() -> str | None:
    """The `{% cache %}` vary-on value of the site: its version and the next
    publication time, so that a fragment is not used past a publication even
    where the cache's clock (Redis's) and ours disagree, and the language and
    time zone it is rendered in (a change in the admin bumps the version; a
    new default from the environment does not)."""
    current = version(SITE)
    if current is None:
        return None
    return f"{current}.{next_publication()}.{_locale()}"


def _locale() -> str:
    return f"{translation.get_language()}.{timezone.get_current_timezone_name()}"


def fragment_seconds() -> int:
    """The `{% cache %}` timeout of the templates (the `fragment_seconds`
    context variable): whole seconds, 0 (do not keep) when the cache cannot
    say what the content version is."""
    if version(SITE) is None:
        return 0
    return math.floor(lifetime(float(settings.INKWELL_FRAGMENT_CACHE_SECONDS)))


def cached(
    name: str,
    *vary_on: object,
    build: Callable[[], Any],
    slot: tuple | None = None,
) -> Any:
    """`{% cache %}` for Python: what `build()` returned for `name` and
    `vary_on` (which must hold the versions the value depends on).

    With `slot` (what names the thing, without its versions: a post and a
    page of its discussion), the value is kept under one key per slot with
    the `vary_on` it was built for, and a newer one overwrites it. For what
    changes often and weighs much: a post's thread takes the room of one copy
    in the cache, not one copy per comment for the fragments' lifetime. And
    since the versions tell whether a copy is current, this process keeps
    the copies it read (`recent_copies`): a page render reads its thread
    from memory, not from the shared cache."""
    seconds = fragment_seconds()
    if not seconds or None in vary_on:
        return build()
    stamp = (*vary_on, next_publication(), _locale())
    if slot is None:
        key = make_template_fragment_key(name, stamp)
        kept = cache.get(key)  # (value,): a stored None is told from a miss
        if kept is not None:
            return kept[0]
        value = build()
        cache.set(key, (value,), seconds)
        return value
    key = make_template_fragment_key(f"{name}-slot", slot)
    for read in (recent_copies.get, cache.get):
        kept = read(key)  # (stamp, value, size)
        if kept is not None and kept[0] == stamp:
            recent_copies.put(key, kept, kept[2])
            return kept[1]
    value = build()
    kept = (stamp, value, len(pickle.dumps(value, pickle.HIGHEST_PROTOCOL)))
    cache.set(key, kept, seconds)
    recent_copies.put(key, kept, kept[2])
    return value


class _NotKept(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def kept_response(view: Callable) -> Callable:
    """For views that answer with validators of their own (feeds, sitemaps),
    which the page cache leaves to them: a 200 response kept under the site
    version by its address (and page number, `p`), so that a feed or a
    sitemap page costs one cache read once built, however many posts the
    site holds. The same for every reader: only for views whose answer is."""

    @functools.wraps(view)
    def kept(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        def build() -> tuple[bytes, dict[str, str]]:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            if response.status_code != 200 or response.streaming or response.cookies:
                raise _NotKept(response)
            return response.content, dict(response.items())

        try:
            content, headers = cached(
                "response",
                request.path,
                request.GET.get("p", ""),
                version(SITE),
                build=build,
            )
        except _NotKept as refused:
            return refused.response
        return HttpResponse(content, headers=headers)

    return kept


def versions(request: HttpRequest) -> dict:
    """Context processor: the timeout and the versions for `{% cache %}`
    (each worked out once per render, when first used), and the CSRF
    placeholder on pages the page cache may store."""
    context = {
        "fragment_seconds": functools.cache(fragment_seconds),
        "site_version": functools.cache(site_version),
        "discussions_version": functools.cache(lambda: version(DISCUSSIONS)),
    }
    if getattr(request, "page_cache_candidate", False):
        context["csrf_token"] = CSRF_PLACEHOLDER
    return context


# The page cache


class Entry(NamedTuple):
    versions: dict[str, int]  # every version its rendering read
    expires_at: float
    last_modified: int
    # The page's bytes (no CSRF token in them) and every header a hit
    # answers with; compressed once, for readers who accept gzip (or None).
    plain: tuple[bytes, dict[str, str]]
    gzipped: tuple[bytes, dict[str, str]] | None


class RecentCopies:
    """Copies this process read lately, unpickled, of what is checked against
    the versions before use: pages (a hit then reads only the versions from
    the shared cache; only copies read from it, so that two processes that
    rendered a page at once serve the one it kept, and its ETag) and the
    slots of `cached`. Bounded by size, the least recently read out first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return None
            self.entries.move_to_end(key)
            return found[0]

    def put(self, key: str, value: Any, size: int) -> None:
        if size > self.max_bytes:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self.entries[key] = (value, size)
            self.size += size
            while self.size > self.max_bytes:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.size -= dropped

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


recent_copies = RecentCopies(max_bytes=16 * 1024 * 1024)


def bypass_for_cookie(name: str) -> None:
    """Requests carrying cookie `name` get pages of their own: never cached."""
    BYPASS_COOKIES.add(name)


def _canonical_query(request: HttpRequest) -> bool:
    if not request.META.get("QUERY_STRING"):
        return True
    for name, values in request.GET.lists():
        if name not in KNOWN_PARAMETERS or len(values) != 1:
            return False
        number = values[0]
        if name != "q" and (
            not (number.isascii() and number.isdigit()) or number.startswith("0")
        ):
            return False
    return True


class PageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if settings.CSRF_USE_SESSIONS:
            raise ImproperlyConfigured(
                "The page cache serves hits before sessions are loaded: "
                "it needs the CSRF secret in a cookie (CSRF_USE_SESSIONS off)."
            )
        self.get_response = get_response
        # Only its cookie handling is used, for a page given the reader's
        # token after all (one that was not stored).
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _read_versions.set({})
        try:
            retry_unsent_bumps()
            return self.respond(request)
        finally:
            _read_versions.reset(token)

    def respond(self, request: HttpRequest) -> HttpResponse:
        if request.method not in {"GET", "HEAD"} or request.path.startswith(
            EXCLUDED_PREFIXES
        ):
            return self.get_response(request)
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies or not BYPASS_COOKIES.isdisjoint(
            cookies
        ):
            # The reader's own page: no shared cache may keep it.
            response = self.get_response(request)
            patch_cache_control(response, private=True)
            return response
        # CommonMiddleware's checks, which a hit would skip.
        if not settings.INKWELL_PAGE_CACHE or (
            settings.DISALLOWED_USER_AGENTS or settings.PREPEND_WWW
        ):
            return self.get_response(request)
        try:
            address = (
                f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
            )
        except DisallowedHost:
            # Refused further in, as on every other page (with a CSP header).
            return self.get_response(request)
        if not _canonical_query(request):
            response = self.get_response(request)
            response["X-Page-Cache"] = "bypass"
            return response
        # The environment's language and time zone (the defaults): pages made
        # under others are not served after a restart that changed them.
        locale = f"{settings.LANGUAGE_CODE} {settings.TIME_ZONE} "
        key = PAGE_KEY_PREFIX + hashlib.sha256((locale + address).encode()).hexdigest()
        entry = self.lookup(key)
        if entry is not None:
            return self.serve(request, entry, "hit", address)
        version(SITE)  # read before rendering: a change meanwhile wins
        request.page_cache_candidate = True
        response = self.get_response(request)
        if request.method == "GET" and self.storable(response):
            entry = self.store(key, response)
            if entry is not None:
                return self.serve(request, entry, "miss", address)
        response.setdefault("X-Page-Cache", "bypass")
        if not response.streaming and CSRF_PLACEHOLDER.encode() in response.content:
            response.content = response.content.replace(
                CSRF_PLACEHOLDER.encode(), get_token(request).encode()
            )
            if response.has_header("Content-Length"):  # CommonMiddleware's
                response["Content-Length"] = str(len(response.content))
            response = self.csrf.process_response(request, response)
        return response

    @staticmethod
    def lookup(key: str) -> Entry | None:
        """The page stored under `key` if every version it read is current:
        from this process's recent pages, or else from the shared cache."""

        def current(entry: Entry | None) -> bool:
            # The expiry is checked here too: backends round timeouts to
            # seconds, and recent pages have none.
            return (
                entry is not None
                and entry.expires_at > time.time()
                and read_versions(entry.versions) == entry.versions
            )

        entry = recent_copies.get(key)
        if current(entry):
            return entry
        entry = cache.get(key)
        if not current(entry):
            return None
        recent_copies.put(key, entry, len(entry.plain[0]))
        return entry

    @staticmethod
    def storable(response: HttpResponse) -> bool:
        """Whether `response` is the same for every reader, from the response
        alone (the request's personal cookies were looked at before)."""
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
        # A page that used a CSP nonce must not hand that nonce to others.
        csp = response.get("Content-Security-Policy", "")
        return vary <= _ALLOWED_VARY and "'nonce-" not in csp

    @staticmethod
    def store(key: str, response: HttpResponse) -> Entry | None:
        read = dict(_read_versions.get() or {})
        if None in read.values():
            return None  # the cache could not say which versions it holds
        now = time.time()
        ttl = lifetime(float(settings.INKWELL_PAGE_CACHE_SECONDS))
        content = response.content.replace(CSRF_PLACEHOLDER.encode(), b"")
        etag = quote_etag(hashlib.sha256(content).hexdigest()[:32])
        patch_vary_headers(response, ["Cookie", "Accept-Encoding"])
        headers = {
            **{n: v for n, v in response.items() if n.lower() != "content-length"},
            "Last-Modified": http_date(int(now)),
            # Browsers may keep the page but must ask again (and get a 304).
            "Cache-Control": "no-cache",
            "X-Page-Cache": "hit",
        }
        plain = (content, {**headers, "ETag": etag})
        gzipped = None
        if compression.compressible(response) and (
            packed := compression.gzipped(content)
        ):
            # Marked as GZipMiddleware marks what it compresses.
            extra = {"ETag": f"W/{etag}", "Content-Encoding": "gzip"}
            gzipped = (packed, {**headers, **extra})
        for body, answer in filter(None, (plain, gzipped)):
            answer["Content-Length"] = str(len(body))
        entry = Entry(read, now + ttl, int(now), plain, gzipped)
        if ttl >= 1:
            cache.set(key, entry, timeout=math.ceil(ttl))
        return entry

    @staticmethod
    def serve(
        request: HttpRequest, entry: Entry, state: str, address: str
    ) -> HttpResponse:
        """The stored page, or a 304 if the reader has it already: the same
        bytes and headers for every reader. A shared cache in front may keep
        it too (blog/frontcache.py)."""
        # Compressed once when stored, rather than by the middleware on every
        # hit (TextCompressionMiddleware leaves an encoded page be).
        gzipped = entry.gzipped is not None and compression.accepts_gzip(request)
        content, headers = entry.gzipped if gzipped else entry.plain
        response = HttpResponse(content, headers=headers)
        if state != "hit":
            response["X-Page-Cache"] = state
        if frontcache.enabled():
            response["Cache-Control"] = frontcache.cache_control(
                entry.expires_at - time.time()
            )
            frontcache.note(address, entry.versions)
        if not _CONDITIONAL_HEADERS.isdisjoint(request.META):
            response = get_conditional_response(
                request, headers["ETag"], entry.last_modified, response
            )
            if response.status_code == 304:  # a 304 keeps the page's CSP
                for name, value in headers.items():
                    if name.lower().startswith("content-security-policy"):
                        response[name] = value
                response["Content-Length"] = "0"
        return response


# Receivers


def content_changed(sender, **kwargs) -> None:
    """Something any public page may show was saved or deleted."""
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in, not a change to any page
    bump(SITE)


def connect_signals() -> None:
    """Bump the site version when posts, pages, menus, categories, tags,
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
