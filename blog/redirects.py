"""Records permanent redirects for moved URLs.

`django.contrib.redirects` answers a 404 with a 301 when a `Redirect` matches
the requested path. Everything that moves a URL (a post's changed slug, the
WordPress importer's old permalinks) records it through `add_redirect`, which
keeps the table free of chains and loops: a reader is always one hop away
from the live page.
"""

from urllib.parse import unquote, unquote_to_bytes, urlencode, urlsplit

from django.conf import settings
from django.contrib.redirects import middleware
from django.contrib.redirects.models import Redirect
from django.db import transaction
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils.encoding import escape_uri_path, repercent_broken_unicode

PATH_MAX_LENGTH = Redirect._meta.get_field("old_path").max_length

# WordPress's "plain" permalinks: /?p=123 (post), /?page_id=7 (page),
# /?cat=4 (category). They reach the home page, which is not a 404, so the
# home view looks them up itself (`query_string_redirect`), and answers 404
# for one that leads nowhere the reader may go, as WordPress does.
WORDPRESS_QUERY_PARAMETERS = ("p", "page_id", "cat", "tag", "author")


def normalise_path(path: str) -> str:
    """`path` as `RedirectFallbackMiddleware` looks it up, whatever its escaping.

    The middleware asks for `request.get_full_path()`: the decoded path
    escaped again, with uppercase escapes. WordPress writes lowercase ones
    (`/%e8%b0%83%e8%af%95/`), an old link may hold the characters
    themselves (`/调试/`): all three are stored as the first. Bytes that are
    not UTF-8 stay escaped, as Django keeps them.
    """
    path, sep, query = path.partition("?")
    decoded = repercent_broken_unicode(unquote_to_bytes(path)).decode()
    return escape_uri_path(decoded) + sep + query


def decoded_path(path: str) -> str:
    """A site-relative URL's path as `resolve()` and `request.path` have it."""
    return unquote(urlsplit(path).path)


def add_redirect(old_path: str, new_path: str) -> Redirect | None:
    """Send `old_path` to `new_path` from now on, permanently.

    Paths are site-relative ("/2016/05/old-slug/", "/?p=123"). Redirects that
    pointed to `old_path` are pointed at `new_path` (no chains), and a redirect
    away from `new_path` is dropped, since that page is live again (no loops).
    Returns the redirect, or None when the two paths are the same.
    """
    old_path, new_path = normalise_path(old_path), normalise_path(new_path)
    for path in (old_path, new_path):
        if not path.startswith("/"):
            raise ValueError(f"Redirect paths start with '/': {path!r}")
        if len(path) > PATH_MAX_LENGTH:
            raise ValueError(
                f"Redirect paths are at most {PATH_MAX_LENGTH} characters: {path!r}"
            )
    site_redirects = Redirect.objects.filter(site_id=settings.SITE_ID)
    with transaction.atomic():
        site_redirects.filter(old_path=new_path).delete()
        if old_path == new_path:
            return None
        site_redirects.filter(new_path=old_path).update(new_path=new_path)
        redirect, _ = site_redirects.update_or_create(
            site_id=settings.SITE_ID,
            old_path=old_path,
            defaults={"new_path": new_path},
        )
    return redirect


def is_old_address(request: HttpRequest) -> bool:
    """Whether the request names a WordPress plain permalink (`?p=123`)."""
    return any(name in request.GET for name in WORDPRESS_QUERY_PARAMETERS)


def query_string_redirect(request: HttpRequest) -> str | None:
    """Where an old `/?p=123`-style address now lives, if it was recorded.

    Costs one query, and only when such a parameter is present (two when it
    leads to a post: one the reader may not open is not given away).
    """
    present = [name for name in WORDPRESS_QUERY_PARAMETERS if name in request.GET]
    if not present:
        return None
    candidates = {request.get_full_path()}
    candidates.update(
        f"{request.path}?{urlencode({name: request.GET[name]})}" for name in present
    )
    target = (
        Redirect.objects.filter(site_id=settings.SITE_ID, old_path__in=candidates)
        .exclude(new_path="")
        .values_list("new_path", flat=True)
        .first()
    )
    if target is None or not _may_open(request, target):
        return None
    return target


def _may_open(request: HttpRequest, path: str) -> bool:
    """False for a post or page the reader may not open (a private one, a
    draft): its old address then says no more than an unknown one (one
    query)."""
    from blog.models import Page, Post  # blog.models imports this module

    try:
        match = resolve(decoded_path(path))
    except Resolver404:
        return True
    if match.view_name == "blog:page":
        # Any path matches the page route: only a page that is there and
        # hidden from this reader stops the redirect.
        visible = Page.objects.visible_to(request.user).values("pk")
        hidden = Page.objects.filter(path=match.kwargs["path"]).exclude(pk__in=visible)
        return not hidden.exists()
    if match.view_name != "blog:post":
        return True
    posts = Post.objects.visible_to(request.user)
    return posts.filter(slug=match.kwargs["slug"]).exists()


class RedirectFallbackMiddleware(middleware.RedirectFallbackMiddleware):
    """Django's, but a redirect to a post the reader may not open stays a 404.

    The old address of a draft or private post (`/?p=ID`, its WordPress
    permalink) would otherwise tell anyone where it lives (#14.6).
    """

    def process_response(self, request, response):
        found = super().process_response(request, response)
        if (
            found is not response
            and found.has_header("Location")
            and not _may_open(request, found["Location"])
        ):
            return response
        return found
