"""Who gets new posts by email, and what each of them has been sent.

A Subscriber is one address, confirmed by the link mailed to it (double
opt-in) or imported with the date they gave their consent elsewhere. A post
that is mailed has one PostMailing; when the post goes public it gets one
Delivery per confirmed subscriber, and the worker sends each Delivery at
most once (blog/subscriptions/mailing.py).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blog.models import Category, Post


def normalized(email: str) -> str:
    """The form every address is stored and looked up in."""
    return (email or "").strip().lower()


class SubscriberQuerySet(models.QuerySet):
    def receiving(self, post: Post) -> SubscriberQuerySet:
        """Confirmed subscribers who get `post`: those of every post, and
        those of one of its categories or of a category above one."""
        by_id = Category.objects.by_id()
        filed = {post.category_id, *post.categories.values_list("pk", flat=True)}
        covering: set[int] = set()
        for category_id in filed - {None}:
            category = by_id.get(category_id)
            if category is not None:
                covering.update(c.pk for c in category.ancestors(by_id))
        everything = Q(categories__isnull=True)
        return (
            self.filter(state=Subscriber.State.CONFIRMED)
            .filter(everything | Q(categories__in=covering))
            .distinct()
        )


class Subscriber(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Subscribed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    class Source(models.TextChoices):
        FORM = "form", _("Subscription form")
        COMMENT = "comment", _("Leave a Reply")
        IMPORT = "import", _("CSV import")

    email = models.EmailField(_("email address"), unique=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PENDING
    )
    source = models.CharField(
        _("signed up through"),
        max_length=10,
        choices=Source.choices,
        default=Source.FORM,
    )
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="subscribers",
        verbose_name=_("categories"),
        help_text=_(
            "Only posts filed in these categories (or below them). None: every "
            "new post."
        ),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    confirmed_at = models.DateTimeField(
        _("consent date"),
        null=True,
        blank=True,
        help_text=_(
            "When the reader confirmed their address, or gave their consent "
            "before being imported."
        ),
    )
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    # The confirmation mails asked for lately (a fixed window of
    # INKWELL_CONFIRMATION_MAIL_WINDOW seconds from `requested_at`), counted
    # in the database for when the cache's rate limit does not answer.
    requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    requests_in_window = models.PositiveIntegerField(default=0, editable=False)
    requested_from = models.GenericIPAddressField(null=True, blank=True, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "confirmed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="confirmed") | Q(confirmed_at__isnull=False),
                name="confirmed_subscriber_has_consent_date",
                violation_error_message=_("A subscribed reader needs a consent date."),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalized(self.email)
        super().save(*args, **kwargs)

    def confirm(self, when=None) -> None:
        self.state = self.State.CONFIRMED
        self.confirmed_at = when or timezone.now()
        self.unsubscribed_at = None
        self.save(update_fields=["state", "confirmed_at", "unsubscribed_at"])

    def unsubscribe(self) -> None:
        if self.state == self.State.UNSUBSCRIBED:
            return
        self.state = self.State.UNSUBSCRIBED
        self.unsubscribed_at = timezone.now()
        self.save(update_fields=["state", "unsubscribed_at"])


class PostMailing(models.Model):
    """The mail of one post to its subscribers: planned when the post is
    first published, started when it goes public, done when every
    subscriber's Delivery has been tried."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for the post to go public")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Sent")

    post = models.OneToOneField(
        Post, on_delete=models.CASCADE, related_name="mailing", verbose_name=_("post")
    )
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.WAITING
    )
    created_at = models.DateTimeField(_("planned"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The batch task due next (mailing.send_batch): a task of an earlier
    # number has been superseded and stops at once.
    batch = models.PositiveIntegerField(default=0, editable=False)
    next_batch_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("post mailing")
        verbose_name_plural = _("post mailings")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return str(self.post)


class Delivery(models.Model):
    """One post's mail to one subscriber. Claimed (PENDING → SENDING) by
    one worker in one transaction before it is sent, so it goes at most
    once; one left SENDING by a worker killed mid-send is never sent again."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Refused by the mail server")

    mailing = models.ForeignKey(
        PostMailing, on_delete=models.CASCADE, related_name="deliveries"
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["mailing", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["mailing", "subscriber"], name="one_delivery_per_subscriber"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mailing} → {self.subscriber}"
