from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_comments_xtd.conf import settings as xtd_settings
from django_comments_xtd.models import (
    MaxThreadLevelExceededException,
    XtdComment,
    XtdCommentManager,
    max_thread_level_for_content_type,
)

from blog import markup as markup_module
from blog import pagecache
from blog.models import Page, Post

# What readers can comment on, by model name: a post's discussion and a
# page's are the same thread, form, moderation and mail.
TARGET_MODELS = {model._meta.model_name: model for model in (Post, Page)}


def target_model(label: str) -> type[Post] | type[Page] | None:
    """The model a form's `content_type` (``blog.post``, ``blog.page``)
    names, if readers may comment on it."""
    app_label, _, model_name = label.partition(".")
    model = TARGET_MODELS.get(model_name)
    if model is None or model._meta.app_label != app_label:
        return None
    return model


class CommentQuerySet(models.QuerySet):
    def approved(self) -> CommentQuerySet:
        """What readers may see: approved, not removed.

        The state decides; the two flags are checked too because
        django-comments-xtd rewrites `is_public` on replies when their parent
        is saved, and a hidden flag must win.
        """
        return self.filter(state=Comment.State.PUBLIC, is_public=True, is_removed=False)

    def for_posts(self, model: type[Post] | type[Page] = Post) -> CommentQuerySet:
        """Comments on blog posts (or pages), by join rather than a
        ContentType lookup, so that a page's query count does not depend on
        a warm cache."""
        return self.filter(
            content_type__app_label=model._meta.app_label,
            content_type__model=model._meta.model_name,
        )

    def for_targets(self) -> CommentQuerySet:
        """Comments on posts and on pages."""
        return self.filter(
            content_type__app_label=Post._meta.app_label,
            content_type__model__in=list(TARGET_MODELS),
        )

    def for_post(self, post: Post | Page) -> CommentQuerySet:
        """The comments of one post's or one page's discussion."""
        return self.for_posts(type(post)).filter(object_pk=str(post.pk))


class CommentManager(XtdCommentManager.from_queryset(CommentQuerySet)):
    pass


def max_thread_level() -> int:
    """The deepest level a comment on a post may sit at (0: no replies).

    The administrator's "maximum reply depth" (Discussion settings), never
    deeper than django-comments-xtd's own setting, which `XtdComment.save()`
    enforces: what we offer and what the library accepts never disagree.
    """
    label = f"{Post._meta.app_label}.{Post._meta.model_name}"
    by_model = xtd_settings.COMMENTS_XTD_MAX_THREAD_LEVEL_BY_APP_MODEL
    ceiling = by_model.get(label, xtd_settings.COMMENTS_XTD_MAX_THREAD_LEVEL)
    return min(DiscussionSettings.current().max_thread_level, ceiling)


ZWJ = "\u200d"


def plain_name(value: str) -> str:
    """`value` without control (Cc) or format (Cf) characters, for a name shown
    in the thread, the queue and mail: no CR/LF to start a new line, no bidi
    controls (U+202E) to turn text around, no invisible characters.

    Line breaks and tabs become spaces and runs of spaces one; a zero-width
    joiner stays between two emoji, where it joins them (👩‍💻).
    """
    kept = []
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cc":
            kept.append(" ")
        elif category != "Cf" or (
            char == ZWJ and _joins_emoji(value[index - 1 : index], value[index + 1 :])
        ):
            kept.append(char)
    return " ".join("".join(kept).split())


def _joins_emoji(before: str, after: str) -> bool:
    # Before: an emoji, or the variation selector or skin tone that ends one.
    return (
        bool(before)
        and bool(after)
        and unicodedata.category(before) in {"So", "Mn", "Sk"}
        and unicodedata.category(after[0]) == "So"
    )


# The reasons the rules store (comments/moderation.py, comments/wordpress.py),
# kept in English in the database and shown in the site's language.
REASONS = {
    "": _("it needs a moderator's look"),
    "banned": _("banned"),
    "honeypot": _("honeypot"),
    "too fast": _("too fast"),
    "all comments are held": _("all comments are held"),
    "first-time commenter": _("first-time commenter"),
    "Akismet": _("Akismet"),
    "Akismet unavailable": _("Akismet unavailable"),
    "unapproved": _("unapproved"),
    "marked as spam by a moderator": _("marked as spam by a moderator"),
    "not spam": _("not spam"),
    "trashed by a moderator": _("trashed by a moderator"),
    "restored": _("restored"),
    "pingback": _("pingback"),
    "trackback": _("trackback"),
}
# Reasons that name what the rule found: "moderation word: casino".
WORD_REASONS = {
    "disallowed word": _("disallowed word: %(word)s"),
    "moderation word": _("moderation word: %(word)s"),
}


def reason_display(reason: str) -> str:
    """A stored reason in the site's language; one we do not know (from an
    older version, another tool) as it was stored."""
    if reason in REASONS:
        return str(REASONS[reason])
    kind, colon, word = reason.partition(": ")
    if colon and kind in WORD_REASONS:
        return str(WORD_REASONS[kind]) % {"word": word}
    count, space, rest = reason.partition(" ")
    if space and rest == "links" and count.isdigit():
        links = int(count)
        return ngettext("%(count)d link", "%(count)d links", links) % {"count": links}
    return reason


class Comment(XtdComment):
    """A reader's comment, with a stored moderation state and its reason.

    `is_public` and `is_removed` cannot tell "held" from "spam" from "awaiting
    confirmation", so the state is stored; `save()` keeps the two flags in step
    so that django-comments-xtd's own queries stay right.
    """

    class State(models.TextChoices):
        PUBLIC = "public", _("Approved")
        HELD = "held", _("Pending")
        SPAM = "spam", _("Spam")
        TRASH = "trash", _("Trash")
        UNCONFIRMED = "unconfirmed", _("Awaiting email confirmation")

    class Markup(models.TextChoices):
        MARKDOWN = "markdown", _("Markdown")
        WORDPRESS = "wordpress", _("WordPress HTML")

    xtdcomment_ptr = models.OneToOneField(
        XtdComment,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        related_name="inkwell",
    )
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=State.choices,
        default=State.PUBLIC,
        db_index=True,
    )
    reason = models.CharField(
        _("reason"),
        max_length=200,
        blank=True,
        help_text=_("The rule that held or rejected this comment."),
    )
    # The form sending that saved it (CommentForm.submission_key): the same
    # form sent twice, as by a double click, cannot save a second row. Empty
    # for comments from elsewhere (imports, fixtures, raw inserts: db_default).
    submission_key = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )
    # How the text is written: readers here write Markdown; comments imported
    # from WordPress are its HTML, shown as WordPress shows them
    # (blog.markup.render_comment).
    markup = models.CharField(
        max_length=10,
        choices=Markup.choices,
        default=Markup.MARKDOWN,
        db_default=Markup.MARKDOWN,
        editable=False,
    )
    wordpress_id = models.PositiveBigIntegerField(
        _("WordPress id"),
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_("The comment's ID in the WordPress blog it was imported from."),
    )
    # WordPress's comment meta (Akismet's history, ratings...), kept as the
    # import found it (comments/wordpress.py).
    wordpress_data = models.JSONField(
        _("WordPress data"), default=dict, db_default={}, blank=True, editable=False
    )

    # Bumped by every set_state(): the links of a moderation mail name the
    # version they were written for, so once the comment has moved they are
    # spent, even if it moves back (comments/tokens.py).
    moderation_version = models.PositiveIntegerField(
        default=0, db_default=0, editable=False
    )
    # Set when its author changed the text (comments/editing.py); every
    # earlier text is a CommentRevision.
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True, editable=False)
    # Set when its author deleted it while it had replies: it stays in the
    # thread, its text replaced by a line saying so, so the replies keep
    # their place. (Without replies it is deleted outright.)
    deleted_at = models.DateTimeField(
        _("deleted by its author"), null=True, blank=True, editable=False
    )

    objects = CommentManager()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        constraints = [
            models.UniqueConstraint(
                fields=["submission_key"],
                condition=~Q(submission_key=""),
                name="one_comment_per_form_submission",
            )
        ]

    @property
    def reason_display(self) -> str:
        """Why the comment is where it is, in the site's language."""
        return reason_display(self.reason)

    @property
    def html(self) -> str:
        """The comment as readers see it, sanitised."""
        return markup_module.render_comment(self.comment, self.markup)

    def get_absolute_url(self) -> str:
        """The permalink: it redirects to the page of the discussion holding
        this comment (django_comments' version needs its own URLs)."""
        return reverse("comments:permalink", kwargs={"comment_id": self.pk})

    def save(self, *args, **kwargs) -> None:
        self.user_name = plain_name(self.user_name)
        self.is_public = self.state == self.State.PUBLIC
        self.is_removed = self.state in {self.State.SPAM, self.State.TRASH}
        if self.pk is not None:
            super().save(*args, **kwargs)
            return
        # A new comment: XtdComment.save() less its second save. That one
        # wrote every column of the three tables again, through xtd's
        # pre_save receiver looking for replies to show or hide, which a new
        # comment cannot have (six queries, and post_save twice): its place
        # in the thread is one UPDATE. Saved whole or not at all.
        with transaction.atomic(savepoint=False):
            super(XtdComment, self).save(*args, **kwargs)
            if not self.parent_id:
                self.parent_id = self.thread_id = self.pk
            elif max_thread_level_for_content_type(self.content_type):
                self._calculate_thread_data()
            else:
                raise MaxThreadLevelExceededException(self)
            XtdComment.norel_objects.filter(pk=self.pk).update(
                thread_id=self.thread_id,
                parent_id=self.parent_id,
                level=self.level,
                order=self.order,
            )

    def set_state(self, new_state: str, reason: str = "", by=None) -> None:
        """Move the comment to `new_state` and tell the rest of the site."""
        from comments.signals import comment_state_changed

        old_state = self.state
        self.state = new_state
        self.reason = reason
        self.moderation_version += 1
        self.save(
            update_fields=[
                "state",
                "reason",
                "is_public",
                "is_removed",
                "moderation_version",
            ]
        )
        if old_state != new_state:
            comment_state_changed.send(
                sender=type(self),
                comment=self,
                old_state=old_state,
                new_state=new_state,
                by=by,
            )


class CommentRevision(models.Model):
    """A text a comment had before its author edited or deleted it, kept
    for moderators (the comment's admin page lists them; readers never see
    them)."""

    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="revisions"
    )
    text = models.TextField(_("text"))
    markup = models.CharField(max_length=10, default=Comment.Markup.MARKDOWN)
    state = models.CharField(_("state then"), max_length=12)
    written_at = models.DateTimeField(_("written"))
    replaced_at = models.DateTimeField(_("replaced"), auto_now_add=True)
    deleted = models.BooleanField(
        _("deleted"),
        default=False,
        help_text=_("The author deleted the comment rather than edited it."),
    )

    class Meta:
        ordering = ["-replaced_at", "-pk"]
        verbose_name = _("earlier version")
        verbose_name_plural = _("earlier versions")

    def __str__(self) -> str:
        return f"comment {self.comment_id} as of {self.written_at:%Y-%m-%d %H:%M}"


class PostLike(models.Model):
    """One reader liking one post or page ("3 bloggers like this").

    Signed-in readers are known by their account; anonymous readers by a
    random id kept in a first-party cookie, with the IP for rate limiting.
    Exactly one of `post` and `page` is set.
    """

    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="likes"
    )
    page = models.ForeignKey(
        Page, null=True, blank=True, on_delete=models.CASCADE, related_name="likes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="post_likes",
    )
    visitor = models.CharField(max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # The IPv4 address or IPv6 /64 it came from (comments.likes.network_of):
    # one anonymous like per post from each a day.
    network = models.CharField(max_length=50, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["post", "network", "created_at"]),
            models.Index(fields=["page", "network", "created_at"]),
        ]
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
            models.UniqueConstraint(
                fields=["page", "user"],
                condition=Q(user__isnull=False),
                name="one_like_per_user_and_page",
            ),
            models.UniqueConstraint(
                fields=["page", "visitor"],
                condition=~Q(visitor=""),
                name="one_like_per_visitor_and_page",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(visitor=""),
                name="like_has_user_or_visitor",
            ),
            models.CheckConstraint(
                condition=Q(post__isnull=False, page__isnull=True)
                | Q(post__isnull=True, page__isnull=False),
                name="like_of_a_post_or_a_page",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or 'a visitor'} likes {self.target}"

    @property
    def target(self) -> Post | Page:
        return self.post if self.post_id is not None else self.page


# Moderation (comments/moderation.py applies the rules, comments/admin.py is
# the queue).


def default_max_thread_level() -> int:
    return settings.COMMENTS_XTD_MAX_THREAD_LEVEL


def default_threads_per_page() -> int:
    return settings.INKWELL_COMMENT_THREADS_PER_PAGE


class DiscussionSettings(models.Model):
    """The site's comment rules, edited on one admin page ("Discussion").

    There is one row (pk 1). `current()` reads it once per site version,
    which a save bumps (comments/receivers.py), in every process.
    """

    class HoldPolicy(models.TextChoices):
        ALWAYS = "always", _("Always: every comment waits for a moderator")
        FIRST_TIME = "first_time", _("Only from first-time commenters")
        FILTER = (
            "filter",
            _("From first-time commenters, unless the spam filter trusts them"),
        )
        NEVER = "never", _("Never: publish unless another rule holds it")

    hold_policy = models.CharField(
        _("hold comments for moderation"),
        max_length=12,
        choices=HoldPolicy.choices,
        default=HoldPolicy.FIRST_TIME,
        help_text=_(
            "A first-time commenter is an email address with no approved "
            "comment yet. The spam filter trusts a comment once it has learnt from "
            "enough of your decisions and scores it as clearly not spam."
        ),
    )
    hold_links = models.PositiveSmallIntegerField(
        _("hold comments with this many links"),
        default=2,
        help_text=_(
            "A comment with this many links or more waits for a moderator. "
            "0 turns the rule off."
        ),
    )
    moderation_words = models.TextField(
        _("moderation words"),
        blank=True,
        help_text=_(
            "One word, phrase or IP address per line. A comment that contains "
            "one in its text, name, email, website or IP waits for a moderator."
        ),
    )
    disallowed_words = models.TextField(
        _("disallowed words"),
        blank=True,
        help_text=_(
            "One word, phrase or IP address per line, matched like the "
            "moderation words; a match sends the comment to spam."
        ),
    )
    close_after_days = models.PositiveIntegerField(
        _("close comments on posts older than (days)"),
        default=0,
        help_text=_("0 keeps discussions open however old the post is."),
    )
    require_name_email = models.BooleanField(
        _("comment author must give a name and email"),
        default=True,
        help_text=_(
            "Untick to let readers comment without them (signed-in readers "
            "always use their account's)."
        ),
    )
    max_thread_level = models.PositiveSmallIntegerField(
        _("maximum reply depth"),
        default=default_max_thread_level,
        help_text=_(
            "How deep replies nest: 0 allows no replies, 1 replies to "
            "comments, 2 replies to replies, and so on, up to the site's limit "
            "(COMMENTS_XTD_MAX_THREAD_LEVEL)."
        ),
    )
    threads_per_page = models.PositiveSmallIntegerField(
        _("comments per page"),
        default=default_threads_per_page,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Top-level comments (each with its replies) per page of a discussion."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("discussion settings")
        verbose_name_plural = _("discussion settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="one_discussion_settings")
        ]

    def __str__(self) -> str:
        return str(_("Discussion settings"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # django-comments-xtd refuses to save replies deeper than its own
        # setting, read once at start-up: that is the ceiling.
        ceiling = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
        if self.max_thread_level > ceiling:
            raise ValidationError(
                {
                    "max_thread_level": _("The deepest this site allows is %(level)d.")
                    % {"level": ceiling}
                }
            )

    @classmethod
    def current(cls) -> DiscussionSettings:
        """The settings in force, read once per site version."""
        return pagecache.per_site_version(
            "discussion-settings", lambda: cls.objects.filter(pk=1).first() or cls(pk=1)
        )

    @staticmethod
    def word_list(text: str) -> list[str]:
        return [line.strip().lower() for line in text.splitlines() if line.strip()]


class BanQuerySet(models.QuerySet):
    def matching(self, email: str, ip_address: str | None) -> BanQuerySet:
        condition = Q(pk__in=[])
        if email:
            condition |= Q(email__iexact=email.strip())
        if ip_address:
            condition |= Q(ip_address=ip_address)
        return self.filter(condition)


class Ban(models.Model):
    """A commenter whose new comments go straight to spam."""

    email = models.EmailField(
        _("email address"),
        blank=True,
        db_index=True,
        help_text=_("Comments from this address."),
    )
    ip_address = models.GenericIPAddressField(
        _("IP address"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Comments from this IP address."),
    )
    note = models.CharField(
        _("note"),
        max_length=200,
        blank=True,
        help_text=_("Why; only moderators see it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("banned by"),
    )
    created_at = models.DateTimeField(_("banned at"), auto_now_add=True)

    objects = BanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") | Q(ip_address__isnull=False),
                name="ban_has_email_or_ip",
            )
        ]

    def __str__(self) -> str:
        return " / ".join(part for part in [self.email, self.ip_address] if part)

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not self.email.strip() and not self.ip_address:
            raise ValidationError(_("Give an email address, an IP address or both."))


class ModerationLog(models.Model):
    """One moderation action: who did what to which comment, when, from where.

    Rows made by an email link keep the link's nonce, which is unique: a link
    that has been used once cannot be used again.
    """

    class Via(models.TextChoices):
        ADMIN = "admin", _("Admin")
        EMAIL = "email", _("Email link")
        SYSTEM = "system", _("Automatic")

    comment = models.ForeignKey(
        Comment,
        null=True,
        on_delete=models.SET_NULL,
        related_name="moderation_log",
        verbose_name=_("comment"),
    )
    comment_pk = models.PositiveBigIntegerField(
        _("comment ID"), help_text=_("Kept when the comment is deleted.")
    )
    action = models.CharField(_("action"), max_length=40)
    old_state = models.CharField(_("from state"), max_length=12, blank=True)
    new_state = models.CharField(_("to state"), max_length=12, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("moderator"),
    )
    via = models.CharField(_("via"), max_length=10, choices=Via.choices)
    nonce = models.CharField(max_length=32, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("moderation log entry")
        verbose_name_plural = _("moderation log")

    def __str__(self) -> str:
        return f"{self.action} comment {self.comment_pk}"


# The spam filter's state (comments/spamfilter.py keeps it, and
# comments/spamclassifier.py does the arithmetic). In the database, so that
# every app server scores with the same counts and each decision counts once.


class SpamToken(models.Model):
    """How many trained spam and ham comments held a token.

    The row whose token is empty (SpamToken.DOCUMENTS) counts the trained
    comments themselves; training locks it first, so trainings happen one
    at a time and cannot deadlock on the other rows.
    """

    DOCUMENTS = ""

    token = models.CharField(max_length=100, unique=True)
    spam = models.PositiveIntegerField(default=0)
    ham = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("spam filter token")
        verbose_name_plural = _("spam filter tokens")

    def __str__(self) -> str:
        return self.token or "(trained comments)"


class SpamFilterRecord(models.Model):
    """What the spam filter made of one comment, and what it learnt from it.

    `tokens` are the comment's tokens as the filter first saw them, form
    facts included (how long the reader took), so that training and
    untraining count the same tokens even if the text is edited later (the
    words' 4-grams are not kept: they are made again from the words).
    `score` is None when the filter had too few decisions to vote, or failed;
    `may_spam` is False when it had learnt too little to send a comment to
    spam, so that a spam score only held the comment ("filter, still
    learning"): that was not a spam verdict, and its agreement with the
    moderators does not count it as one.
    """

    class Label(models.TextChoices):
        SPAM = "spam", _("Spam")
        HAM = "ham", _("Not spam")

    comment = models.OneToOneField(
        Comment,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="spam_filter",
    )
    tokens = models.JSONField(default=list)
    score = models.FloatField(null=True, blank=True)
    clues = models.JSONField(default=list)  # [[token, probability], ...]
    may_spam = models.BooleanField(default=True)
    trained_as = models.CharField(
        max_length=4, choices=Label.choices, blank=True, default=""
    )
    scored_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("spam filter record")
        verbose_name_plural = _("spam filter records")
        indexes = [models.Index(fields=["trained_as"])]

    def __str__(self) -> str:
        return f"spam filter on comment {self.comment_id}"
