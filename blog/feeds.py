"""RSS 2.0 and Atom feeds of published posts: the site, a category, a tag, an author.

Links are absolute from settings.SITE_URL, never from the request's Host
header. Each feed answers conditional requests (ETag and Last-Modified, then
304) after one cheap query over its newest posts, before any post is rendered.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import condition
from taggit.models import Tag

from blog import markup, pagecache
from blog.links import absolute
from blog.models import Post, SiteIdentity, category_by_slug, display_name

FEED_LENGTH = 20
# A scope of no more posts than this (a category or tag of a few posts) is
# read through its own index, as a listing of few posts is
# (blog.views.ListingPaginator): walked from the newest post of the blog,
# the publication index was read whole to find them. Fewer than a listing
# counts: asking whether a category of 5,000 holds more than 500 cost its
# cold feed 3 ms (of 16), more than 100 0.6 ms.
FEW = 100


@dataclass
class FeedScope:
    """Which posts a feed holds, and the page they belong to."""

    title: str
    description: str
    page_url: str
    posts: QuerySet = field(repr=False)
    # The same posts through the scope's own index, looking no further than
    # `most` of them (a function of `most`), for a category or a tag.
    few: Callable[[int], QuerySet] | None = field(default=None, repr=False)
    feed_url: str = ""
    _state: dict | None = field(default=None, repr=False)

    def state(self) -> dict:
        """What the feed shows, in one query over its FEED_LENGTH newest
        posts (never the whole scope: its cost does not grow with the
        blog): how many, which (`posts`, a digest of their ids) and when
        the newest change among them was.

        A scheduled post becomes visible at its publish time without being
        saved again, so that time counts as a change too. Which posts are
        shown catches a deletion, which leaves no newer timestamp behind.
        """
        if self._state is None:
            self._state = pagecache.cached(
                "feed-state",
                self.page_url,
                pagecache.version(),
                build=self._read_state,
            )
        return self._state

    def _read_state(self) -> dict:
        posts = self.posts
        if self.few is not None:
            few = self.few(FEW + 1)
            if few.order_by()[: FEW + 1].count() <= FEW:
                posts = few
        shown = list(
            posts.order_by("-published_at", "-pk").values_list(
                "pk", "updated_at", "published_at"
            )[:FEED_LENGTH]
        )
        ids = [pk for pk, *_ in shown]
        return {
            "count": len(shown),
            "ids": ids,
            "posts": zlib.crc32(",".join(map(str, ids)).encode()),
            "changed": max((max(times) for _, *times in shown), default=None),
        }


def feed_scope(
    request: HttpRequest, kind: str = "site", slug: str = "", username: str = ""
) -> FeedScope:
    """The scope named by the URL, resolved once per request."""
    if getattr(request, "feed_scope", None) is not None:
        return request.feed_scope
    site_name = SiteIdentity.current().title
    posts = Post.objects.published()
    if kind == "category":
        category, categories = category_by_slug(slug)
        if category is None:
            raise Http404("No such category.")
        scope = FeedScope(
            title=f"{category.name} · {site_name}",
            description=_("New posts in %(name)s, its subcategories included.")
            % {"name": category.name},
            page_url=category.get_absolute_url(),
            posts=posts.in_category(category, categories),
            few=lambda most: Post.objects.published_in_category(
                category, categories, most
            ),
        )
    elif kind == "tag":
        tag = get_object_or_404(Tag, slug=slug)
        scope = FeedScope(
            title=_("Tagged “%(name)s”") % {"name": tag.name} + f" · {site_name}",
            description=_("New posts tagged “%(name)s”.") % {"name": tag.name},
            page_url=reverse("blog:tag", args=[tag.slug]),
            posts=posts.filter(tags__in=[tag]),
            # Joined from the tag's items, so a count stops after `most`.
            few=lambda most: Post.objects.published_by_other_index().filter(
                tags__in=[tag]
            ),
        )
    elif kind == "author":
        author = get_object_or_404(get_user_model(), username=username, is_active=True)
        name = display_name(author)
        scope = FeedScope(
            title=_("Posts by %(name)s") % {"name": name} + f" · {site_name}",
            description=_("New posts by %(name)s.") % {"name": name},
            page_url=reverse("blog:author", args=[author.get_username()]),
            posts=posts.filter(author=author),
        )
    else:
        scope = FeedScope(
            title=site_name,
            description=_("New posts on %(site)s.") % {"site": site_name},
            page_url=reverse("blog:home"),
            posts=posts,
        )
    if kind != "site" and not scope.state()["count"]:
        # As its page: a category, tag or author with nothing published
        # (only drafts, say) is not named to anyone.
        raise Http404("Nothing is published here yet.")
    request.feed_scope = scope
    return scope


def feed_etag(request: HttpRequest, **kwargs) -> str:
    state = feed_scope(request, **kwargs).state()
    changed = state["changed"].timestamp() if state["changed"] else 0
    # The feed's words and dates follow the site's language and time zone.
    return f'"{state["count"]}-{state["posts"]:x}-{changed:.6f}-{get_language()}"'


def feed_last_modified(request: HttpRequest, **kwargs):
    return feed_scope(request, **kwargs).state()["changed"]


class PostFeed(Feed):
    """The newest published posts of a scope, as RSS 2.0."""

    feed_type = Rss201rev2Feed

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        # Syndication dates only the posts shown; `condition` stamps the
        # scope's own Last-Modified, the one conditional requests compare.
        del response.headers["Last-Modified"]
        return response

    def get_object(self, request: HttpRequest, **kwargs) -> FeedScope:
        scope = feed_scope(request, **kwargs)
        scope.feed_url = absolute(request.path)
        return scope

    def title(self, scope: FeedScope) -> str:
        return scope.title

    def description(self, scope: FeedScope) -> str:
        return scope.description

    subtitle = description

    def link(self, scope: FeedScope) -> str:
        return absolute(scope.page_url)

    def feed_url(self, scope: FeedScope) -> str:
        return scope.feed_url

    def items(self, scope: FeedScope) -> QuerySet:
        """The posts the state found, by id."""
        also_in = Prefetch("categories", to_attr="other_categories")
        posts = Post.objects.published_among(scope.state()["ids"])
        return posts.for_listing().prefetch_related(also_in)

    def item_title(self, post: Post) -> str:
        return post.title

    def item_description(self, post: Post) -> str:
        # A password-protected post's body is for readers who typed it.
        if post.is_protected:
            return post.summary
        return markup.markdownify(post.body)

    def item_link(self, post: Post) -> str:
        return absolute(post.get_absolute_url())

    def item_pubdate(self, post: Post):
        return post.published_at

    def item_updateddate(self, post: Post):
        # A post saved before its scheduled time was last changed when it
        # went public, not earlier.
        return max(post.updated_at, post.published_at)

    def item_author_name(self, post: Post) -> str:
        return display_name(post.author)

    def item_author_link(self, post: Post) -> str:
        return absolute(reverse("blog:author", args=[post.author.get_username()]))

    def item_categories(self, post: Post) -> list[str]:
        """The primary category first, then the others, then the tags."""
        names = [post.category.name] if post.category else []
        names += [c.name for c in post.other_categories if c.pk != post.category_id]
        return names + [tag.name for tag in post.listed_tags]


class AtomPostFeed(PostFeed):
    """The same posts as Atom; each entry carries its author and update time."""

    feed_type = Atom1Feed


def _conditional(feed: Feed):
    """The feed, answering conditional requests from its scope's state; both
    kept under the site version (the feed is the same for every reader)."""
    return condition(etag_func=feed_etag, last_modified_func=feed_last_modified)(
        pagecache.kept_response(feed)
    )


rss = _conditional(PostFeed())
atom = _conditional(AtomPostFeed())
