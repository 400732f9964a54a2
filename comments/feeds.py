"""An RSS feed of each post's approved comments."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.translation import gettext as _

from blog.links import absolute
from blog.models import Post, SiteIdentity
from comments.models import Comment

FEED_LENGTH = 50


class PostCommentsFeed(Feed):
    """/comments/feed/<post id>/: the latest approved comments, newest first."""

    feed_type = Rss201rev2Feed

    def get_object(self, request: HttpRequest, post_id: int) -> Post:
        return get_object_or_404(Post.objects.published(), pk=post_id)

    def title(self, post: Post) -> str:
        title = _("Comments on “%(title)s”") % {"title": post.title}
        return f"{title} · {SiteIdentity.current().title}"

    def link(self, post: Post) -> str:
        return absolute(f"{post.get_absolute_url()}#comments")

    def feed_url(self, post: Post) -> str:
        return absolute(reverse("comments:feed", args=[post.pk]))

    def description(self, post: Post) -> str:
        return _("The latest comments on “%(title)s”.") % {"title": post.title}

    def items(self, post: Post) -> list[Comment]:
        if post.is_protected:
            return []  # for readers who typed the password, on the post
        return list(
            Comment.objects.approved()
            .for_post(post)
            .select_related(None)
            .select_related("user")
            .order_by("-submit_date", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, comment: Comment) -> str:
        return _("By %(name)s") % {"name": comment.name}

    def item_description(self, comment: Comment) -> str:
        return comment.html

    def item_link(self, comment: Comment) -> str:
        return absolute(comment.get_absolute_url())

    def item_guid(self, comment: Comment) -> str:
        return absolute(comment.get_absolute_url())

    def item_pubdate(self, comment: Comment):
        return comment.submit_date

    def item_author_name(self, comment: Comment) -> str:
        return comment.name
