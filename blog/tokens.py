"""Signed tokens for the links in our emails: what they share.

Django's signed JSON (no pickle: a leaked SECRET_KEY does not become code
execution), carrying ids and a keyed hash of the address, never the address
itself. Each kind of link signs with a salt of its own, so that one kind
cannot stand in for another. The comments app's links (comments/tokens.py)
and the subscriptions' (blog/subscriptions/tokens.py) are built on these.
"""

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare, salted_hmac


class InvalidToken(Exception):
    """The link was altered, belongs to something else, or never existed."""


class ExpiredToken(InvalidToken):
    """The link was genuine but is older than it may be."""


def load(token: str, salt: str, max_age: int | None = None):
    """The signed JSON payload of a link; raises InvalidToken or ExpiredToken."""
    try:
        return signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except signing.BadSignature as exc:
        raise InvalidToken from exc


def email_hash(email: str) -> str:
    """A keyed hash of an address: binds a link to it without showing it.

    (Its salt still names the comments app, where it began: links already
    mailed depend on it.)"""
    normalized = (email or "").strip().lower()
    return salted_hmac("inkwell.comments.email", normalized).hexdigest()[:16]


def same_email(email: str, hashed: str) -> bool:
    return constant_time_compare(email_hash(email), hashed)


def invalid_link(
    request: HttpRequest, *, template: str, expired: bool = False
) -> HttpResponse:
    """The page a link that does not work leads to: 410 for an expired one,
    400 for one that never was (`template` says what to do next)."""
    return render(
        request, template, {"expired": expired}, status=410 if expired else 400
    )
