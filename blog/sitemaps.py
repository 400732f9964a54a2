"""The sitemap: published posts and pages, and the categories and tags that
lead to them.

Locations are absolute from settings.SITE_URL, whatever host the request used.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse
from taggit.models import Tag

from blog.models import Category, Page, Post


class SiteUrlSitemap(Sitemap):
    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class PostSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet:
        return (
            Post.objects.published()
            .only("slug", "published_at", "created_at", "updated_at")
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, post: Post):
        return max(post.updated_at, post.published_at)


class PageSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet:
        return (
            Page.objects.published()
            .only("path", "published_at", "updated_at")
            .order_by("path")
        )

    def lastmod(self, page: Page):
        return max(page.updated_at, page.published_at)


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
