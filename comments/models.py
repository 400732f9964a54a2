from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_comments_xtd.conf import settings as xtd_settings
from django_comments_xtd.models import XtdComment, XtdCommentManager

from blog.models import Post


class CommentQuerySet(models.QuerySet):
    def approved(self) -> CommentQuerySet:
        """What readers may see: approved, not removed.

        The state decides; the two flags are checked too because
        django-comments-xtd rewrites `is_public` on replies when their parent
        is saved, and a hidden flag must win.
        """
        return self.filter(state=Comment.State.PUBLIC, is_public=True, is_removed=False)

    def for_posts(self) -> CommentQuerySet:
        """Comments on blog posts, by join rather than a ContentType lookup,
        so that a page's query count does not depend on a warm cache."""
        return self.filter(
            content_type__app_label=Post._meta.app_label,
            content_type__model=Post._meta.model_name,
        )

    def for_post(self, post: Post) -> CommentQuerySet:
        return self.for_posts().filter(object_pk=str(post.pk))


class CommentManager(XtdCommentManager.from_queryset(CommentQuerySet)):
    pass


def max_thread_level() -> int:
    """The deepest level a comment on a post may sit at (0: no replies).

    Read from django-comments-xtd's settings, as `XtdComment.save()` does, so
    that what we offer and what the library accepts never disagree.
    """
    label = f"{Post._meta.app_label}.{Post._meta.model_name}"
    by_model = xtd_settings.COMMENTS_XTD_MAX_THREAD_LEVEL_BY_APP_MODEL
    return by_model.get(label, xtd_settings.COMMENTS_XTD_MAX_THREAD_LEVEL)


class Comment(XtdComment):
    """A reader's comment, with a stored moderation state and its reason.

    `is_public` and `is_removed` cannot tell "held" from "spam" from "awaiting
    confirmation", so the state is stored; `save()` keeps the two flags in step
    so that django-comments-xtd's own queries stay right.
    """

    class State(models.TextChoices):
        PUBLIC = "public", "Approved"
        HELD = "held", "Pending"
        SPAM = "spam", "Spam"
        TRASH = "trash", "Trash"
        UNCONFIRMED = "unconfirmed", "Awaiting email confirmation"

    xtdcomment_ptr = models.OneToOneField(
        XtdComment,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        related_name="inkwell",
    )
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.PUBLIC, db_index=True
    )
    reason = models.CharField(
        max_length=200,
        blank=True,
        help_text="The rule that held or rejected this comment.",
    )

    objects = CommentManager()

    class Meta:
        verbose_name = "comment"
        verbose_name_plural = "comments"

    def get_absolute_url(self) -> str:
        """The permalink: it redirects to the page of the discussion holding
        this comment (django_comments' version needs its own URLs)."""
        return reverse("comments-permalink", kwargs={"comment_id": self.pk})

    def save(self, *args, **kwargs) -> None:
        self.is_public = self.state == self.State.PUBLIC
        self.is_removed = self.state in {self.State.SPAM, self.State.TRASH}
        super().save(*args, **kwargs)

    def set_state(self, new_state: str, reason: str = "", by=None) -> None:
        """Move the comment to `new_state` and tell the rest of the site."""
        from comments.signals import comment_state_changed

        old_state = self.state
        self.state = new_state
        self.reason = reason
        self.save(update_fields=["state", "reason", "is_public", "is_removed"])
        if old_state != new_state:
            comment_state_changed.send(
                sender=type(self),
                comment=self,
                old_state=old_state,
                new_state=new_state,
                by=by,
            )


class PostLike(models.Model):
    """One reader liking one post ("3 bloggers like this").

    Signed-in readers are known by their account; anonymous readers by a
    random id kept in a first-party cookie, with the IP for rate limiting.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="post_likes",
    )
    visitor = models.CharField(max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post", "user"],
                condition=Q(user__isnull=False),
                name="one_like_per_user_and_post",
            ),
            models.UniqueConstraint(
                fields=["post", "visitor"],
                condition=~Q(visitor=""),
                name="one_like_per_visitor_and_post",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(visitor=""),
                name="like_has_user_or_visitor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or 'a visitor'} likes {self.post}"
