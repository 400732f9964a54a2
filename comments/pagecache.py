"""Keeps the anonymous page cache right when comments and likes change.

Saving a comment that is not public (held, spam, unconfirmed) does not bump
the content version: a spam flood must not empty the cache. A comment leaving
the public state must therefore go through `Comment.set_state`, whose
`comment_state_changed` signal bumps it.
"""

from django.db.models.signals import post_delete, post_save
from django_comments.models import CommentFlag
from django_comments_xtd.models import LIKEDIT_FLAG

from blog.pagecache import bump_content_version, bypass_for_cookie
from comments.likes import VISITOR_COOKIE
from comments.models import Comment, DiscussionSettings, PostLike
from comments.signals import comment_state_changed
from comments.views import COMMENTER_COOKIE


def comment_saved(sender, instance: Comment, **kwargs) -> None:
    if instance.is_public:
        bump_content_version()


def changed(sender, **kwargs) -> None:
    """A like, a deleted comment, a state change or new discussion settings."""
    bump_content_version()


def comment_like_changed(sender, instance: CommentFlag, **kwargs) -> None:
    """Threads show "Liked by N people"; other flags (moderation) show nowhere."""
    if instance.flag == LIKEDIT_FLAG:
        bump_content_version()


def connect_signals() -> None:
    # A remembered commenter gets the form filled in; a liker sees their like.
    bypass_for_cookie(COMMENTER_COOKIE)
    bypass_for_cookie(VISITOR_COOKIE)
    post_save.connect(comment_saved, sender=Comment, dispatch_uid="pagecache")
    post_delete.connect(changed, sender=Comment, dispatch_uid="pagecache")
    post_save.connect(changed, sender=PostLike, dispatch_uid="pagecache")
    # Depth, comments per page, closing after N days: every post page changes.
    post_save.connect(changed, sender=DiscussionSettings, dispatch_uid="pagecache")
    post_delete.connect(changed, sender=PostLike, dispatch_uid="pagecache")
    comment_state_changed.connect(changed, dispatch_uid="pagecache")
    post_save.connect(
        comment_like_changed, sender=CommentFlag, dispatch_uid="pagecache"
    )
    post_delete.connect(
        comment_like_changed, sender=CommentFlag, dispatch_uid="pagecache"
    )
