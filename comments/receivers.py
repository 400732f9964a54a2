"""Keeps cached pages right when comments, likes and discussion settings
change (the content versions of blog/pagecache.py).

A comment or a like concerns one post: it bumps that post's version (its
page) and, for comments, the discussions version (the counts in listings),
leaving every other post's cached pieces alone. Saving a comment that is not
public (held, spam, unconfirmed) bumps nothing: a spam flood must not empty
the cache. A comment leaving the public state must therefore go through
`Comment.set_state`, whose `comment_state_changed` signal bumps.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_delete, post_save
from django_comments.models import CommentFlag
from django_comments_xtd.models import LIKEDIT_FLAG

from blog.pagecache import DISCUSSIONS, SITE, bump, bypass_for_cookie, post_scope
from comments.likes import VISITOR_COOKIE
from comments.models import Comment, DiscussionSettings, PostLike
from comments.signals import comment_state_changed
from comments.views import COMMENTER_COOKIE


def discussion_scope(comment: Comment) -> str:
    """The version of the post's or page's discussion `comment` is in
    (ContentType caches the lookup)."""
    model = ContentType.objects.get_for_id(comment.content_type_id).model
    return post_scope(comment.object_pk, model)


def comment_saved(sender, instance: Comment, **kwargs) -> None:
    if instance.is_public:
        bump(discussion_scope(instance), DISCUSSIONS)


def comment_changed(sender, **kwargs) -> None:
    """Deleted, or moved between states (sent with `comment`)."""
    comment = kwargs.get("instance") or kwargs["comment"]
    bump(discussion_scope(comment), DISCUSSIONS)


def post_like_changed(sender, instance: PostLike, **kwargs) -> None:
    if instance.page_id is not None:
        bump(post_scope(instance.page_id, "page"))
    else:
        bump(post_scope(instance.post_id))


def comment_like_changed(sender, instance: CommentFlag, **kwargs) -> None:
    """Threads show "Liked by N people"; other flags (moderation) show nowhere."""
    if instance.flag == LIKEDIT_FLAG:
        bump(discussion_scope(instance.comment))


def settings_changed(sender, **kwargs) -> None:
    """Depth, comments per page, closing after N days: every post page."""
    bump(SITE)


def connect_signals() -> None:
    # A remembered commenter gets the form filled in; a liker sees their like.
    bypass_for_cookie(COMMENTER_COOKIE)
    bypass_for_cookie(VISITOR_COOKIE)
    uid = "pagecache"
    post_save.connect(comment_saved, sender=Comment, dispatch_uid=uid)
    post_delete.connect(comment_changed, sender=Comment, dispatch_uid=uid)
    comment_state_changed.connect(comment_changed, dispatch_uid=uid)
    post_save.connect(post_like_changed, sender=PostLike, dispatch_uid=uid)
    post_delete.connect(post_like_changed, sender=PostLike, dispatch_uid=uid)
    post_save.connect(comment_like_changed, sender=CommentFlag, dispatch_uid=uid)
    post_delete.connect(comment_like_changed, sender=CommentFlag, dispatch_uid=uid)
    post_save.connect(settings_changed, sender=DiscussionSettings, dispatch_uid=uid)
