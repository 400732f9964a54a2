"""The signed links of subscription mails (built on blog/tokens.py).

The confirmation link expires; the manage and unsubscribe link does not:
people click unsubscribe links in old messages, and all it leads to is the
reader's own subscription.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from blog.subscriptions.models import Subscriber
from blog.tokens import (  # noqa: F401  (callers catch tokens.ExpiredToken)
    ExpiredToken,
    InvalidToken,
    email_hash,
    load,
    same_email,
)

CONFIRM_SALT = "inkwell.subscriptions.confirm"
MANAGE_SALT = "inkwell.subscriptions.manage"


def _dump(subscriber: Subscriber, salt: str) -> str:
    return signing.dumps(
        {"s": subscriber.pk, "e": email_hash(subscriber.email)}, salt=salt
    )


def _subscriber(token: str, salt: str, max_age: int | None = None) -> Subscriber:
    """The subscriber a link names, if it still has the address the link was
    made for; raises InvalidToken (or ExpiredToken) otherwise."""
    data = load(token, salt, max_age)
    try:
        subscriber_id, hashed = int(data["s"]), str(data["e"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken from exc
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or not same_email(subscriber.email, hashed):
        raise InvalidToken
    return subscriber


def make_confirmation_token(subscriber: Subscriber) -> str:
    return _dump(subscriber, CONFIRM_SALT)


def confirming(token: str) -> Subscriber:
    return _subscriber(
        token, CONFIRM_SALT, settings.INKWELL_SUBSCRIPTION_CONFIRMATION_MAX_AGE
    )


def make_manage_token(subscriber: Subscriber) -> str:
    return _dump(subscriber, MANAGE_SALT)


def managing(token: str) -> Subscriber:
    return _subscriber(token, MANAGE_SALT)
