"""Comment email: confirmation, follow-ups, author and approval notices, the queue.

The comments app sends `comment_submitted` when a reader's comment is saved
and `comment_state_changed` when it moves; these tests send them the same way.
"""

import base64
import json
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_comments.signals import comment_was_posted
from django_tasks_db.models import DBTaskResult

from blog import mail as tasks
from blog.worker import RetryScheduled
from comments import tokens
from comments.models import Comment
from comments.signals import comment_submitted
from tests.factories import make_comment, make_page, make_post, make_user
from tests.test_comments import POST_URL, form_data

pytestmark = pytest.mark.django_db

State = Comment.State
LINK = re.compile(r"https?://[^\s\"'<>]+")


def submit(comment: Comment, ip: str = "198.51.100.7") -> None:
    """What the comments app does once a reader's comment is saved."""
    request = RequestFactory().post("/comments/post/", REMOTE_ADDR=ip)
    comment_submitted.send(sender=Comment, comment=comment, request=request)


def links(message) -> list[str]:
    return LINK.findall(message.body)


def confirmation_path(message) -> str:
    url = next(link for link in links(message) if "/comments/confirm/" in link)
    return urlsplit(url).path


def html_body(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


@pytest.fixture
def post():
    return make_post(title="Back pain & you", author=make_user(username="writer"))


# Confirmation of anonymous comments


def test_anonymous_comment_gets_one_confirmation_mail(post, mailoutbox):
    comment = make_comment(post=post, email="ann@example.org", state=State.UNCONFIRMED)

    submit(comment)

    [message] = mailoutbox
    assert message.to == ["ann@example.org"]
    assert "confirm your comment" in message.subject
    assert confirmation_path(message).startswith("/comments/confirm/")
    assert "Confirm my comment" in html_body(message)
    assert "A thoughtful reply." in message.body


def test_confirmation_link_is_short_expiring_signed_json_not_a_pickle(post, mailoutbox):
    comment = make_comment(post=post, state=State.UNCONFIRMED)
    submit(comment)

    path = confirmation_path(mailoutbox[0])
    token = path.removeprefix("/comments/confirm/").strip("/")

    assert len(path) < 120
    payload = token.split(":")[0]
    # The payload is base64 of JSON (a pickle starts with b"\x80").
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert json.loads(raw) == signing.loads(token, salt=tokens.CONFIRM_SALT)
    assert signing.loads(token, salt=tokens.CONFIRM_SALT) == {
        "c": comment.pk,
        "e": tokens.email_hash(comment.user_email),
    }
    with pytest.raises(signing.SignatureExpired):
        signing.loads(token, salt=tokens.CONFIRM_SALT, max_age=-1)


def test_every_mail_has_text_and_html_with_links_on_site_url(
    post, client, mailoutbox, settings
):
    settings.SITE_URL = "https://blog.example.com"
    make_comment(post=post, email="ann@example.org", followup=True)
    unconfirmed = make_comment(post=post, state=State.UNCONFIRMED)
    held = make_comment(post=post, email="carl@example.org", state=State.HELD)

    submit(unconfirmed)  # confirmation
    client.post(confirmation_path(mailoutbox[0]))  # author, follower
    submit(held)  # author (awaits moderation)
    held.set_state(State.PUBLIC)  # follower, approval

    templates = {
        "confirm your comment",
        "New comment on",
        "awaits moderation",
        "is published",
    }
    assert len(mailoutbox) == 6
    assert all(any(t in m.subject for m in mailoutbox) for t in templates)
    for message in mailoutbox:
        assert message.body.strip()
        found = links(message) + LINK.findall(html_body(message))
        assert found
        assert all(link.startswith("https://blog.example.com/") for link in found)


def test_confirm_page_get_changes_nothing(post, client, mailoutbox):
    comment = make_comment(post=post, state=State.UNCONFIRMED, body="My *view*")
    submit(comment)
    path = confirmation_path(mailoutbox[0])

    response = client.get(path)

    assert response.status_code == 200
    assert b"Confirm my comment" in response.content
    assert b"My <em>view</em>" in response.content
    comment.refresh_from_db()
    assert comment.state == State.UNCONFIRMED
    assert len(mailoutbox) == 1


def test_confirm_post_publishes_and_shows_the_comment(post, mailoutbox):
    client = Client(enforce_csrf_checks=True)
    comment = make_comment(post=post, state=State.UNCONFIRMED)
    submit(comment)
    path = confirmation_path(mailoutbox[0])

    page = client.get(path)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', page.text)[1]
    response = client.post(path, {"csrfmiddlewaretoken": csrf}, follow=True)

    comment.refresh_from_db()
    assert comment.state == State.PUBLIC
    assert response.redirect_chain[0][0] == comment.get_absolute_url()
    assert response.redirect_chain[-1][0] == (
        f"{post.get_absolute_url()}?cpage=1#c{comment.pk}"
    )
    assert b"your comment is published" in response.content
    assert b"A thoughtful reply." in response.content


def test_confirmation_link_works_once(post, client, mailoutbox):
    comment = make_comment(post=post, state=State.UNCONFIRMED)
    submit(comment)
    path = confirmation_path(mailoutbox[0])
    client.post(path)
    sent = len(mailoutbox)

    again_get = client.get(path)
    again_post = client.post(path)

    for response in (again_get, again_post):
        assert response.status_code == 200
        assert b"Already confirmed" in response.content
    assert len(mailoutbox) == sent  # nobody is told twice


@pytest.mark.parametrize(
    "spoil",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "e30" + token[3:],
        lambda token: tokens.make_unsubscribe_token(1, "x@example.org"),
        lambda token: "not-a-token",
    ],
    ids=["signature", "payload", "other-salt", "garbage"],
)
def test_altered_confirmation_link_is_refused_kindly(post, client, mailoutbox, spoil):
    comment = make_comment(post=post, state=State.UNCONFIRMED)
    token = tokens.make_confirmation_token(comment)

    response = client.post(reverse("comments:confirm", args=[spoil(token)]))

    assert response.status_code == 400
    assert b"This link does not work" in response.content
    comment.refresh_from_db()
    assert comment.state == State.UNCONFIRMED


def test_expired_confirmation_link_is_refused(post, client, monkeypatch, settings):
    comment = make_comment(post=post, state=State.UNCONFIRMED)
    token = tokens.make_confirmation_token(comment)
    later = time.time() + settings.INKWELL_COMMENT_CONFIRMATION_MAX_AGE + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = client.post(reverse("comments:confirm", args=[token]))

    assert response.status_code == 410
    assert b"This link has expired" in response.content
    comment.refresh_from_db()
    assert comment.state == State.UNCONFIRMED


def test_confirmation_link_is_bound_to_the_address(post, client):
    comment = make_comment(post=post, email="ann@example.org", state=State.UNCONFIRMED)
    token = tokens.make_confirmation_token(comment)
    Comment.objects.filter(pk=comment.pk).update(user_email="eve@example.org")

    response = client.post(reverse("comments:confirm", args=[token]))

    assert response.status_code == 400
    comment.refresh_from_db()
    assert comment.state == State.UNCONFIRMED


def test_confirmation_mail_is_limited_per_address(
    post, mailoutbox, settings, monkeypatch
):
    settings.INKWELL_CONFIRMATION_MAILS_PER_ADDRESS = 3
    comments = [
        make_comment(post=post, email="Victim@Example.org", state=State.UNCONFIRMED)
        for _ in range(5)
    ]
    for number, comment in enumerate(comments):
        comment.ip_address = f"203.0.113.{number}"
        submit(comment)

    assert len(mailoutbox) == 3
    assert Comment.objects.filter(state=State.UNCONFIRMED).count() == 5

    # The window slides: an hour (and a tenth of one, its slices) later, the
    # first mails no longer count.
    later = time.time() + settings.INKWELL_CONFIRMATION_MAIL_WINDOW * 1.1
    monkeypatch.setattr(time, "time", lambda: later)
    submit(comments[0])
    assert len(mailoutbox) == 4


def test_confirmation_mail_is_limited_per_ip(post, mailoutbox, settings):
    settings.INKWELL_CONFIRMATION_MAILS_PER_IP = 4
    for number in range(6):
        comment = make_comment(
            post=post,
            email=f"person{number}@example.org",
            state=State.UNCONFIRMED,
            ip_address="203.0.113.99",
        )
        submit(comment)

    assert len(mailoutbox) == 4


def test_confirmation_mail_stays_limited_while_the_cache_is_down(
    post, mailoutbox, settings, cache_down
):
    settings.INKWELL_CONFIRMATION_MAILS_PER_ADDRESS = 3
    settings.INKWELL_CONFIRMATION_MAILS_PER_IP = 4
    for number in range(5):  # one address, from five IPs
        submit(
            make_comment(
                post=post,
                email="Victim@Example.org",
                state=State.UNCONFIRMED,
                ip_address=f"203.0.113.{number}",
            )
        )
    assert len(mailoutbox) == 3
    for number in range(5):  # one IP, five more addresses
        submit(
            make_comment(
                post=post,
                email=f"person{number}@example.org",
                state=State.UNCONFIRMED,
                ip_address="198.51.100.99",
            )
        )
    assert len(mailoutbox) == 3 + 4


def test_signed_in_readers_and_public_comments_get_no_confirmation(post, mailoutbox):
    reader = make_user(username="reader")
    submit(make_comment(post=post, user=reader))

    assert not [m for m in mailoutbox if "/comments/confirm/" in m.body]
    assert [m.to for m in mailoutbox] == [[post.author.email]]


# Follow-ups, author and approval notices


def test_followers_get_one_mail_each_never_their_own(post, mailoutbox):
    make_comment(post=post, email="ann@example.org", followup=True)
    make_comment(post=post, email="ANN@example.org", followup=True)  # same person
    make_comment(post=post, email="bob@example.org", followup=True)
    make_comment(post=post, email="quiet@example.org", followup=False)
    make_comment(post=post, email="held@example.org", followup=True, state=State.HELD)
    make_comment(
        post=post, email="unconfirmed@example.org", followup=True, state="unconfirmed"
    )
    make_comment(post=post, email="spam@example.org", followup=True, state=State.SPAM)
    make_comment(post=post, user=post.author, followup=True)
    make_comment(post=make_post(), email="elsewhere@example.org", followup=True)

    submit(make_comment(post=post, email="bob@example.org", followup=True))

    followups = [m for m in mailoutbox if m.to != [post.author.email]]
    assert sorted(m.to[0] for m in followups) == ["ann@example.org"]
    assert [m.to for m in mailoutbox].count([post.author.email]) == 1


def test_only_approved_comments_reach_followers(post, mailoutbox):
    make_comment(post=post, email="ann@example.org", followup=True)
    held = make_comment(post=post, email="carl@example.org", state=State.HELD)

    submit(held)
    assert [m.to for m in mailoutbox] == [[post.author.email]]
    assert "awaits moderation" in mailoutbox[0].subject

    held.set_state(State.PUBLIC, by=post.author)

    recipients = sorted(m.to[0] for m in mailoutbox[1:])
    assert recipients == ["ann@example.org", "carl@example.org"]
    approved = next(m for m in mailoutbox if m.to == ["carl@example.org"])
    assert "is published" in approved.subject


def test_spam_and_trash_send_nothing_and_restoring_does_not_repeat(post, mailoutbox):
    make_comment(post=post, email="ann@example.org", followup=True)
    spam = make_comment(post=post, state=State.SPAM)
    submit(spam)
    assert mailoutbox == []

    public = make_comment(post=post)
    submit(public)
    sent = len(mailoutbox)
    public.set_state(State.TRASH)
    public.set_state(State.PUBLIC)
    assert len(mailoutbox) == sent


def test_unconfirmed_comment_is_announced_once_confirmed(post, client, mailoutbox):
    make_comment(post=post, email="ann@example.org", followup=True)
    comment = make_comment(post=post, state=State.UNCONFIRMED)
    submit(comment)
    assert [m.to for m in mailoutbox] == [[comment.user_email]]

    client.post(confirmation_path(mailoutbox[0]))

    assert sorted(m.to[0] for m in mailoutbox[1:]) == sorted(
        [post.author.email, "ann@example.org"]
    )


def test_post_author_is_not_told_of_their_own_comments(post, mailoutbox):
    submit(make_comment(post=post, user=post.author))
    submit(make_comment(post=post, email=post.author.email.upper()))

    assert mailoutbox == []


def test_mail_escapes_html_and_text_reads_plainly(post, mailoutbox):
    submit(
        make_comment(
            post=post,
            name="<script>alert(1)</script>",
            body="Tom & Jerry <img src=x onerror=alert(1)> *really*",
        )
    )

    [message] = mailoutbox
    html = html_body(message)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "onerror" not in html
    assert "<em>really</em>" in html
    assert "Back pain &amp; you" in html
    assert "Tom & Jerry" in message.body
    assert "&amp;" not in message.body
    assert "Back pain & you" in message.subject


# Unsubscribing from follow-ups


@pytest.fixture
def followup_mail(post, mailoutbox):
    """The follow-up mail ann@example.org gets, and her comments."""
    own = [
        make_comment(post=post, email="ann@example.org", followup=True),
        make_comment(post=post, email="Ann@Example.org", followup=True),
    ]
    submit(make_comment(post=post, email="bob@example.org"))
    [message] = [m for m in mailoutbox if m.to == ["ann@example.org"]]
    return message, own


def test_followup_mail_has_one_click_unsubscribe_headers(followup_mail):
    message, _own = followup_mail

    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    url = unsubscribe.strip("<>")
    assert url in message.body
    assert url in html_body(message)
    assert urlsplit(url).path.startswith("/comments/unsubscribe/")


def test_unsubscribe_get_changes_nothing(followup_mail, client):
    message, own = followup_mail
    url = message.extra_headers["List-Unsubscribe"].strip("<>")

    response = client.get(urlsplit(url).path)

    assert response.status_code == 200
    assert b"Stop these emails" in response.content
    assert Comment.objects.filter(pk__in=[c.pk for c in own], followup=True).count()


def test_one_click_unsubscribe_post_needs_no_csrf_token(post, followup_mail):
    message, own = followup_mail
    other_post = make_comment(email="ann@example.org", followup=True)
    somebody_else = make_comment(post=post, email="cleo@example.org", followup=True)
    path = urlsplit(message.extra_headers["List-Unsubscribe"].strip("<>")).path

    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert not Comment.objects.filter(pk__in=[c.pk for c in own], followup=True)
    assert Comment.objects.get(pk=other_post.pk).followup
    assert Comment.objects.get(pk=somebody_else.pk).followup


def test_altered_unsubscribe_link_is_refused(post, client):
    comment = make_comment(post=post, email="ann@example.org", followup=True)
    token = tokens.make_unsubscribe_token(post.pk, "ann@example.org")
    confirm_token = tokens.make_confirmation_token(comment)

    for bad in (token[:-1] + "x", confirm_token, "junk"):
        response = client.post(reverse("comments:unsubscribe", args=[bad]))
        assert response.status_code == 400
    comment.refresh_from_db()
    assert comment.followup


# Through the comments app's form


def test_anonymous_comment_through_the_form_sends_only_our_confirmation(
    client, mailoutbox, settings, lenient_moderation
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    post = make_post(author=make_user(username="writer"))
    make_comment(post=post, email="ann@example.org", followup=True)

    client.post(POST_URL, form_data(post, followup="on"))

    [message] = mailoutbox  # not xtd's, not the author's, not the follower's
    assert message.to == ["ada@example.com"]
    response = client.post(confirmation_path(message), follow=True)

    comment = Comment.objects.get(user_email="ada@example.com")
    assert comment.state == State.PUBLIC
    assert b"A thoughtful comment." in response.content
    assert sorted(m.to[0] for m in mailoutbox[1:]) == [
        "ann@example.org",
        post.author.email,
    ]


def test_over_the_limit_the_reader_is_told_no_link_went_out(
    client, mailoutbox, settings
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    settings.INKWELL_CONFIRMATION_MAILS_PER_ADDRESS = 2
    post = make_post()

    for number in range(2):
        data = form_data(post, comment=f"Try {number}")
        response = client.post(POST_URL, data, follow=True)
        assert "We sent a link" in response.content.decode()
    response = client.post(POST_URL, form_data(post, comment="One too many"))

    assert response.status_code == 429
    page = response.content.decode()
    assert "as many confirmation links as we may" in page
    assert "ada@example.com" in page
    assert "One too many" in page  # the text comes back, to send again later
    assert "We sent a link" not in page
    # Nothing waits for a confirmation that can never come.
    assert Comment.objects.filter(state=State.UNCONFIRMED).count() == 2
    assert [m.to for m in mailoutbox] == [["ada@example.com"]] * 2


def test_signed_in_comment_through_the_form_needs_no_confirmation(
    client, mailoutbox, settings, lenient_moderation
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    post = make_post(author=make_user(username="writer"))
    client.force_login(make_user(username="grace"))
    data = form_data(post)
    del data["name"], data["email"]

    client.post(POST_URL, data)

    assert Comment.objects.get().state == State.PUBLIC
    assert [m.to for m in mailoutbox] == [[post.author.email]]


# The stock django-comments-xtd mail is never sent


def test_stock_xtd_mail_paths_are_not_used(post, mailoutbox):
    comment = make_comment(post=post, state=State.UNCONFIRMED)
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")

    # xtd mails from its receivers of django_comments' signals; they answer
    # only to its own temporary comments, never to ours.
    comment_was_posted.send(sender=Comment, comment=comment, request=request)
    assert mailoutbox == []
    for name in ("comments-xtd-confirm", "comments-xtd-mute"):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=["key"])

    submit(comment)
    [message] = mailoutbox
    assert "/comments/confirm/" in message.body


# The queue: mail outside the request, retries, permanent failure


class DownMailServer(BaseEmailBackend):
    """A mail server that cannot be reached."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")


MESSAGE = {
    "to": ["ann@example.org"],
    "subject": "Hello",
    "text": "Hello",
    "html": "<p>Hello</p>",
    "headers": {"Auto-Submitted": "auto-generated"},
}


def run_worker() -> None:
    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0
    )


@pytest.mark.django_db(transaction=True)
def test_posting_a_comment_sends_no_mail_inside_the_request(
    client, database_tasks, mailoutbox, restore_signals, settings
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    post = make_post()

    response = client.post(POST_URL, form_data(post))

    assert response.status_code == 302
    assert Comment.objects.get().state == State.UNCONFIRMED
    assert mailoutbox == []
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    run_worker()
    [message] = mailoutbox
    assert message.to == ["ada@example.com"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_failed_send_is_retried_later_with_backoff(database_tasks, settings):
    settings.EMAIL_BACKEND = "tests.test_notifications.DownMailServer"
    before = timezone.now()

    waits = []
    for attempt in range(1, tasks.MAX_ATTEMPTS):
        with pytest.raises(RetryScheduled, match=f"attempt {attempt + 1} of 6"):
            tasks.send_email.call(**MESSAGE, attempt=attempt)
        retry = DBTaskResult.objects.order_by("-enqueued_at").first()
        assert retry.args_kwargs["kwargs"]["attempt"] == attempt + 1
        assert retry.args_kwargs["kwargs"]["to"] == MESSAGE["to"]
        waits.append(retry.run_after - before)

    # Five retries, each wait longer than the one before, over most of a day.
    assert len(waits) == 5
    assert waits == sorted(waits)
    assert waits[0] >= timedelta(minutes=1)
    assert timedelta(hours=12) < sum(waits, timedelta()) < timedelta(days=1, hours=1)

    with pytest.raises(ConnectionRefusedError):
        tasks.send_email.call(**MESSAGE, attempt=tasks.MAX_ATTEMPTS)
    assert DBTaskResult.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_worker_defers_retry_and_marks_final_failure(
    database_tasks, settings, restore_signals, admin_client
):
    settings.EMAIL_BACKEND = "tests.test_notifications.DownMailServer"
    tasks.send_email.enqueue(**MESSAGE)
    last = tasks.send_email.enqueue(**MESSAGE, attempt=tasks.MAX_ATTEMPTS)

    run_worker()

    first_try, retry = (
        DBTaskResult.objects.exclude(pk=last.id).order_by("enqueued_at").all()
    )
    # The first attempt failed and says so, naming the retry and the cause.
    assert first_try.status == "FAILED"
    assert first_try.exception_class_path == "blog.worker.RetryScheduled"
    assert f"attempt 2 of 6 is queued for {retry.run_after.isoformat()}" in (
        first_try.traceback
    )
    assert f"(task {retry.id})" in first_try.traceback
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in (
        first_try.traceback
    )
    assert first_try.return_value is None
    assert retry.status == "READY"  # not run yet: it waits for its run_after
    assert retry.run_after > timezone.now()
    failed = DBTaskResult.objects.get(pk=last.id)
    assert failed.status == "FAILED"
    assert "ConnectionRefusedError" in failed.traceback

    # An administrator sees the failure.
    changelist = reverse("admin:django_tasks_database_dbtaskresult_changelist")
    response = admin_client.get(changelist, {"status__exact": "FAILED"})
    assert response.status_code == 200
    assert str(last.id).encode() in response.content
    # /healthz counts the failure that nothing will try again, not the first.
    assert admin_client.get("/healthz").json()["tasks"]["failed_last_day"] == 1


def test_follow_up_mail_about_a_page_unsubscribes_from_that_page_only(mailoutbox):
    page = make_page(title="Guestbook", allow_comments=True)
    post = make_post()
    on_page = make_comment(post=page, email="ann@example.org", followup=True)
    on_post = make_comment(post=post, email="ann@example.org", followup=True)
    submit(make_comment(post=page, email="bob@example.org"))
    [message] = [m for m in mailoutbox if m.to == ["ann@example.org"]]
    assert "Guestbook" in message.subject
    path = urlsplit(message.extra_headers["List-Unsubscribe"].strip("<>")).path

    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "Guestbook" in response.text
    assert not Comment.objects.get(pk=on_page.pk).followup
    assert Comment.objects.get(pk=on_post.pk).followup


@pytest.mark.django_db(transaction=True)
def test_mail_queued_under_the_old_task_name_is_still_sent(
    database_tasks, mailoutbox, restore_signals
):
    """A deployment's queue may hold mail enqueued as comments.tasks.send_email
    before the task moved to blog/mail.py: the worker still sends it."""
    result = tasks.send_email.enqueue(**MESSAGE)
    DBTaskResult.objects.filter(id=result.id).update(
        task_path="comments.tasks.send_email"
    )

    run_worker()

    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert [message.to for message in mailoutbox] == [MESSAGE["to"]]
