"""One-click moderation from the mail about a held comment."""

import re
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core import signing

from comments import tokens
from comments.models import Comment, ModerationLog
from comments.notifications import moderators_for, notify_moderators
from tests.factories import make_comment, make_post, make_user

State = Comment.State
pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator():
    return make_user(username="mod", email="mod@example.com", groups=("Moderators",))


@pytest.fixture
def held(moderator):
    post = make_post(author=make_user(username="writer", email="writer@example.com"))
    return make_comment(post=post, state=State.HELD, reason="2 links", body="Hm.")


def link(comment, action: str, email: str = "mod@example.com") -> str:
    return f"/comments/moderate/{tokens.make_moderation_token(comment, action, email)}/"


def state_of(comment) -> str:
    return Comment.objects.values_list("state", flat=True).get(pk=comment.pk)


# The mail


def test_a_held_comment_is_mailed_to_moderators_and_the_author(
    held, mailoutbox, settings
):
    make_user(username="root", email="root@example.com", is_superuser=True)
    make_user(username="editor", email="ed@example.com", groups=("Editors",))
    mailoutbox.clear()
    assert notify_moderators(held) == 3
    assert sorted(m.to[0] for m in mailoutbox) == [
        "mod@example.com",
        "root@example.com",
        "writer@example.com",
    ]
    message = next(m for m in mailoutbox if m.to == ["mod@example.com"])
    assert "2 links" in message.body
    for label in ("Approve it", "Mark it as spam", "Move it to the trash"):
        assert re.search(
            rf"{label}: {settings.SITE_URL}/comments/moderate/\S+/\n", message.body
        )
    html = message.alternatives[0][0]
    assert ">Approve</a>" in html and ">Spam</a>" in html and ">Trash</a>" in html


def test_the_mails_all_pending_link_opens_the_queue(
    held, moderator, client, mailoutbox
):
    make_comment(post=held.content_object, state=State.HELD, body="Another one.")
    approved = make_comment(post=held.content_object, body="Already out.")
    mailoutbox.clear()
    notify_moderators(held)
    message = next(m for m in mailoutbox if m.to == ["mod@example.com"])
    url = re.search(r"All pending comments: (\S+)", message.body)[1]
    assert f'href="{url}">All pending comments' in message.alternatives[0][0]
    client.force_login(moderator)
    page = client.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Hm." in text and "Another one." in text
    assert approved.comment not in text


def test_users_granted_can_moderate_are_moderators(held):
    from django.contrib.auth.models import Permission

    helper = make_user(username="helper", email="helper@example.com")
    helper.user_permissions.add(
        Permission.objects.get(
            codename="can_moderate", content_type__app_label="django_comments"
        )
    )
    assert "helper@example.com" in moderators_for(held)


def test_a_comment_held_by_the_form_sends_the_moderation_mail(
    client, moderator, mailoutbox, settings
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    from tests.test_moderation import sent

    post = make_post()
    client.post("/comments/post/", sent(post))
    assert Comment.objects.get().state == State.HELD
    assert {m.to[0] for m in mailoutbox} == {"mod@example.com", post.author.email}
    assert all("/comments/moderate/" in m.body for m in mailoutbox)


def test_links_from_the_mail_work(held, client, mailoutbox):
    notify_moderators(held)
    message = next(m for m in mailoutbox if m.to == ["mod@example.com"])
    approve = re.search(r"Approve it: (\S+)", message.body)[1]
    path = urlsplit(approve).path
    assert client.get(path).status_code == 200
    client.post(path)
    assert state_of(held) == State.PUBLIC


# The page and the button


@pytest.mark.parametrize("action", ["approve", "spam", "trash"])
def test_a_get_shows_the_comment_and_changes_nothing(held, client, action):
    response = client.get(link(held, action))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hm." in page
    assert "2 links" in page
    assert '<button type="submit"' in page
    assert state_of(held) == State.HELD
    assert not ModerationLog.objects.exists()
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("action", "state"),
    [("approve", State.PUBLIC), ("spam", State.SPAM), ("trash", State.TRASH)],
)
def test_the_button_acts_and_is_logged(held, moderator, client, action, state):
    response = client.post(link(held, action))
    assert response.status_code == 200
    assert state_of(held) == state
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.user, entry.via) == (action, moderator, "email")
    assert entry.nonce


def test_approving_by_mail_publishes_at_once_and_tells_the_commenter(
    held, client, mailoutbox
):
    client.post(link(held, "approve"))
    page = client.get(held.content_object.get_absolute_url()).content.decode()
    assert "Hm." in page
    assert [held.user_email] in [m.to for m in mailoutbox]


def test_the_post_author_can_moderate_from_the_mail(held, client):
    client.post(link(held, "spam", email="writer@example.com"))
    assert state_of(held) == State.SPAM
    assert ModerationLog.objects.get().user.username == "writer"


def test_an_already_moderated_comment_shows_its_state(held, client):
    approve, trash = link(held, "approve"), link(held, "trash")
    client.post(approve)
    response = client.get(trash)
    assert response.status_code == 200
    assert "Already moderated" in response.content.decode()
    assert "Approved" in response.content.decode()
    client.post(trash)
    assert state_of(held) == State.PUBLIC


# Refused links


def test_a_reused_link_is_refused_even_if_the_comment_is_held_again(
    held, client, admin_client
):
    approve = link(held, "approve")
    client.post(approve)
    held.refresh_from_db()
    held.set_state(State.HELD, "unapproved")
    response = client.post(approve)
    assert "Already moderated" in response.content.decode()
    assert state_of(held) == State.HELD
    assert ModerationLog.objects.count() == 1


def test_every_link_of_a_mail_is_spent_once_the_comment_has_moved_and_back(
    held, client
):
    approve, trash = link(held, "approve"), link(held, "trash")
    client.post(approve)
    held.refresh_from_db()
    held.set_state(State.HELD, "unapproved")  # held again, as when mailed
    response = client.post(trash)
    assert "Already moderated" in response.content.decode()
    assert state_of(held) == State.HELD
    assert ModerationLog.objects.count() == 1


def test_a_tampered_link_is_refused(held, client):
    token = tokens.make_moderation_token(held, "approve", "mod@example.com")
    for bad in (token[:-2] + "xx", token.replace(":", "", 1), "junk"):
        response = client.post(f"/comments/moderate/{bad}/")
        assert response.status_code == 400
    assert state_of(held) == State.HELD


def test_another_kind_of_token_is_refused(held, client):
    confirm = tokens.make_confirmation_token(held)
    assert client.post(f"/comments/moderate/{confirm}/").status_code == 400
    assert state_of(held) == State.HELD


def test_a_token_signed_for_an_unknown_action_is_refused(held, client):
    token = signing.dumps(
        {
            "c": held.pk,
            "a": "delete",
            "r": tokens.email_hash("mod@example.com"),
            "s": "held",
            "n": "abc",
        },
        salt=tokens.MODERATE_SALT,
    )
    assert client.post(f"/comments/moderate/{token}/").status_code == 400
    assert state_of(held) == State.HELD


def test_an_expired_link_is_refused(held, client, settings):
    with mock.patch("time.time", return_value=1_000_000_000):
        token = tokens.make_moderation_token(held, "approve", "mod@example.com")
    response = client.post(f"/comments/moderate/{token}/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert state_of(held) == State.HELD


def test_a_link_for_someone_who_is_not_a_moderator_is_refused(held, client):
    make_user(username="reader", email="reader@example.com")
    response = client.post(link(held, "approve", email="reader@example.com"))
    assert response.status_code == 403
    assert state_of(held) == State.HELD


def test_another_authors_link_does_not_work_on_this_post(held, client):
    make_post(author=make_user(username="other", email="other@example.com"))
    response = client.post(link(held, "approve", email="other@example.com"))
    assert response.status_code == 403
    assert state_of(held) == State.HELD


def test_a_moderator_removed_from_the_group_loses_their_links(held, moderator, client):
    approve = link(held, "approve")
    moderator.groups.clear()
    assert client.post(approve).status_code == 403
    assert state_of(held) == State.HELD


def test_a_link_to_a_deleted_comment_is_refused(held, client):
    approve = link(held, "approve")
    held.delete()
    assert client.post(approve).status_code == 400


def test_the_button_works_with_csrf_checks_on(held):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    approve = link(held, "approve")
    page = browser.get(approve).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', page)[1]
    assert browser.post(approve).status_code == 403  # no token: refused
    assert state_of(held) == State.HELD
    browser.post(approve, {"csrfmiddlewaretoken": token})
    assert state_of(held) == State.PUBLIC


@pytest.mark.parametrize(
    ("action", "question"),
    [
        ("approve", "Approve this comment?"),
        ("spam", "Mark this comment as spam?"),
        ("trash", "Move this comment to the trash?"),
    ],
)
def test_the_page_asks_in_plain_words(held, client, action, question):
    page = client.get(link(held, action)).content.decode()
    assert f"<h1>{question}</h1>" in page
    assert f"<title>{question} ·" in page
