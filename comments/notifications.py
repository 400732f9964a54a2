"""Who is emailed about comments, and with what.

The receivers below listen to the comments app's own signals
(`comments.signals`), render the messages and hand them to the
`send_email` task; nothing here talks to a mail server. django-comments-xtd's
mailing (its confirmation, follow-up and mute links, its threaded mailer)
is never used: its receivers only answer to comments posted through its
own views, which Inkwell does not route.

- A reader who commented without signing in gets a confirmation link
  (rate limited per address and per IP, so nobody can aim it at someone).
- When a comment becomes public for the first time, the readers who asked
  to be told about that discussion get one mail each.
- A post's author hears of every new approved comment on it.
- A held comment is mailed to every moderator and to the post's author, with
  Approve, Spam and Trash links that work without signing in.
- A reader whose held comment is approved is told so.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from blog.links import absolute
from blog.mail import send_templated_mail
from blog.ratelimit import within_limit
from comments import spamfilter, tokens
from comments.models import Comment, SpamFilterRecord

logger = logging.getLogger(__name__)

State = Comment.State


def comment_url(comment: Comment) -> str:
    """The comment's permalink: it lands on the page of the thread holding it."""
    return absolute(comment.get_absolute_url())


def comment_context(comment: Comment) -> dict:
    target = comment.content_object
    return {
        "comment": comment,
        "comment_html": comment.html,
        "comment_url": comment_url(comment),
        "target": target,
        "target_url": absolute(target.get_absolute_url()),
    }


# Confirmation of anonymous comments


def confirmation_mail_allowed(email: str, ip_address: str | None) -> bool:
    """Whether one more confirmation mail may go to `email`, asked from
    `ip_address`.

    Without the cache, the anonymous comments saved in the window are
    counted instead (each asked for a mail; the one being mailed about is
    among them): a Redis outage does not let the form mail a third party
    over and over.
    """
    window = settings.INKWELL_CONFIRMATION_MAIL_WINDOW

    def asked_since(sender: Q):
        def count(start) -> int:
            return Comment.objects.filter(
                sender, user__isnull=True, submit_date__gte=start
            ).count()

        return count

    if ip_address and not within_limit(
        "confirm-mail:ip",
        ip_address,
        settings.INKWELL_CONFIRMATION_MAILS_PER_IP,
        window,
        fallback=asked_since(Q(ip_address=ip_address)),
    ):
        return False
    return within_limit(
        "confirm-mail:address",
        email,
        settings.INKWELL_CONFIRMATION_MAILS_PER_ADDRESS,
        window,
        fallback=asked_since(Q(user_email__iexact=email.strip())),
    )


def send_confirmation_request(comment: Comment, ip_address: str | None) -> bool:
    """Queue the "confirm your comment" mail unless a rate limit says no."""
    if not comment.user_email:
        return False
    if not confirmation_mail_allowed(comment.user_email, ip_address):
        logger.info(
            "Comment %s: no confirmation mail, rate limit reached for its "
            "address or IP",
            comment.pk,
        )
        return False
    token = tokens.make_confirmation_token(comment)
    context = comment_context(comment)
    max_age = settings.INKWELL_COMMENT_CONFIRMATION_MAX_AGE
    edit_path = reverse("comments:edit", args=[comment.pk])
    edit_key = tokens.make_edit_token(comment)
    context.update(
        confirm_url=absolute(reverse("comments:confirm", args=[token])),
        valid_for_days=max(1, round(max_age / 86400)),
        edit_url=absolute(f"{edit_path}?key={edit_key}"),
        edit_minutes=max(1, round(settings.INKWELL_COMMENT_EDIT_SECONDS / 60)),
    )
    send_templated_mail(
        to=comment.user_email,
        subject=format_lazy(
            _("Please confirm your comment on “{target}”"), target=context["target"]
        ),
        template="comment_confirmation",
        context=context,
    )
    return True


# Mail about comments that readers or moderators can now see


def followers(comment: Comment) -> dict[str, str]:
    """Addresses to tell about `comment`, with the name each one gave.

    Readers who ticked "Notify me" on an approved comment in the same
    discussion; one entry per address, never the comment's own author, and
    never the post's author (they get their own notification).
    """
    excluded = {comment.user_email.strip().lower()}
    author = getattr(comment.content_object, "author", None)
    if author is not None and author.email:
        excluded.add(author.email.strip().lower())
    found: dict[str, str] = {}
    rows = (
        Comment.objects.filter(
            content_type_id=comment.content_type_id,
            object_pk=comment.object_pk,
            site_id=comment.site_id,
            state=State.PUBLIC,
            followup=True,
        )
        .exclude(pk=comment.pk)
        .order_by("submit_date", "pk")
        .values_list("user_email", "user_name")
    )
    for email, name in rows:
        key = email.strip().lower()
        if key and key not in excluded and key not in found:
            found[key] = name
    return found


def notify_followers(comment: Comment) -> int:
    context = comment_context(comment)
    target = context["target"]
    subject = format_lazy(_("New comment on “{target}”"), target=target)
    sent = 0
    for email, name in followers(comment).items():
        unsubscribe_url = absolute(
            reverse(
                "comments:unsubscribe",
                args=[
                    tokens.make_unsubscribe_token(
                        target.pk, email, target._meta.model_name
                    )
                ],
            )
        )
        send_templated_mail(
            to=email,
            subject=subject,
            template="comment_followup",
            context={**context, "name": name, "unsubscribe_url": unsubscribe_url},
            headers={
                # RFC 8058: mail clients offer a button that POSTs here.
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        sent += 1
    return sent


def review_path(comment: Comment) -> str:
    """Where a moderator deals with `comment`: its admin page, if there is one."""
    try:
        return reverse("admin:comments_comment_change", args=[comment.pk])
    except NoReverseMatch:
        return reverse("admin:index")


def queue_path() -> str:
    """The moderation queue, on its Pending tab."""
    changelist = reverse("admin:comments_comment_changelist")
    return f"{changelist}?state={State.HELD}"


def notify_post_author(comment: Comment) -> bool:
    """Tell the post's author about a newly published comment. (A held one
    reaches them through `notify_moderators`, with the moderation links.)"""
    target = comment.content_object
    author = getattr(target, "author", None)
    if author is None or not author.email or not author.is_active:
        return False
    if comment.user_id == author.pk or (
        comment.user_email.strip().lower() == author.email.strip().lower()
    ):
        return False
    context = comment_context(comment)
    context["author"] = author
    send_templated_mail(
        to=author.email,
        subject=format_lazy(_("New comment on “{target}”"), target=target),
        template="comment_to_author",
        context=context,
    )
    return True


def notify_approved(comment: Comment) -> bool:
    """Tell a reader that their held comment is now public."""
    if not comment.user_email:
        return False
    context = comment_context(comment)
    send_templated_mail(
        to=comment.user_email,
        subject=format_lazy(
            _("Your comment on “{target}” is published"), target=context["target"]
        ),
        template="comment_approved",
        context=context,
    )
    return True


# Held comments: every moderator and the post's author, with one-click links


def moderators_for(comment: Comment) -> dict[str, object]:
    """Who is asked to moderate `comment`, one user per address: superusers,
    the Moderators group, anyone granted django_comments.can_moderate, and
    the post's author."""
    can_moderate = {
        "permissions__codename": "can_moderate",
        "permissions__content_type__app_label": "django_comments",
    }
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .filter(
            Q(is_superuser=True)
            | Q(groups__name="Moderators")
            | Q(**{f"user_{key}": value for key, value in can_moderate.items()})
            | Q(**{f"groups__{key}": value for key, value in can_moderate.items()})
        )
        .distinct()
        .order_by("pk")
    )
    found = {user.email.strip().lower(): user for user in reversed(list(users))}
    author = getattr(comment.content_object, "author", None)
    if author is not None and author.is_active and author.email:
        found.setdefault(author.email.strip().lower(), author)
    return found


MODERATION_LINKS = ("approve", "spam", "trash")


def spam_filter_context(comment: Comment) -> dict:
    """The spam filter's score of a held comment, its strongest clues and
    how often it has agreed with the moderators, for the mail."""
    try:
        record = comment.spam_filter  # in hand when the comment was just posted
    except SpamFilterRecord.DoesNotExist:
        return {}
    if record.score is None:
        return {}
    return {
        "spam_score": spamfilter.shown(record.score),
        "spam_clues": [
            f"{token} ({probability:.2f})" for token, probability in record.clues[:5]
        ],
        "spam_filter_agreement": spamfilter.agreement(),
    }


def notify_moderators(comment: Comment) -> int:
    """Mail a held comment to each moderator, with Approve, Spam and Trash
    links that work without signing in (comments/mail_views.py)."""
    context = comment_context(comment)
    target = context["target"]
    max_age = settings.INKWELL_MODERATION_LINK_MAX_AGE
    spam_filter = spam_filter_context(comment)
    sent = 0
    for email, user in moderators_for(comment).items():
        links = {
            action: absolute(
                reverse(
                    "comments:moderate",
                    args=[tokens.make_moderation_token(comment, action, email)],
                )
            )
            for action in MODERATION_LINKS
        }
        send_templated_mail(
            to=email,
            subject=format_lazy(
                _("A comment on “{target}” awaits moderation"), target=target
            ),
            template="comment_held",
            context={
                **context,
                "recipient": user,
                "links": links,
                "queue_url": absolute(queue_path()),
                "valid_for_days": max(1, round(max_age / 86400)),
                **spam_filter,
            },
        )
        sent += 1
    return sent


# Signal receivers, connected in CommentsConfig.ready()


def on_comment_submitted(sender, comment: Comment, request=None, **kwargs) -> None:
    if comment.state == State.UNCONFIRMED:
        ip_address = comment.ip_address or (
            request.META.get("REMOTE_ADDR") if request is not None else None
        )
        # The view tells the reader when no link went out (comments/views.py).
        comment.confirmation_sent = send_confirmation_request(comment, ip_address)
        return
    if comment.state == State.HELD:
        notify_moderators(comment)  # the post's author among them
    if comment.state == State.PUBLIC:
        notify_post_author(comment)
        notify_followers(comment)


def on_comment_state_changed(
    sender, comment: Comment, old_state: str, new_state: str, by=None, **kwargs
) -> None:
    # The author (and the moderators, for a held one) had not heard of it yet.
    if old_state == State.UNCONFIRMED and new_state == State.PUBLIC:
        notify_post_author(comment)
    if old_state == State.UNCONFIRMED and new_state == State.HELD:
        notify_moderators(comment)
    # Published for the first time (a comment restored from the trash was
    # public before, and its followers have already been told).
    if new_state == State.PUBLIC and old_state in {
        State.UNCONFIRMED,
        State.HELD,
        State.SPAM,
    }:
        notify_followers(comment)
    if old_state == State.HELD and new_state == State.PUBLIC:
        notify_approved(comment)
