"""The sitemap: published posts and pages, and the categories and tags that
lead to them.

`/sitemap.xml` is an index of sections (`/sitemap-posts.xml`, …), each in
pages of at most `SiteUrlSitemap.limit` addresses (`?p=2`, …), so that no
response grows with the blog: the index itself asks each section only for
its count and its latest change.

Locations are absolute from settings.SITE_URL, whatever host the request used
(the index's from the Site, which every start points at SITE_URL: blog/apps.py).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.urls import reverse
from taggit.models import Tag

from blog.models import Category, Page, Post


class SiteUrlSitemap(Sitemap):
    limit = 2000  # addresses per page of a section

    @property
    def protocol(self) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_protocol(self, protocol: str | None = None) -> str:
        return self.protocol

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc


def latest_change(published: QuerySet):
    """The newest lastmod of a section in one query (Django's default reads
    every item for it)."""
    latest = published.aggregate(
        updated=Max("updated_at"), published=Max("published_at")
    )
    times = [time for time in latest.values() if time is not None]
    return max(times, default=None)


class PostSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet:
        return (
            Post.objects.published()
            .only("slug", "published_at", "created_at", "updated_at")
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, post: Post):
        return max(post.updated_at, post.published_at)

    def get_latest_lastmod(self):
        return latest_change(self.items())


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
        categories = Category.objects.by_id()
        published = Post.objects.published()
        filled = set(
            published.filter(category__isnull=False)
            .values_list("category_id", flat=True)
            .distinct()
        ) | set(
            Post.categories.through.objects.filter(post__in=published)
            .values_list("category_id", flat=True)
            .distinct()
        )
        return [
            category
            for category in categories.values()
            if filled & category.descendant_ids(categories)
        ]


class TagSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet:
        """Tags that at least one published post carries."""
        return Tag.objects.filter(
            pk__in=Post.objects.published().values("tags")
        ).order_by("name")

    def location(self, tag: Tag) -> str:
        return reverse("blog:tag", args=[tag.slug])


sitemaps = {
    "posts": PostSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
}
