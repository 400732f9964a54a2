"""The sitemap: published posts and pages, and the categories and tags that
lead to them.

`/sitemap.xml` is an index of sections (`/sitemap-posts.xml`, …), each in
pages of at most `SiteUrlSitemap.limit` addresses (`?p=2`, …), so that no
response grows with the blog: the index itself asks each section only for
its count and its latest change.

Locations are absolute from settings.SITE_URL, whatever host the request used
(the index's from the Site, which every start points at SITE_URL: blog/apps.py).
"""

import datetime
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import x_robots_tag
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.core.paginator import Page as ListPage
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import RFC3986_SUBDELIMS, http_date
from taggit.models import Tag, TaggedItem

from blog.models import Category, Page, Post, site_categories


class SectionPaginator(Paginator):
    """Django's paginator, but a page is read without counting the section
    first: only the index needs to know how many pages there are, and a
    count reads every published post."""

    def page(self, number) -> ListPage:
        number = self.validate_number_in_part(number)
        bottom = (number - 1) * self.per_page
        items = list(self.object_list[bottom : bottom + self.per_page])
        if not items and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return self._get_page(items, number, self)

    def validate_number_in_part(self, number) -> int:
        """validate_number() short of comparing with the number of pages."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class SiteUrlSitemap(Sitemap):
    limit = 2000  # addresses per page of a section

    @property
    def paginator(self) -> SectionPaginator:
        return SectionPaginator(self._items(), self.limit)

    @property
    def protocol(self) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_protocol(self, protocol: str | None = None) -> str:
        return self.protocol

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc

    def entries(self, page) -> list[str]:
        """The <url> elements of page `page` of the section (EmptyPage or
        PageNotAnInteger past its end), from Django's get_urls()."""
        entries = []
        for url in self.get_urls(page=page):
            lastmod = url["lastmod"]
            when = f"<lastmod>{lastmod_date(lastmod)}</lastmod>" if lastmod else ""
            entries.append(f"  <url><loc>{escape(url['location'])}</loc>{when}</url>\n")
        return entries


def latest_change(published: QuerySet):
    """The newest lastmod of a section, in one query: that of the item last
    updated and of the item last published (a scheduled post changes when
    it goes live, unsaved), each found at the end of an index. Django's
    default reads every item for it, and so did MAX() of both on SQLite."""
    newest = [
        Subquery(published.order_by(f"-{field}").values("pk")[:1])
        for field in ("updated_at", "published_at")
    ]
    items = published.model.objects.filter(pk__in=newest)
    return max(
        (max(times) for times in items.values_list("updated_at", "published_at")),
        default=None,
    )


class PostSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet:
        """Rows, not posts: a page of the section holds 2,000 of them."""
        return (
            Post.objects.published()
            .order_by("-published_at", "-pk")
            .values_list("slug", "published_at", "updated_at", named=True)
        )

    def location(self, post) -> str:
        return self._location(post.slug, timezone.localtime(post.published_at), {})

    def _location(self, slug: str, when: datetime.datetime, months: dict) -> str:
        """What post.get_absolute_url() says, with one reverse() per month
        of the page (2,000 of them were a quarter of its time)."""
        month = months.get((when.year, when.month))
        if month is None:
            month = reverse(
                "blog:post",
                kwargs={"year": when.year, "month": f"{when.month:02d}", "slug": "s"},
            ).removesuffix("s/")
            months[when.year, when.month] = month
        # As reverse() escapes a slug (any alphabet) into a path.
        return f"{month}{quote(slug, safe=RFC3986_SUBDELIMS + '/~:@')}/"

    def lastmod(self, post):
        return max(post.updated_at, post.published_at)

    def get_latest_lastmod(self):
        return latest_change(self.items())

    def entries(self, page) -> list[str]:
        """What get_urls() gives, written straight from the rows: through
        Django's Sitemap, each address cost four dynamic look-ups, a dict
        and two time zone conversions (13.7 µs of 2,000 a page)."""
        rows = self.paginator.page(page).object_list
        zone = timezone.get_current_timezone()
        start = f"{self.get_protocol()}://{self.get_domain()}"
        months: dict = {}
        entries = []
        latest = None
        for slug, published_at, updated_at in rows:
            lastmod = max(updated_at, published_at)
            if latest is None or lastmod > latest:
                latest = lastmod
            location = self._location(slug, published_at.astimezone(zone), months)
            day = lastmod.astimezone(zone).strftime("%Y-%m-%d")
            entries.append(
                f"  <url><loc>{escape(start + location)}</loc>"
                f"<lastmod>{day}</lastmod></url>\n"
            )
        self.latest_lastmod = latest
        return entries


class PageSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet:
        return (
            Page.objects.published()
            .only("path", "published_at", "updated_at")
            .order_by("path")
        )

    def lastmod(self, page: Page):
        return max(page.updated_at, page.published_at)

    def get_latest_lastmod(self):
        return latest_change(self.items())


class CategorySitemap(SiteUrlSitemap):
    def items(self) -> list[Category]:
        """Categories with a published post in them or below them."""
        categories = site_categories()
        published = Post.objects.published_by_other_index()
        # Each category's first published post, filed there or also listed
        # there, found through the category's index: one query for every
        # category, none that reads every post.
        filled = set(
            Category.objects.filter(
                Exists(published.filter(category=OuterRef("pk")))
                | Exists(
                    Post.categories.through.objects.filter(
                        category=OuterRef("pk"),
                        post__in=published.filter(pk=OuterRef("post_id")),
                    )
                )
            ).values_list("pk", flat=True)
        )
        return [
            category
            for category in categories.values()
            if filled & category.descendant_ids(categories)
        ]


class TagSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet:
        """Tags that at least one published post carries: each tag's first
        such post, found through the tag's index (the count the sitemap
        index asks for costs one lookup per tag, not one per post)."""
        published = Post.objects.published_by_other_index()
        carried = TaggedItem.objects.filter(
            tag=OuterRef("pk"),
            content_type=ContentType.objects.get_for_model(Post),
            object_id__in=published.filter(pk=OuterRef("object_id")).values("pk"),
        )
        return Tag.objects.filter(Exists(carried)).order_by("name")

    def location(self, tag: Tag) -> str:
        return reverse("blog:tag", args=[tag.slug])


sitemaps = {
    "posts": PostSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
}

URLSET = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{}</urlset>\n'
)


@x_robots_tag
def section(request: HttpRequest, section: str) -> HttpResponse:
    """A page of one section (`?p=`), as django.contrib.sitemaps' sitemap
    view answers it (the same addresses and dates, headers and 404s), less
    what our sections never have (priorities, change frequencies, other
    languages), written in Python: a page of 2,000 addresses cost 110 ms
    of CPU through the template, one template variable at a time."""
    if section not in sitemaps:
        raise Http404(f"No sitemap available for section: {section!r}")
    site = sitemaps[section]()
    try:
        entries = site.entries(request.GET.get("p", 1))
    except (EmptyPage, PageNotAnInteger):
        raise Http404("No such page of the sitemap.") from None
    response = HttpResponse(
        URLSET.format("".join(entries)), content_type="application/xml"
    )
    latest = getattr(site, "latest_lastmod", None)
    if latest is not None:
        response.headers["Last-Modified"] = http_date(latest.timestamp())
    return response


def lastmod_date(when) -> str:
    """The day of `when` where the site is, as the template's |date:"Y-m-d"."""
    if isinstance(when, datetime.datetime) and timezone.is_aware(when):
        when = timezone.localtime(when)
    return when.strftime("%Y-%m-%d")
