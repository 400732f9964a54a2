"""Asking to subscribe: the confirmation mail (double opt-in).

Nobody is mailed a post until they have opened the link mailed to their
address. The confirmation mail is rate limited per address and per IP, as
the comments' confirmation mail is, so the form cannot be used to mail a
third party over and over; without the cache the counts kept on the
subscriber rows stand in. What the form says back is the same whatever
happened (mail sent, address already subscribed, limit reached): it does not
tell who is subscribed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from blog.links import absolute
from blog.mail import send_templated_mail
from blog.models import Category, SiteIdentity
from blog.ratelimit import within_limit
from blog.subscriptions import tokens
from blog.subscriptions.models import Subscriber, normalized

logger = logging.getLogger(__name__)


def request_subscription(
    email: str,
    *,
    ip_address: str | None,
    source: str = Subscriber.Source.FORM,
    categories: list[Category] | None = None,
) -> bool:
    """Ask `email` to confirm its subscription; True if the mail was queued.

    A confirmed subscriber is left as they are (their categories too: the
    form does not prove who fills it in); anyone else is waiting for
    confirmation again, with the categories asked for now.
    """
    email = normalized(email)
    if not email:
        return False
    with transaction.atomic():
        subscriber, _created = Subscriber.objects.select_for_update().get_or_create(
            email=email, defaults={"source": source}
        )
        if subscriber.state == Subscriber.State.CONFIRMED:
            return False
        if not confirmation_allowed(subscriber, ip_address):
            logger.info(
                "Subscriber %s: no confirmation mail, rate limit reached for its "
                "address or IP",
                subscriber.pk,
            )
            return False
        subscriber.state = Subscriber.State.PENDING
        subscriber.source = source
        subscriber.save(update_fields=["state", "source"])
        subscriber.categories.set(categories or [])
    send_confirmation(subscriber)
    return True


def confirmation_allowed(subscriber: Subscriber, ip_address: str | None) -> bool:
    """Count one more confirmation mail to `subscriber`, asked from
    `ip_address`; False once past the limits of either."""
    window = settings.INKWELL_CONFIRMATION_MAIL_WINDOW
    now = timezone.now()
    if subscriber.requested_at is None or subscriber.requested_at < now - timedelta(
        seconds=window
    ):
        subscriber.requested_at, subscriber.requests_in_window = now, 0
    subscriber.requests_in_window += 1
    subscriber.requested_from = ip_address or None
    subscriber.save(
        update_fields=["requested_at", "requests_in_window", "requested_from"]
    )

    def asked_from_ip(since) -> int:
        rows = Subscriber.objects.filter(
            requested_from=ip_address, requested_at__gte=since
        )
        return rows.aggregate(total=Sum("requests_in_window"))["total"] or 0

    if ip_address and not within_limit(
        "subscribe-mail:ip",
        ip_address,
        settings.INKWELL_CONFIRMATION_MAILS_PER_IP,
        window,
        fallback=asked_from_ip,
    ):
        return False
    return within_limit(
        "subscribe-mail:address",
        subscriber.email,
        settings.INKWELL_CONFIRMATION_MAILS_PER_ADDRESS,
        window,
        fallback=lambda since: subscriber.requests_in_window,
    )


def send_confirmation(subscriber: Subscriber) -> None:
    token = tokens.make_confirmation_token(subscriber)
    max_age = settings.INKWELL_SUBSCRIPTION_CONFIRMATION_MAX_AGE
    send_templated_mail(
        to=subscriber.email,
        subject=format_lazy(
            _("Please confirm your subscription to {site}"),
            site=SiteIdentity.current().title,
        ),
        template="subscription_confirmation",
        context={
            "confirm_url": absolute(reverse("blog:subscription_confirm", args=[token])),
            "categories": [c.name for c in subscriber.categories.all()],
            "valid_for_days": max(1, round(max_age / 86400)),
        },
    )
