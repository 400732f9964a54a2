"""New posts to their subscribers: which posts, when, and each mail once.

Which posts. A post is mailed when it is first saved as Published (a new
post, or a draft or private one published) with a publish time no more
than a day in the past (`BACKDATED`), once per post, ever: saving it again,
unpublishing and republishing it, or changing its time never mails it a
second time. Posts imported from WordPress (bulk written, and with a
WordPress id) and posts loaded from fixtures are never mailed, nor are the
posts published before subscriptions existed. Such a post gets a
PostMailing, WAITING until the post is public.

When. The mailing starts when the post goes public: a `start_mailings` task
queued to run at the publish time (again whenever the time changes), and
the worker's own sweep (blog/worker.py calls `start_due` and
`resume_stalled` at every check-in), which catches a lost task or a time
changed behind the admin's back. Starting writes one Delivery per
confirmed subscriber who gets the post, in the transaction that moves the
mailing to SENDING, so two workers cannot both start it.

Each mail once. `send_batch` sends up to INKWELL_SUBSCRIPTION_BATCH_SIZE
mails, then queues the next batch for when the rate allows
(INKWELL_SUBSCRIPTION_MAILS_PER_MINUTE). Each Delivery is claimed before
it is sent: PENDING → SENDING in a transaction of its own, the row locked
and skipped by every other worker (`select_for_update(skip_locked=True)` on
PostgreSQL; SQLite runs one writer at a time). Only then is the mail
handed to the mail server, and the row marked SENT. So a mail goes at most
once: a worker killed while it talked to the mail server leaves that one
Delivery SENDING, and nothing ever sends it again (it may or may not have
arrived; the admin counts it as cut off). The rest of the batch is still
PENDING, and the worker that picks the batch task up again (blog/worker.py
puts a killed worker's task back in the queue) sends them. A mail the
server refused for a passing reason goes back to PENDING and the batch is
tried again later; one refused for good (5xx) is FAILED.

Several workers: batch tasks are numbered (`PostMailing.batch`); only the
task of the current number runs, and only the first to finish it queues the
next, so a task that ran twice does not double the rate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from blog import mail
from blog.links import absolute, absolute_html
from blog.models import Post
from blog.subscriptions import tokens
from blog.subscriptions.models import Delivery, PostMailing, Subscriber
from blog.worker import RetryScheduled

logger = logging.getLogger(__name__)

BACKDATED = timedelta(days=1)  # published further back than this: not mailed
# A SENDING mailing whose next batch has not run this long after it was due
# lost its task (or its workers): the sweep queues a new one.
STALLED_AFTER = timedelta(minutes=15)
CREATE_CHUNK = 1000  # Delivery rows written per INSERT
MANAGE_URL = "__inkwell_manage_url__"  # per-subscriber links, filled in per mail
UNSUBSCRIBE_URL = "__inkwell_unsubscribe_url__"


# Which posts, and when


def is_mailable(post: Post) -> bool:
    return (
        post.status == Post.Status.PUBLISHED
        and post.wordpress_id is None
        and post.published_at is not None
        and post.published_at >= timezone.now() - BACKDATED
    )


def post_saved(post: Post, published_before: Post | None) -> None:
    """Called by Post.save() with the post as it was if it was already
    Published (None for a new post or one published just now)."""
    if post.status != Post.Status.PUBLISHED:
        return
    if published_before is None:
        if not is_mailable(post):
            return
        PostMailing.objects.get_or_create(post=post)
    else:
        moved = published_before.published_at != post.published_at
        waiting = PostMailing.objects.filter(post=post, state=PostMailing.State.WAITING)
        if not moved or not waiting.exists():
            return
    at = post.published_at
    transaction.on_commit(lambda: queue_start(at))


def queue_start(at) -> None:
    """Queue `start_mailings` for `at` (now if it has passed). A backend that
    cannot defer tasks leaves a future time to the worker's sweep."""
    if at <= timezone.now():
        start_mailings.enqueue()
    elif start_mailings.get_backend().supports_defer:
        start_mailings.using(run_after=at).enqueue()


@task()
def start_mailings() -> int:
    """Start the mailings of the posts that are public now."""
    return start_due()


def start_due() -> int:
    due = PostMailing.objects.filter(
        state=PostMailing.State.WAITING, post__in=Post.objects.published()
    ).values_list("pk", flat=True)
    return sum(start(pk) for pk in list(due))


def start(mailing_id: int) -> bool:
    """Write the deliveries and move the mailing to SENDING; False if it was
    not WAITING (another worker started it) or its post is not public."""
    with transaction.atomic():
        mailing = (
            PostMailing.objects.select_for_update()
            .filter(pk=mailing_id, state=PostMailing.State.WAITING)
            .first()
        )
        if mailing is None:
            return False
        post = Post.objects.published().filter(pk=mailing.post_id).first()
        if post is None:
            return False
        recipients = Subscriber.objects.receiving(post).values_list("pk", flat=True)
        chunk: list[Delivery] = []
        for subscriber_id in recipients.iterator(chunk_size=CREATE_CHUNK):
            chunk.append(Delivery(mailing=mailing, subscriber_id=subscriber_id))
            if len(chunk) == CREATE_CHUNK:
                Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
                chunk = []
        Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
        now = timezone.now()
        mailing.state = PostMailing.State.SENDING
        mailing.started_at = mailing.next_batch_at = now
        mailing.batch = 1
        mailing.save(update_fields=["state", "started_at", "next_batch_at", "batch"])
        transaction.on_commit(
            lambda: send_batch.enqueue(mailing_id=mailing_id, batch=1)
        )
    logger.info("Mailing %s of post %s started", mailing_id, post.pk)
    return True


def resume_stalled() -> int:
    """Queue a new batch for every SENDING mailing whose batch task is long
    overdue (lost, or its worker gone); the old task, should it still run,
    finds itself superseded."""
    resumed = 0
    overdue = PostMailing.objects.filter(
        state=PostMailing.State.SENDING,
        next_batch_at__lt=timezone.now() - STALLED_AFTER,
    ).values_list("pk", "batch")
    for mailing_id, batch in list(overdue):
        if advance(mailing_id, batch, timezone.now()):
            send_batch.enqueue(mailing_id=mailing_id, batch=batch + 1)
            logger.warning(
                "Mailing %s had stalled; batch %s queued", mailing_id, batch + 1
            )
            resumed += 1
    return resumed


def sweep() -> None:
    """What the worker does at every check-in (blog/worker.py)."""
    start_due()
    resume_stalled()


def advance(mailing_id: int, batch: int, at) -> bool:
    """Make `batch + 1` the current batch, due `at`; False if another task
    already did (only one of them queues it)."""
    return bool(
        PostMailing.objects.filter(
            pk=mailing_id, state=PostMailing.State.SENDING, batch=batch
        ).update(batch=batch + 1, next_batch_at=at)
    )


# The mail


@dataclass(frozen=True)
class Letter:
    """One post's mail, rendered once (in the site's language) with
    placeholders for each subscriber's own links."""

    subject: str
    text: str
    html: str
    manage_url: str  # with TOKEN where each subscriber's token goes
    unsubscribe_url: str

    @classmethod
    def of(cls, post: Post) -> Letter:
        full = settings.INKWELL_SUBSCRIPTION_MAIL_CONTENT == "full"
        full = full and not post.is_protected
        subject, text, html = mail.render(
            subject=post.title,
            template="new_post",
            context={
                "post": post,
                "post_url": absolute(post.get_absolute_url()),
                "full": full,
                "body_html": absolute_html(post.body_html) if full else "",
                "manage_url": MANAGE_URL,
                "unsubscribe_url": UNSUBSCRIBE_URL,
            },
        )
        return cls(
            subject=subject,
            text=text,
            html=html,
            # Reversed once, not twice per mail.
            manage_url=absolute(reverse("blog:subscription_manage", args=["TOKEN"])),
            unsubscribe_url=absolute(
                reverse("blog:subscription_unsubscribe", args=["TOKEN"])
            ),
        )

    def to(self, subscriber: Subscriber, connection=None):
        token = tokens.make_manage_token(subscriber)
        links = {
            MANAGE_URL: self.manage_url.replace("TOKEN", token),
            UNSUBSCRIBE_URL: self.unsubscribe_url.replace("TOKEN", token),
        }
        text, html = self.text, self.html
        for placeholder, url in links.items():
            text, html = text.replace(placeholder, url), html.replace(placeholder, url)
        return mail.message(
            to=[subscriber.email],
            subject=self.subject,
            text=text,
            html=html,
            connection=connection,
            headers={
                # RFC 8058: mail programs offer a button that POSTs here.
                "List-Unsubscribe": f"<{links[UNSUBSCRIBE_URL]}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Precedence": "bulk",
                "Auto-Submitted": "auto-generated",
            },
        )


# Sending


def claim(mailing_id: int, sent: Delivery | None = None) -> Delivery | None:
    """The next PENDING delivery of the mailing, now SENDING and this
    worker's alone; None when none is left. `sent`, the delivery the server
    has just taken, is marked SENT in the same transaction (one commit a
    mail, not two)."""
    with transaction.atomic():
        if sent is not None:
            mark(sent, Delivery.State.SENT)
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscriber")
            .filter(mailing_id=mailing_id, state=Delivery.State.PENDING)
            .order_by("pk")
            .first()
        )
        if delivery is None:
            return None
        delivery.state, delivery.claimed_at = Delivery.State.SENDING, timezone.now()
        delivery.save(update_fields=["state", "claimed_at"])
    return delivery


def mark(delivery: Delivery, state: str, error: str = "") -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        state=state,
        sent_at=timezone.now() if state == Delivery.State.SENT else None,
        error=error[:300],
    )


def pause_between_batches(sent: int) -> timedelta:
    per_minute = settings.INKWELL_SUBSCRIPTION_MAILS_PER_MINUTE
    if per_minute <= 0 or sent == 0:
        return timedelta(0)
    return timedelta(minutes=sent / per_minute)


@task()
def send_batch(*, mailing_id: int, batch: int, attempt: int = 1) -> str:
    """Send up to INKWELL_SUBSCRIPTION_BATCH_SIZE mails of one mailing,
    then queue the next batch when the rate allows."""
    mailing = PostMailing.objects.select_related("post").filter(pk=mailing_id).first()
    if mailing is None or mailing.state != PostMailing.State.SENDING:
        return "nothing to send"
    if mailing.batch != batch:
        return f"superseded by batch {mailing.batch}"
    started = timezone.now()
    letter = Letter.of(mailing.post)
    sent, taken = 0, None
    with get_connection() as connection:
        while sent < settings.INKWELL_SUBSCRIPTION_BATCH_SIZE:
            delivery = claim(mailing_id, sent=taken)
            taken = None
            if delivery is None:
                break
            try:
                letter.to(delivery.subscriber, connection).send()
            except OSError as error:  # smtplib.SMTPException is an OSError
                if mail.is_permanent(error):
                    mark(
                        delivery,
                        Delivery.State.FAILED,
                        f"{error.__class__.__name__}: {error}",
                    )
                    continue
                # Not taken: it goes back, and the batch is tried again later.
                mark(delivery, Delivery.State.PENDING)
                retry_later(mailing_id, batch, attempt, error)
            taken = delivery
            sent += 1
        if taken is not None:
            mark(taken, Delivery.State.SENT)
    if not Delivery.objects.filter(
        mailing_id=mailing_id, state=Delivery.State.PENDING
    ).exists():
        PostMailing.objects.filter(
            pk=mailing_id, state=PostMailing.State.SENDING
        ).update(state=PostMailing.State.DONE, finished_at=timezone.now())
        return f"sent {sent}; mailing done"
    due = started + pause_between_batches(sent)
    if advance(mailing_id, batch, due):
        queue = send_batch
        if due > timezone.now() and send_batch.get_backend().supports_defer:
            queue = send_batch.using(run_after=due)
        queue.enqueue(mailing_id=mailing_id, batch=batch + 1)
    return f"sent {sent}"


def retry_later(mailing_id: int, batch: int, attempt: int, error: OSError):
    """Queue this batch again after the mail server's passing failure, as
    send_email retries; raise RetryScheduled (or the error, the last time)."""
    if attempt >= mail.MAX_ATTEMPTS or not send_batch.get_backend().supports_defer:
        raise error
    run_after = timezone.now() + mail.RETRY_DELAYS[attempt - 1]
    PostMailing.objects.filter(pk=mailing_id, batch=batch).update(
        next_batch_at=run_after
    )
    send_batch.using(run_after=run_after).enqueue(
        mailing_id=mailing_id, batch=batch, attempt=attempt + 1
    )
    raise RetryScheduled(
        f"Mailing {mailing_id}, batch {batch}: the mail server failed "
        f"({error.__class__.__name__}: {error}); attempt {attempt + 1} of "
        f"{mail.MAX_ATTEMPTS} is queued for {run_after.isoformat()}"
    ) from error


# What the admin shows


def with_progress(mailings: QuerySet) -> QuerySet:
    """`mailings` with their deliveries counted by state: sent_count,
    waiting_count, refused_count, and cut_off_count (SENDING for longer
    than a batch can take: their worker was killed mid-send)."""
    state = Delivery.State

    def count(**condition) -> Count:
        return Count(
            "deliveries",
            filter=Q(**{f"deliveries__{k}": v for k, v in condition.items()}),
        )

    return mailings.annotate(
        sent_count=count(state=state.SENT),
        waiting_count=count(state=state.PENDING),
        refused_count=count(state=state.FAILED),
        cut_off_count=count(
            state=state.SENDING, claimed_at__lt=timezone.now() - STALLED_AFTER
        ),
    )
