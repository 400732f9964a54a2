"""A reader's own comments: which they may still change, and changing them.

Who: a signed-in reader by their account; an anonymous one by a signed,
HttpOnly cookie set when they posted (`OWN_COOKIE`: the ids of their recent
comments), or by the signed link in their confirmation mail
(`tokens.make_edit_token`), which sets that cookie when opened.

For how long: `INKWELL_COMMENT_EDIT_SECONDS` after posting (15 minutes by
default). Editing stops sooner once someone has replied or a moderator has
acted on the comment (what they answered or judged must stay what it was);
deleting stops at a moderator's action only, and a comment with replies
deleted by its author stays in the thread as "This comment was deleted by its
author", so that the replies keep their place.

The shared page cache never holds an Edit link: the thread is the same bytes
for every anonymous reader. `static/js/comment-edit.js` asks `mine`
(comments/edit_views.py, never cached) which comments of the page are the
reader's and adds the links in place. `OWN_HINT_COOKIE`, which the script can
read, lists the same ids without any authority, so that pages holding none of
the reader's comments do not ask.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from blog.models import Post
from comments import moderation, notifications
from comments.models import Comment, CommentRevision, ModerationLog

OWN_COOKIE = "inkwell_own"
OWN_SALT = "inkwell.comments.own"
OWN_HINT_COOKIE = "inkwell_own_ids"
OWN_KEPT = 20  # comments a browser remembers at most

State = Comment.State
CHANGEABLE_STATES = (State.PUBLIC, State.HELD, State.UNCONFIRMED)


def window() -> timedelta:
    return timedelta(seconds=settings.INKWELL_COMMENT_EDIT_SECONDS)


def deadline(comment: Comment) -> datetime:
    return comment.submit_date + window()


def window_minutes() -> int:
    return max(1, round(settings.INKWELL_COMMENT_EDIT_SECONDS / 60))


# Who owns a comment


def own_claims(request: HttpRequest) -> dict[int, int]:
    """The comments this browser posted recently: id -> time posted (Unix)."""
    value = request.COOKIES.get(OWN_COOKIE)
    if not value:
        return {}
    try:
        data = signing.loads(
            value, salt=OWN_SALT, max_age=settings.INKWELL_COMMENT_EDIT_SECONDS
        )
    except signing.BadSignature:
        return {}
    if not isinstance(data, list):
        return {}
    claims = {}
    oldest = (timezone.now() - window()).timestamp()
    for entry in data:
        try:
            pk, posted = int(entry[0]), int(entry[1])
        except (TypeError, ValueError, IndexError):
            continue
        if posted >= oldest:
            claims[pk] = posted
    return claims


def remember_own(response: HttpResponse, request: HttpRequest, comment: Comment):
    """Add `comment` to this browser's own comments (anonymous readers)."""
    claims = own_claims(request)
    claims[comment.pk] = int(comment.submit_date.timestamp())
    _write_claims(response, request, claims)


def forget_own(response: HttpResponse, request: HttpRequest, comment_id: int):
    claims = own_claims(request)
    if claims.pop(comment_id, None) is not None:
        _write_claims(response, request, claims)


def _write_claims(response: HttpResponse, request: HttpRequest, claims: dict):
    if not claims:
        response.delete_cookie(OWN_COOKIE, samesite="Lax")
        response.delete_cookie(OWN_HINT_COOKIE, samesite="Lax")
        return
    newest = sorted(claims.items(), key=lambda item: item[1])[-OWN_KEPT:]
    # Lives as long as the newest comment can still be changed.
    max_age = max(1, int(newest[-1][1] + window().total_seconds() - _now()))
    common = {"max_age": max_age, "secure": request.is_secure(), "samesite": "Lax"}
    response.set_cookie(
        OWN_COOKIE,
        signing.dumps([list(item) for item in newest], salt=OWN_SALT),
        httponly=True,
        **common,
    )
    # For the script: which ids to ask about. It grants nothing.
    response.set_cookie(
        OWN_HINT_COOKIE, ".".join(str(pk) for pk, _posted in newest), **common
    )


def _now() -> float:
    return timezone.now().timestamp()


def owns(request: HttpRequest, comment: Comment, key: str = "") -> bool:
    """Whether the reader behind `request` wrote `comment`: by their account,
    this browser's cookie, or the `key` of their confirmation mail."""
    user = request.user
    if comment.user_id is not None:
        return user.is_authenticated and user.pk == comment.user_id
    if comment.pk in own_claims(request):
        return True
    if key:
        from comments import tokens

        try:
            claim = tokens.read_edit_token(key)
        except tokens.InvalidToken:
            return False
        return claim.comment_id == comment.pk and tokens.same_email(
            comment.user_email, claim.email_hash
        )
    return False


# What may still be done


def _replied():
    return Exists(
        Comment.objects.filter(parent_id=OuterRef("pk"))
        .exclude(pk=OuterRef("pk"))
        .exclude(state__in=[State.SPAM, State.TRASH])
    )


def _moderated():
    """A moderator's action in the log (the system's own entries, as an edit
    sent back to the queue, are not one)."""
    return Exists(
        ModerationLog.objects.filter(comment_id=OuterRef("pk")).exclude(
            via=ModerationLog.Via.SYSTEM
        )
    )


def changeable(ids) -> dict[int, bool]:
    """Of the comments `ids`, those still in their window and untouched by a
    moderator, each with whether it may still be edited (no reply yet) or
    only deleted. One query."""
    ids = list(ids)
    if not ids:
        return {}
    rows = (
        Comment.objects.filter(
            pk__in=ids,
            submit_date__gte=timezone.now() - window(),
            deleted_at__isnull=True,
            state__in=CHANGEABLE_STATES,
        )
        .alias(moderated=_moderated())
        .filter(moderated=False)
        .annotate(replied=_replied())
        .values_list("pk", "replied")
    )
    return {pk: not replied for pk, replied in rows}


def lock_reason(comment: Comment, post: Post, *, deleting: bool = False) -> str:
    """Why `comment` cannot be changed (or deleted) now; "" if it can."""
    if comment.deleted_at is not None:
        return _("This comment has been deleted.")
    if comment.state not in CHANGEABLE_STATES:
        return _("This comment can no longer be changed.")
    if timezone.now() > deadline(comment):
        minutes = window_minutes()
        return ngettext(
            "Comments can be changed for %(minutes)d minute after posting, and "
            "that time is over.",
            "Comments can be changed for %(minutes)d minutes after posting, and "
            "that time is over.",
            minutes,
        ) % {"minutes": minutes}
    found = changeable([comment.pk])
    if comment.pk not in found:
        return _(
            "A moderator has looked at this comment, so it can no longer be changed."
        )
    if not deleting and not found[comment.pk]:
        return _(
            "Someone has replied to this comment, so it can no longer be edited "
            "(you can still delete it)."
        )
    if not deleting and not moderation.comments_open(post):
        return _("Comments are closed on this post.")
    return ""


# Doing it


def _locked_row(comment: Comment) -> Comment:
    return Comment.objects.select_related(None).select_for_update().get(pk=comment.pk)


def _keep_revision(comment: Comment, *, deleted: bool = False) -> None:
    CommentRevision.objects.create(
        comment=comment,
        text=comment.comment,
        markup=comment.markup,
        state=comment.state,
        written_at=comment.edited_at or comment.submit_date,
        deleted=deleted,
    )


class Locked(Exception):
    """The comment cannot be changed any more; the message says why."""


def edit(comment: Comment, text: str, *, post: Post, request: HttpRequest) -> Comment:
    """Replace the comment's text with `text`, keeping the old one, and run
    the moderation rules on the new one: an approved comment whose edit a
    rule would hold goes back to the queue (its moderators are mailed), one a
    rule calls spam goes to spam. Raises `Locked`."""
    with transaction.atomic():
        current = _locked_row(comment)
        problem = lock_reason(current, post)
        if problem:
            raise Locked(problem)
        if current.comment == text:
            return current
        _keep_revision(current)
        current.comment = text
        current.edited_at = timezone.now()
        current.save(update_fields=["comment", "edited_at"])
        decision = moderation.review_edit(current, post=post, request=request)
        old_state = current.state
        if decision.state != old_state or decision.reason != current.reason:
            current.set_state(decision.state, decision.reason)
            moderation.log(
                current,
                "edited by its author",
                via=ModerationLog.Via.SYSTEM,
                old_state=old_state,
            )
        if old_state == State.PUBLIC and current.state == State.HELD:
            notifications.notify_moderators(current)
    return current


def delete(comment: Comment, *, post: Post) -> bool:
    """Delete the comment for its author; True if it stays in the thread as
    "deleted by its author" because it has replies. Raises `Locked`."""
    with transaction.atomic():
        current = _locked_row(comment)
        problem = lock_reason(current, post, deleting=True)
        if problem:
            raise Locked(problem)
        has_replies = not changeable([current.pk])[current.pk]
        if not has_replies:
            current.delete()
            return False
        _keep_revision(current, deleted=True)
        current.comment = ""
        current.deleted_at = timezone.now()
        current.followup = False
        current.save(update_fields=["comment", "deleted_at", "followup"])
        return True
