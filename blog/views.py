import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.paginator import Page as ListPage
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.encoding import escape_uri_path
from django.utils.functional import SimpleLazyObject as lazy
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from taggit.models import Tag

from blog import pagecache, postpass, redirects, search, seo
from blog.models import (
    Page,
    Post,
    PostQuerySet,
    SiteIdentity,
    category_by_slug,
    display_name,
)
from blog.worker import RetryScheduled, worker_state

RETRY_SCHEDULED = f"{RetryScheduled.__module__}.{RetryScheduled.__qualname__}"


# A listing counts its posts COUNTED_PAGES pages at a time: on a big blog its
# pages say "Page 2 of more than 50" rather than count every post of the
# listing after each change to the site (every post of a category: the
# dearest query of a cold listing page, and one that grew with the blog).
COUNTED_PAGES = 50


class ListingPaginator(Paginator):
    """A paginator for a published listing the same for every reader.

    It counts posts only as far as the end of the run of COUNTED_PAGES
    pages that holds page `number` (pages 1-50 count 50 pages' worth, pages
    51-100 a hundred...), plus one post that tells whether there are more
    (`more`), and keeps that count under the site version, as `listing`
    names it. Counting never goes further than reaching the page does.

    `few(most)` is the same posts found through the listing's own index (a
    category's, a tag's: PublishedQuerySet.published_by_other_index()),
    looking no further than `most` of them. The posts are counted through
    it, and a listing of no more posts than that count reaches is read
    through it too: its ids sorted, then the page's posts by id. The
    listing's queryset walks the publication index from the newest post
    until it has a page: the right way for a listing with posts all
    through the blog, but for a category of three old posts on a blog of
    20,000 it read the whole index (32 ms, and 16 ms to count them,
    against 0.4 and 0.1 ms through the category's index)."""

    def __init__(self, posts, per_page, *, listing: tuple, number: int, few=None):
        # `posts()` makes the listing's queryset, only when the page's posts
        # are read (the cached list of posts, _post_list.html, seldom does).
        super().__init__(None, per_page)
        self.posts = posts
        self.listing = listing
        self.counted_pages = COUNTED_PAGES * max(1, -(-number // COUNTED_PAGES))
        self.few = few

    @cached_property
    def count(self) -> int:
        limit = self.counted_pages * self.per_page + 1

        def count() -> int:
            posts = self.posts() if self.few is None else self.few(limit)
            return posts.order_by()[:limit].count()

        return pagecache.cached(
            "listing-count", *self.listing, limit, pagecache.version(), build=count
        )

    @property
    def more(self) -> bool:
        """Whether there are posts past the pages counted."""
        return self.count > self.counted_pages * self.per_page

    def page(self, number) -> ListPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page

        def posts() -> PostQuerySet:
            if self.few is None or self.more:
                return self.posts()[bottom:top]
            few = self.few(self.counted_pages * self.per_page + 1)
            ids = few.order_by("-published_at", "-pk").values("pk")
            return Post.objects.published_among(ids[bottom:top]).for_listing()

        return self._get_page(lazy(posts), number, self)


def paginate(
    request: HttpRequest, posts, listing: tuple | None = None, few=None
) -> ListPage:
    """The requested page of `posts`; a bad page number is a 404, not a 500.
    With `listing` (what names a listing of published posts), `posts` is a
    function that makes the queryset when the page's posts are read, they
    are counted only as far as the page asked for needs, once per site
    version, and with `few`, read through the listing's own index when they
    are few (ListingPaginator)."""
    per_page = SiteIdentity.current().posts_per_page
    number = request.GET.get("page") or 1
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise Http404("No such page.") from None
    if number < 1:
        raise Http404("No such page.")
    if listing is None:
        paginator = Paginator(posts, per_page)
    else:
        paginator = ListingPaginator(
            posts, per_page, listing=listing, number=number, few=few
        )
    if number > paginator.num_pages:
        raise Http404("No such page.")
    return paginator.page(number)


def home(request: HttpRequest) -> HttpResponse:
    moved_to = redirects.query_string_redirect(request)
    if moved_to:
        return redirect(moved_to, permanent=True)
    if redirects.is_old_address(request):
        # An old address of something gone, unknown, or not for this reader
        # (a draft, a private post): the same 404 for all three.
        raise Http404("No such post.")
    page = paginate(
        request,
        lambda: Post.objects.published().for_listing().sticky_first(),
        ("home",),
    )
    meta = seo.listing_meta(request, page, title=SiteIdentity.current().title)
    return render(request, "blog/home.html", {"page": page, "page_meta": meta})


def visible_post(user, slug: str) -> Post:
    """The post at `slug` if `user` may open it, else a 404.

    Everyone but staff sees the same published posts, so the post (with its
    author and category) comes from the cache under the site version; staff,
    who may see drafts, always read it afresh.
    """

    def read() -> Post:
        # Made only on a miss: the queryset alone was 0.2 ms of a warm page.
        posts = Post.objects.visible_to(user).select_related("author", "category")
        return get_object_or_404(posts, slug=slug)

    if user.is_staff:
        return read()
    return pagecache.cached("post", slug, pagecache.version(), build=read)


@require_http_methods(["GET", "HEAD", "POST"])
def post_detail(request: HttpRequest, year: int, month: str, slug: str) -> HttpResponse:
    """A post; for a password-protected one, the password form until the
    reader has typed the password (POSTed here, remembered by a cookie)."""
    post = visible_post(request.user, slug)
    # request.path is decoded, addresses are escaped (a slug may be Unicode).
    if escape_uri_path(request.path) != post.get_absolute_url():
        return redirect(post.get_absolute_url(), permanent=True)
    if request.method == "POST" and not post.is_protected:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    password_form = None
    if post.is_protected and not postpass.unlocked(request, post):
        password_form = postpass.PostPasswordForm(post, request.POST or None)
        if password_form.is_valid():
            response = redirect(post.get_absolute_url())
            response.status_code = 303  # see the post, by GET
            postpass.remember(response, password_form.cleaned_data["password"])
            add_never_cache_headers(response)
            return response
    # What the page shows around the post is read only when the template's
    # {% cache %} fragments miss: lazy, each at most once.
    breadcrumb = lazy(post.breadcrumb)
    tags = lazy(post.tag_list)
    response = render(
        request,
        "blog/post_detail.html",
        {
            "post": post,
            "password_form": password_form,
            "breadcrumb": breadcrumb,
            "tags": tags,
            "neighbours": lazy(post.neighbours),
            "related_posts": lazy(lambda: list(Post.objects.related_to(post, tags))),
            "page_meta": lazy(lambda: seo.post_meta(post, breadcrumb, tags)),
        },
    )
    if not post.is_public or post.is_protected:
        # Drafts and private posts are for their editors only; a protected
        # post shows or hides its body by the reader's cookie. No cache may
        # keep either (the page cache stores nothing marked private).
        add_never_cache_headers(response)
    elif request.user.is_staff:
        # Their page carries an "Edit this post" link.
        patch_cache_control(response, private=True)
    return response


def visible_page(user, path: str) -> Page:
    """The page at `path` if `user` may open it, else a 404 (cached for
    readers who are not staff, as posts are)."""

    def read() -> Page:
        pages = Page.objects.visible_to(user).select_related("author")
        return get_object_or_404(pages, path=path)

    if user.is_staff:
        return read()
    return pagecache.cached("page", path, pagecache.version(), build=read)


def page_detail(request: HttpRequest, path: str) -> HttpResponse:
    page = visible_page(request.user, path)
    breadcrumb = lazy(lambda: page.breadcrumb(request.user))
    response = render(
        request,
        "blog/page_detail.html",
        {
            "page": page,
            "breadcrumb": breadcrumb,
            "page_meta": lazy(lambda: seo.page_meta(page, breadcrumb)),
        },
    )
    if request.user.is_staff:
        # Their page carries an "Edit this page" link.
        patch_cache_control(response, private=True)
    return response


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category, categories = category_by_slug(slug)
    if category is None:
        raise Http404("No such category.")

    def posts() -> PostQuerySet:
        return Post.objects.published().in_category(category, categories).for_listing()

    def few(most: int) -> PostQuerySet:
        return Post.objects.published_in_category(category, categories, most)

    breadcrumb = category.ancestors(categories)
    page = paginate(request, posts, ("category", category.pk), few)
    if not page.paginator.count:  # only drafts there: not even its name
        raise Http404("Nothing is published in this category yet.")
    return render(
        request,
        "blog/category_detail.html",
        {
            "category": category,
            "breadcrumb": breadcrumb,
            "subcategories": [
                c for c in categories.values() if c.parent_id == category.pk
            ],
            "page": page,
            "page_meta": seo.listing_meta(
                request,
                page,
                title=category.name,
                description=category.description
                or _("Posts filed under %(name)s.") % {"name": category.name},
                breadcrumb=breadcrumb,
            ),
        },
    )


def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)

    def posts() -> PostQuerySet:
        return Post.objects.published().filter(tags__in=[tag]).for_listing()

    def few(most: int) -> PostQuerySet:
        # Joined from the tag's items, so a count stops after `most`.
        return Post.objects.published_by_other_index().filter(tags__in=[tag])

    page = paginate(request, posts, ("tag", tag.pk), few)
    if not page.paginator.count:  # only drafts there: not even its name
        raise Http404("Nothing is published under this tag yet.")
    meta = seo.listing_meta(
        request,
        page,
        title=_("Tagged “%(name)s”") % {"name": tag.name},
        description=_("Posts tagged “%(name)s”.") % {"name": tag.name},
    )
    return render(
        request, "blog/tag_detail.html", {"tag": tag, "page": page, "page_meta": meta}
    )


def author_detail(request: HttpRequest, username: str) -> HttpResponse:
    author = get_object_or_404(get_user_model(), username=username, is_active=True)
    page = paginate(
        request,
        lambda: Post.objects.published().filter(author=author).for_listing(),
        ("author", author.pk),
    )
    if not page.paginator.count:
        raise Http404("This author has not published anything yet.")
    name = display_name(author)
    meta = seo.listing_meta(
        request,
        page,
        title=_("Posts by %(name)s") % {"name": name},
        description=_("Posts by %(name)s.") % {"name": name},
    )
    return render(
        request,
        "blog/author_detail.html",
        {"author": author, "page": page, "page_meta": meta},
    )


def _archive(
    request: HttpRequest, start: datetime.date, end: datetime.date, label: str
):
    tz = timezone.get_current_timezone()

    def posts() -> PostQuerySet:
        return (
            Post.objects.published()
            .filter(
                published_at__gte=datetime.datetime.combine(start, datetime.time(), tz),
                published_at__lt=datetime.datetime.combine(end, datetime.time(), tz),
            )
            .for_listing()
        )

    listing = ("archive", start.isoformat(), end.isoformat(), str(tz))
    page = paginate(request, posts, listing)
    meta = seo.listing_meta(
        request,
        page,
        title=_("Archive: %(label)s") % {"label": label},
        description=_("Posts published in %(label)s.") % {"label": label},
    )
    return render(
        request,
        "blog/archive.html",
        {"label": label, "page": page, "page_meta": meta},
    )


def archive_year(request: HttpRequest, year: int) -> HttpResponse:
    if not 1 <= year < 9999:
        raise Http404("No such year.")
    return _archive(
        request, datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1), str(year)
    )


def archive_month(request: HttpRequest, year: int, month: str) -> HttpResponse:
    if not (1 <= year < 9999 and 1 <= int(month) <= 12):
        raise Http404("No such month.")
    start = datetime.date(year, int(month), 1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return _archive(
        request, start, end, formats.date_format(start, "YEAR_MONTH_FORMAT")
    )


def search_page(request: HttpRequest) -> HttpResponse:
    query, shortened = search.clean_query(request.GET.get("q", ""))
    page, pages, more = None, [], False
    if query:
        found, more = search.ranked_matches(query)
        page = paginate(request, found)
        page.object_list = search.posts_in_order(page.object_list)
        search.add_snippets(page, query)
        if page.number == 1:
            pages = search.matching_pages(query)
    meta = seo.listing_meta(
        request,
        page,
        title=_("Search: %(query)s") % {"query": query}
        if query
        else pgettext("page", "Search"),
        description=_("Posts matching “%(query)s”.") % {"query": query}
        if query
        else "",
        params={"q": query} if query else None,
    )
    return render(
        request,
        "blog/search.html",
        {
            "query": query,
            "shortened": shortened,
            "page": page,
            "more": more,
            "pages": pages,
            "page_meta": meta,
        },
    )


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        f"Sitemap: {settings.SITE_URL}{reverse('blog:sitemap')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on pages that link no icon (the
    admin's, a feed, an image): the site's icon."""
    return redirect(static("favicon.svg"), permanent=True)


@never_cache
@require_http_methods(["GET"])
def csrf_token(request: HttpRequest) -> JsonResponse:
    """The reader's CSRF token (and cookie), for the forms of a page served
    the same to every reader (static/js/csrf.js fills them in)."""
    return JsonResponse({"token": get_token(request)})


def healthz(request: HttpRequest) -> JsonResponse:
    """Database, cache and task queue state as JSON.

    503 only when the database is down: without it nothing serves. A cache
    that does not answer (Redis down: pages are served uncached) or a stuck
    or failing task queue, or a task worker that has not checked in for a
    minute, make the status "degraded", with a 200, so that a
    load balancer keeps the server.
    """
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        cache.set("healthz", "ok", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "error: no answer"
    except Exception as exc:
        checks["cache"] = f"error: {exc.__class__.__name__}"
    serving = checks["database"] == "ok"
    queue = task_queue_health() if serving else None
    status = "ok" if serving else "error"
    if serving and (checks["cache"] != "ok" or queue["status"] != "ok"):
        status = "degraded"
    return JsonResponse(
        {"status": status, **checks, "tasks": queue},
        status=200 if serving else 503,
        headers={"Cache-Control": "no-store"},
    )


def task_queue_health(*, stuck_after=datetime.timedelta(minutes=10)) -> dict:
    """Tasks due for `stuck_after` without a worker taking them (is
    `manage.py db_worker` running?), tasks that failed in the last day for
    good (an attempt that queued its own retry is not counted), and whether
    a worker has checked in lately (blog/worker.py)."""
    now = timezone.now()
    cutoff = now - stuck_after
    stuck = (
        DBTaskResult.objects.ready()
        .filter(
            Q(run_after__lt=cutoff)
            | Q(run_after=get_date_max(), enqueued_at__lt=cutoff)
        )
        .count()
    )
    failed = (
        DBTaskResult.objects.filter(
            status=TaskResultStatus.FAILED,
            finished_at__gte=now - datetime.timedelta(days=1),
        )
        .exclude(exception_class_path=RETRY_SCHEDULED)
        .count()
    )
    worker = worker_state()
    return {
        "status": "ok" if not (stuck or failed) and worker == "ok" else "degraded",
        "waiting_too_long": stuck,
        "failed_last_day": failed,
        "worker": worker,
    }
