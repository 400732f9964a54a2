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
from django.contrib.contenttypes.models import ContentType
from django.contrib.sitemaps import Sitemap
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.urls import reverse
from taggit.models import Tag, TaggedItem

from blog.models import Category, Page, Post, site_categories


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
