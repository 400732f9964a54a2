from django.conf import settings
from django.db import models
from django.db.models import Q
from django_comments_xtd.models import XtdComment

from blog.models import Post


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

    class Meta:
        verbose_name = "comment"
        verbose_name_plural = "comments"

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
