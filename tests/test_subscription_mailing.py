"""New posts mailed to their subscribers: which posts, when, and each mail
at most once, whatever happens to the workers (#20.3).

blog/subscriptions/mailing.py says the rules. Two real worker processes on
PostgreSQL, and one killed with SIGKILL mid-send, are at the end (marked
scaleout: they need the shared database).
"""

import os
import re
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from blog.models import Delivery, PostMailing, Subscriber
from blog.subscriptions import mailing
from tests.factories import (
    make_category,
    make_post,
    make_subscriber,
    set_site_identity,
)
from tests.test_worker import wait_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Publish a post as the admin does: the mail starts once it commits."""

    def publish(**fields):
        fields.setdefault("published_at", timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            return make_post(**fields)

    return publish


def run_worker() -> None:
    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0
    )


def addresses(mailoutbox) -> list[str]:
    return sorted(address for message in mailoutbox for address in message.to)


# Which posts


@pytest.mark.django_db
def test_a_new_post_goes_to_each_confirmed_subscriber_as_one_mail(publish, mailoutbox):
    for email in ("a@example.com", "b@example.com"):
        make_subscriber(email=email)
    make_subscriber(email="pending@example.com", state=Subscriber.State.PENDING)
    make_subscriber(email="gone@example.com", state=Subscriber.State.UNSUBSCRIBED)

    post = publish(title="Back Spasm Symptoms", excerpt="What a spasm feels like.")

    assert addresses(mailoutbox) == ["a@example.com", "b@example.com"]
    message = mailoutbox[0]
    assert message.subject == "Back Spasm Symptoms"
    assert "What a spasm feels like." in message.body
    assert f"http://127.0.0.1:8000{post.get_absolute_url()}" in message.body
    unsubscribe = re.search(r"^Unsubscribe: (\S+)$", message.body, re.M).group(1)
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert (
        message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )
    assert "/subscribe/manage/" in message.body
    html = message.alternatives[0][0]
    assert "Read the whole post" in html and unsubscribe in html
    assert PostMailing.objects.get(post=post).state == PostMailing.State.DONE
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_one_click_unsubscribe_from_the_mail_stops_the_next_one(publish, mailoutbox):
    make_subscriber(email="a@example.com")
    publish()
    [message] = mailoutbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>")

    response = Client(enforce_csrf_checks=True).post(
        url.removeprefix("http://127.0.0.1:8000"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert Subscriber.objects.get().state == Subscriber.State.UNSUBSCRIBED
    mailoutbox.clear()
    publish()
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_post_is_mailed_once_however_often_it_is_saved_or_republished(
    publish, mailoutbox, django_capture_on_commit_callbacks
):
    make_subscriber(email="a@example.com")
    post = publish()
    with django_capture_on_commit_callbacks(execute=True):
        post.title = "Edited"
        post.save()
        post.status = post.Status.DRAFT
        post.save()
        post.status = post.Status.PUBLISHED
        post.published_at = timezone.now()
        post.save()
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_old_imported_and_unpublished_posts_are_never_mailed(publish, mailoutbox):
    make_subscriber()
    publish(published_at=timezone.now() - timedelta(days=2))  # backdated
    publish(wordpress_id=4242)  # imported
    publish(status="draft", published_at=None)
    publish(status="private")
    assert mailoutbox == []
    assert not PostMailing.objects.exists()


@pytest.mark.django_db
def test_a_draft_is_mailed_when_it_is_published(publish, mailoutbox):
    make_subscriber()
    draft = publish(status="draft", published_at=None)
    with mock.patch.object(mailing.transaction, "on_commit", lambda f: f()):
        draft.status = draft.Status.PUBLISHED
        draft.save()
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_category_subscribers_get_the_posts_of_their_category_and_below(
    publish, mailoutbox
):
    health = make_category(name="Health")
    back = make_category(name="Back", parent=health)
    news = make_category(name="News")
    make_subscriber(email="all@example.com")
    make_subscriber(email="health@example.com", categories=[health])
    make_subscriber(email="news@example.com", categories=[news])

    publish(category=back)
    assert addresses(mailoutbox) == ["all@example.com", "health@example.com"]


@pytest.mark.django_db
def test_the_full_text_setting_mails_the_post_with_absolute_links(
    publish, mailoutbox, settings
):
    settings.INKWELL_SUBSCRIPTION_MAIL_CONTENT = "full"
    make_subscriber()
    publish(body="## Symptoms\n\nSee [the list](/2026/01/list/).", excerpt="Short.")
    [message] = mailoutbox
    html = message.alternatives[0][0]
    assert "<h2" in html and "Symptoms" in html
    assert 'href="http://127.0.0.1:8000/2026/01/list/"' in html
    assert "## Symptoms" in message.body  # the text part: the Markdown
    assert "Read the whole post" not in html


@pytest.mark.django_db
def test_a_password_protected_post_is_mailed_without_its_text(
    publish, mailoutbox, settings
):
    settings.INKWELL_SUBSCRIPTION_MAIL_CONTENT = "full"
    make_subscriber()
    publish(body="The secret text.", password="open sesame")
    [message] = mailoutbox
    assert "The secret text." not in message.body
    assert "The secret text." not in message.alternatives[0][0]
    assert "protected" in message.body


@pytest.mark.django_db
def test_the_mail_is_in_the_site_language(publish, mailoutbox):

    set_site_identity(language="de")
    make_subscriber()
    publish()
    assert "Abmelden" in mailoutbox[0].alternatives[0][0]


# When: scheduled posts, batches and the rate


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_post_is_mailed_at_its_time_and_once_if_its_time_changes(
    database_tasks, mailoutbox, restore_signals
):
    make_subscriber(email="a@example.com")
    now = timezone.now()
    post = make_post(published_at=now + timedelta(hours=1))
    [queued] = DBTaskResult.objects.filter(task_path__endswith="start_mailings")
    assert abs(queued.run_after - post.published_at) < timedelta(seconds=1)

    run_worker()  # now: nothing is due
    assert mailoutbox == []
    assert PostMailing.objects.get().state == PostMailing.State.WAITING

    post.published_at = now + timedelta(hours=2)  # the author moves it
    post.save()
    with mock.patch(
        "django.utils.timezone.now", return_value=now + timedelta(minutes=90)
    ):
        run_worker()  # the first time came: the post is not public yet
    assert mailoutbox == []
    with mock.patch(
        "django.utils.timezone.now", return_value=now + timedelta(hours=2, seconds=1)
    ):
        run_worker()
        run_worker()
    assert addresses(mailoutbox) == ["a@example.com"]
    assert PostMailing.objects.get().state == PostMailing.State.DONE


@pytest.mark.django_db(transaction=True)
def test_the_worker_starts_a_mailing_whose_task_was_lost(
    database_tasks, mailoutbox, restore_signals
):
    make_subscriber(email="a@example.com")
    make_post(published_at=timezone.now() + timedelta(minutes=5))
    DBTaskResult.objects.all().delete()  # lost
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=6)
    ):
        run_worker()
    assert addresses(mailoutbox) == ["a@example.com"]


@pytest.mark.django_db(transaction=True)
def test_mail_goes_in_batches_at_the_rate_set(
    database_tasks, mailoutbox, restore_signals, settings
):
    settings.INKWELL_SUBSCRIPTION_BATCH_SIZE = 2
    settings.INKWELL_SUBSCRIPTION_MAILS_PER_MINUTE = 60
    for number in range(5):
        make_subscriber(email=f"r{number}@example.com")
    now = timezone.now()
    make_post(published_at=now - timedelta(seconds=1))

    run_worker()  # the start, and the first batch; the next is not due yet
    assert len(mailoutbox) == 2
    [following] = DBTaskResult.objects.filter(status="READY")
    assert following.args_kwargs["kwargs"]["batch"] == 2
    assert timedelta(seconds=1) < following.run_after - now < timedelta(seconds=5)

    for seconds in (3, 6):
        with mock.patch(
            "django.utils.timezone.now", return_value=now + timedelta(seconds=seconds)
        ):
            run_worker()
    assert len(mailoutbox) == 5
    assert len(set(addresses(mailoutbox))) == 5
    assert PostMailing.objects.get().state == PostMailing.State.DONE


@pytest.mark.django_db
def test_a_superseded_batch_task_sends_nothing(publish, mailoutbox, database_tasks):
    make_subscriber()
    post = publish()  # queued, not run
    mailing.start_due()
    mailing_id = post.mailing.pk
    assert mailing.advance(mailing_id, 1, timezone.now())  # the sweep moved on
    assert mailing.send_batch.call(mailing_id=mailing_id, batch=1).startswith(
        "superseded"
    )
    assert mailoutbox == []


# Each mail at most once


@pytest.mark.django_db
def test_two_workers_never_claim_the_same_delivery(publish, database_tasks):
    for _ in range(3):
        make_subscriber()
    post = publish()
    mailing.start_due()
    first = mailing.claim(post.mailing.pk)
    second = mailing.claim(post.mailing.pk)
    third = mailing.claim(post.mailing.pk)
    assert len({first.pk, second.pk, third.pk}) == 3
    assert mailing.claim(post.mailing.pk) is None
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sending"}


class Killed(BaseException):
    """What SIGKILL does to a worker: nothing after it runs."""


class DiesAfterThirdMail(EmailBackend):
    """The mail server takes the third mail, then the worker is killed
    before it can write down that it was sent."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        from django.core import mail

        if len(mail.outbox) == 3:
            raise Killed
        return sent


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_the_rest_to_the_next_and_sends_none_twice(
    database_tasks, mailoutbox, restore_signals, settings, monkeypatch
):
    settings.INKWELL_SUBSCRIPTION_BATCH_SIZE = 10
    settings.INKWELL_SUBSCRIPTION_MAILS_PER_MINUTE = 0
    for number in range(6):
        make_subscriber(email=f"r{number}@example.com")
    make_post(published_at=timezone.now())

    settings.EMAIL_BACKEND = "tests.test_subscription_mailing.DiesAfterThirdMail"
    real_set_failed = DBTaskResult.set_failed

    def killed_writes_nothing(self, exception):
        if isinstance(exception, Killed):
            raise exception
        real_set_failed(self, exception)

    monkeypatch.setattr(DBTaskResult, "set_failed", killed_writes_nothing)
    with pytest.raises(Killed):
        run_worker()
    states = sorted(Delivery.objects.values_list("state", flat=True))
    assert states == ["pending"] * 3 + ["sending"] + ["sent"] * 2
    [batch] = DBTaskResult.objects.filter(status="RUNNING")

    # The worker comes back; the killed one's task is abandoned (its worker
    # silent, started long ago), so it runs again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    long_ago = timezone.now() - timedelta(minutes=20)
    DBTaskResult.objects.filter(pk=batch.pk).update(started_at=long_ago)
    run_worker()

    # Six mails, one each: the one in flight was taken by the server and is
    # not sent again (at most once); it stays SENDING, counted as cut off.
    assert addresses(mailoutbox) == [f"r{number}@example.com" for number in range(6)]
    in_flight = Delivery.objects.get(state="sending")
    assert mailoutbox[2].to == [in_flight.subscriber.email]  # the third
    Delivery.objects.filter(pk=in_flight.pk).update(claimed_at=long_ago)
    mailing_row = PostMailing.objects.get()
    assert mailing_row.state == PostMailing.State.DONE
    counted = mailing.with_progress(PostMailing.objects.all()).get()
    assert (counted.sent_count, counted.waiting_count, counted.cut_off_count) == (
        5,
        0,
        1,
    )


class RefusesOne(EmailBackend):
    def send_messages(self, messages):
        import smtplib

        if messages[0].to == ["bad@example.com"]:
            raise smtplib.SMTPRecipientsRefused(
                {"bad@example.com": (550, b"No such user")}
            )
        return super().send_messages(messages)


class ServerDown(EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.django_db
def test_an_address_the_server_refuses_for_good_fails_and_the_rest_go(
    publish, mailoutbox, settings
):
    settings.EMAIL_BACKEND = "tests.test_subscription_mailing.RefusesOne"
    make_subscriber(email="bad@example.com")
    make_subscriber(email="good@example.com")
    publish()
    assert addresses(mailoutbox) == ["good@example.com"]
    failed = Delivery.objects.get(state="failed")
    assert "550" in failed.error


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_down_puts_the_mail_back_and_tries_the_batch_later(
    database_tasks, mailoutbox, restore_signals, settings
):
    make_subscriber(email="a@example.com")
    make_post(published_at=timezone.now())
    settings.EMAIL_BACKEND = "tests.test_subscription_mailing.ServerDown"
    run_worker()
    assert Delivery.objects.get().state == "pending"
    [retry] = DBTaskResult.objects.filter(status="READY")
    assert retry.args_kwargs["kwargs"] == {
        "mailing_id": PostMailing.objects.get().pk,
        "batch": 1,
        "attempt": 2,
    }
    assert retry.run_after > timezone.now() + timedelta(minutes=1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=3)
    ):
        run_worker()
    assert addresses(mailoutbox) == ["a@example.com"]


# Real worker processes on PostgreSQL


def worker_environment(settings, sink: Path, **extra: str) -> dict[str, str]:
    database = settings.DATABASES["default"]
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "EMAIL_", "SUBSCRIPTION_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="blog.settings",
        DATABASE_URL=url,
        EMAIL_BACKEND="tests.mailsink.Backend",
        MAIL_SINK=str(sink),
        SUBSCRIPTION_BATCH_SIZE="1000",
        SUBSCRIPTION_MAILS_PER_MINUTE="0",
        **extra,
    )
    return environment


def start_worker(environment: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.05",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def sent_lines(sink: Path) -> list[tuple[int, str]]:
    if not sink.exists():
        return []
    return [
        (int(pid), to)
        for pid, to in (line.split() for line in sink.read_text().splitlines())
    ]


@pytest.mark.scaleout
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_send_each_mail_once_even_when_one_is_killed(
    database_tasks, settings, tmp_path
):
    """Two workers run the same batch at once (a task run twice); one is
    killed (SIGKILL) halfway: every subscriber gets the post once, except
    at most the one whose mail was in flight, which nobody sends again."""
    emails = [f"reader{number}@example.com" for number in range(200)]
    Subscriber.objects.bulk_create(
        Subscriber(email=email, state="confirmed", confirmed_at=timezone.now())
        for email in emails
    )
    post = make_post(published_at=timezone.now())
    DBTaskResult.objects.all().delete()  # started here instead, below
    assert mailing.start_due() == 1
    mailing.send_batch.enqueue(mailing_id=post.mailing.pk, batch=1)  # twice
    assert DBTaskResult.objects.filter(status="READY").count() == 2

    sink = tmp_path / "sent"
    environment = worker_environment(settings, sink, MAIL_SINK_DELAY="0.01")
    workers = [start_worker(environment, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        wait_for(
            lambda: {pid for pid, _ in sent_lines(sink)} == {w.pid for w in workers},
            "both workers sending",
        )
        wait_for(lambda: len(sent_lines(sink)) >= 80, "80 mails")
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait()
        wait_for(
            lambda: not Delivery.objects.filter(state="pending").exists(),
            "every mail claimed",
            seconds=60,
        )
        wait_for(
            lambda: PostMailing.objects.get().state == PostMailing.State.DONE,
            "the mailing done",
        )
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()

    sent = [to for _, to in sent_lines(sink)]
    assert len(sent) == len(set(sent))  # nobody twice
    by_pid = {pid for pid, _ in sent_lines(sink)}
    assert by_pid == {w.pid for w in workers}  # both did send
    in_flight = set(
        Delivery.objects.filter(state="sending").values_list(
            "subscriber__email", flat=True
        )
    )
    assert len(in_flight) <= 1
    assert set(emails) - set(sent) <= in_flight  # only the one in flight unsent
    assert Delivery.objects.filter(state="sent").count() == 200 - len(in_flight)
