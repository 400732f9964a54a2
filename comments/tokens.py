"""Signed tokens for the links in comment emails.

They replace django-comments-xtd's links, which pickle the whole comment into
a token that never expires. Ours are blog/tokens.py's: Django's signed JSON
(no pickle: a leaked SECRET_KEY does not become code execution), carrying
only ids and a keyed hash of the address, and each kind has its own salt so
that one kind of token cannot stand in for another.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

# The callers' names for these stay comments.tokens.X (tokens.same_email...).
from blog.tokens import (  # noqa: F401
    ExpiredToken,
    InvalidToken,
    email_hash,
    load,
    same_email,
)

CONFIRM_SALT = "inkwell.comments.confirm"
UNSUBSCRIBE_SALT = "inkwell.comments.unsubscribe"

def make_confirmation_token(comment) -> str:
    return signing.dumps(
        {"c": comment.pk, "e": email_hash(comment.user_email)}, salt=CONFIRM_SALT
    )


@dataclass(frozen=True)
class Confirmation:
    comment_id: int
    email_hash: str


def read_confirmation_token(token: str) -> Confirmation:
    """What a confirmation link names; raises InvalidToken or ExpiredToken."""
    data = load(token, CONFIRM_SALT, settings.INKWELL_COMMENT_CONFIRMATION_MAX_AGE)
    try:
        return Confirmation(comment_id=int(data["c"]), email_hash=str(data["e"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken from exc


def make_unsubscribe_token(post_id: int, email: str, kind: str = "post") -> str:
    """A link that stops follow-up mail about one post (or page: `kind`
    "page") to one address.

    It does not expire: all it can ever do is stop mail, and people click
    unsubscribe links in old messages.
    """
    data = {"p": post_id, "e": email_hash(email)}
    if kind != "post":
        data["k"] = kind  # links mailed before pages had comments name none
    return signing.dumps(data, salt=UNSUBSCRIBE_SALT)


@dataclass(frozen=True)
class Unsubscription:
    post_id: int
    email_hash: str
    kind: str = "post"


def read_unsubscribe_token(token: str) -> Unsubscription:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return Unsubscription(
            post_id=int(data["p"]),
            email_hash=str(data["e"]),
            kind=str(data.get("k", "post")),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidToken from exc


# One-click moderation from the mail about a held comment

MODERATE_SALT = "inkwell.comments.moderate"


def make_moderation_token(comment, action: str, email: str) -> str:
    """A link that does `action` to `comment`, for the moderator at `email`.

    It names the comment's moderation version (and state) when the mail was
    written: once the comment has moved (whoever moved it, even back to where
    it was), every link of that mail is spent. Its random nonce is written to
    the moderation log when it is used, so it cannot be used twice either.
    """
    return signing.dumps(
        {
            "c": comment.pk,
            "a": action,
            "r": email_hash(email),
            "s": comment.state,
            "v": comment.moderation_version,
            "n": secrets.token_hex(8),
        },
        salt=MODERATE_SALT,
    )


@dataclass(frozen=True)
class ModerationClaim:
    comment_id: int
    action: str
    email_hash: str
    state: str
    nonce: str
    version: int | None  # None: mailed before links named a version

    def spent(self, comment) -> bool:
        """Whether `comment` has moved since the mail was written."""
        if self.version is not None and self.version != comment.moderation_version:
            return True
        return comment.state != self.state


def read_moderation_token(token: str) -> ModerationClaim:
    """What a moderation link names; raises InvalidToken or ExpiredToken."""
    data = load(token, MODERATE_SALT, settings.INKWELL_MODERATION_LINK_MAX_AGE)
    try:
        return ModerationClaim(
            comment_id=int(data["c"]),
            action=str(data["a"]),
            email_hash=str(data["r"]),
            state=str(data["s"]),
            nonce=str(data["n"]),
            version=int(data["v"]) if "v" in data else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken from exc


# Editing one's own comment from the link in the confirmation mail

EDIT_SALT = "inkwell.comments.edit"


def make_edit_token(comment) -> str:
    """A link that lets the comment's author edit or delete it without the
    cookie of the browser they wrote it in; it lasts as long as the edit
    window (comments/editing.py)."""
    return signing.dumps(
        {"c": comment.pk, "e": email_hash(comment.user_email)}, salt=EDIT_SALT
    )


def read_edit_token(token: str) -> Confirmation:
    """What an edit link names; raises InvalidToken or ExpiredToken."""
    data = load(token, EDIT_SALT, settings.INKWELL_COMMENT_EDIT_SECONDS)
    try:
        return Confirmation(comment_id=int(data["c"]), email_hash=str(data["e"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken from exc
