"""The rules that decide what happens to a new comment, in one place.

`decide()` runs after the form has validated and before anything is saved. It
either returns the state the comment starts in (with the reason a rule chose
it) or raises `Refused` with a message for the reader. Moderation rules
(banned addresses, links, rate limits, ...) are added here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from blog.models import Post
from comments.models import Comment


class Refused(Exception):
    """A rule refused the comment outright; the message is shown to the reader."""


@dataclass(frozen=True)
class Decision:
    state: str
    reason: str = ""


def confirmation_required() -> bool:
    """Whether anonymous commenters confirm their address by email first.

    Read from Django's settings on each call (django-comments-xtd reads its
    copy once at import, which tests cannot change).
    """
    return getattr(settings, "COMMENTS_XTD_CONFIRM_EMAIL", True)


def decide(comment: Comment, *, post: Post, request: HttpRequest) -> Decision:
    if not post.comments_open():
        raise Refused("Comments are closed on this post.")
    if request.user.is_authenticated:
        return Decision(Comment.State.PUBLIC)
    if confirmation_required():
        return Decision(
            Comment.State.UNCONFIRMED, "Waiting for the commenter's email confirmation."
        )
    return Decision(Comment.State.PUBLIC)
