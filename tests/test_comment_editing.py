"""A reader editing and deleting their own comment: the window, the locks,
moderation of the new text, the cookie, the page cache, deletion."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from comments import editing, moderation
from comments.models import Comment, CommentRevision, DiscussionSettings
from tests.factories import comment_form_data, make_comment, make_post, make_user

pytestmark = pytest.mark.django_db

POST_URL = "/comments/post/"


@pytest.fixture(autouse=True)
def _publishing_rules(lenient_moderation, settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    settings.INKWELL_COMMENT_EDIT_SECONDS = 15 * 60


def edit_url(comment) -> str:
    return f"/comments/{comment.pk}/edit/"


def delete_url(comment) -> str:
    return f"/comments/{comment.pk}/delete/"


def post_anonymously(client, post, text="A thoughtful comment.") -> Comment:
    response = client.post(POST_URL, comment_form_data(post, comment=text))
    assert response.status_code == 302
    return Comment.objects.get(comment=text)


def age(comment, minutes: int) -> None:
    Comment.objects.filter(pk=comment.pk).update(
        submit_date=timezone.now() - timedelta(minutes=minutes)
    )


def discussion(response) -> str:
    page = response.content.decode()
    return page[page.index('id="comments"') :]


# Signed-in readers, by their account


def test_a_signed_in_reader_edits_their_comment_within_the_window(client):
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, body="Teh first text")
    page = client.get(comment.content_object.get_absolute_url())
    assert f'href="{edit_url(comment)}"' in discussion(page)

    response = client.post(edit_url(comment), {"comment": "The first text"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.comment == "The first text"
    assert comment.edited_at is not None
    page = client.get(comment.content_object.get_absolute_url())
    assert "The first text" in page.text and "Teh first" not in page.text
    assert 'class="comment__edited"' in discussion(page)
    revision = CommentRevision.objects.get(comment=comment)
    assert revision.text == "Teh first text"


def test_after_the_window_the_comment_cannot_be_edited_or_deleted(client):
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, body="Old words")
    age(comment, 16)
    page = client.get(comment.content_object.get_absolute_url())
    assert edit_url(comment) not in page.text
    response = client.post(edit_url(comment), {"comment": "New words"})
    assert response.status_code == 403
    assert "15 minutes after posting" in response.text
    assert client.post(delete_url(comment)).status_code == 403
    comment.refresh_from_db()
    assert comment.comment == "Old words"


def test_the_window_is_a_setting(client, settings):
    settings.INKWELL_COMMENT_EDIT_SECONDS = 60 * 60
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader)
    age(comment, 30)
    assert client.post(edit_url(comment), {"comment": "Later"}).status_code == 302


def test_someone_elses_comment_cannot_be_edited(client):
    comment = make_comment(user=make_user())
    client.force_login(make_user())
    response = client.post(edit_url(comment), {"comment": "Not mine"})
    assert response.status_code == 403
    assert "Only the person who wrote a comment" in response.text
    assert Client().get(edit_url(comment)).status_code == 403


def test_a_reply_locks_the_edit_but_not_the_delete(client):
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, body="Asked first")
    make_comment(parent=comment, body="An answer")
    response = client.post(edit_url(comment), {"comment": "Changed question"})
    assert response.status_code == 403
    assert "Someone has replied" in response.text
    assert Comment.objects.get(pk=comment.pk).comment == "Asked first"
    page = client.get(comment.content_object.get_absolute_url())
    assert f'href="{delete_url(comment)}"' in page.text
    assert f'href="{edit_url(comment)}"' in page.text  # the page says why


def test_a_moderators_action_locks_the_comment(client):
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, state=Comment.State.HELD)
    moderation.apply_action(comment, "approve", by=make_user(is_superuser=True))
    response = client.post(edit_url(comment), {"comment": "After review"})
    assert response.status_code == 403
    assert "A moderator has looked at this comment" in response.text
    assert client.post(delete_url(comment)).status_code == 403


def test_the_edited_text_is_validated_like_a_new_comment(client, settings):
    settings.COMMENT_MAX_LENGTH = 20
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, body="Short")
    response = client.post(edit_url(comment), {"comment": "x" * 30})
    assert response.status_code == 400
    assert "Comments can be up to 20 characters" in response.text
    assert "x" * 30 in response.text  # the text is kept
    response = client.post(edit_url(comment), {"comment": "  "})
    assert response.status_code == 400
    assert "Please write your comment." in response.text
    assert Comment.objects.get(pk=comment.pk).comment == "Short"


def test_an_edit_that_adds_links_sends_an_approved_comment_back_to_the_queue(
    client, mailoutbox
):
    rules = DiscussionSettings.current()
    rules.hold_links = 2
    rules.save()
    make_user(username="mod", is_superuser=True, email="mod@example.com")
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, body="Nice post")
    post_url = comment.content_object.get_absolute_url()
    assert "Nice post" in client.get(post_url).text
    response = client.post(
        edit_url(comment),
        {"comment": "Buy https://spam.example and https://spam.example/2"},
        follow=True,
    )
    comment.refresh_from_db()
    assert (comment.state, comment.reason) == (Comment.State.HELD, "edited: 2 links")
    assert "once a moderator has approved it" in response.text
    assert "spam.example" not in discussion(Client().get(post_url))
    assert any("awaits moderation" in mail.subject for mail in mailoutbox)
    # ...and it is the moderator's now: the author cannot change it again.
    assert editing.lock_reason(comment, comment.content_object) == ""
    moderation.apply_action(comment, "approve", by=make_user(is_superuser=True))
    assert editing.lock_reason(comment, comment.content_object) != ""


def test_an_edit_of_a_held_comment_keeps_it_held(client):
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, state=Comment.State.HELD, reason="x")
    client.post(edit_url(comment), {"comment": "Still waiting"})
    comment.refresh_from_db()
    assert comment.state == Comment.State.HELD
    assert comment.comment == "Still waiting"


# Anonymous readers, by the cookie set when they posted


def test_an_anonymous_reader_edits_by_the_cookie_set_when_they_posted(client):
    post = make_post()
    comment = post_anonymously(client, post, "Helo world")
    assert client.cookies[editing.OWN_COOKIE]["httponly"]
    assert client.cookies[editing.OWN_HINT_COOKIE].value == str(comment.pk)
    mine = client.get(f"/comments/mine/?ids={comment.pk}")
    assert "no-cache" in mine["Cache-Control"]
    assert [row["id"] for row in mine.json()["comments"]] == [comment.pk]
    assert mine.json()["comments"][0]["text"] == "Helo world"

    assert client.get(edit_url(comment)).status_code == 200
    response = client.post(edit_url(comment), {"comment": "Hello world"})
    assert response.status_code == 302
    assert Comment.objects.get(pk=comment.pk).comment == "Hello world"

    stranger = Client()
    assert stranger.get(f"/comments/mine/?ids={comment.pk}").json()["comments"] == []
    assert stranger.post(edit_url(comment), {"comment": "Mine now"}).status_code == 403


def test_the_cookie_stops_working_when_the_window_ends(client):
    post = make_post()
    comment = post_anonymously(client, post)
    age(comment, 16)
    assert client.get(f"/comments/mine/?ids={comment.pk}").json()["comments"] == []
    response = client.post(edit_url(comment), {"comment": "Too late"})
    assert response.status_code == 403
    assert Comment.objects.get(pk=comment.pk).comment == "A thoughtful comment."


def test_the_cookie_cannot_be_forged():
    post = make_post()
    comment = make_comment(post=post)
    forger = Client()
    forger.cookies[editing.OWN_COOKIE] = f"[[{comment.pk}, 9999999999]]"
    forger.cookies[editing.OWN_HINT_COOKIE] = str(comment.pk)
    assert forger.post(edit_url(comment), {"comment": "Forged"}).status_code == 403


def test_the_posting_message_links_to_the_edit_page_without_javascript(client):
    post = make_post()
    response = client.post(
        POST_URL, comment_form_data(post, comment="Some words"), follow=True
    )
    comment = Comment.objects.get()
    assert f'<a href="{edit_url(comment)}">Edit your comment</a>' in response.text


def test_the_confirmation_mail_links_to_the_edit_page(settings, mailoutbox):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    post = make_post()
    Client().post(POST_URL, comment_form_data(post, comment="Unconfirmed words"))
    comment = Comment.objects.get()
    assert comment.state == Comment.State.UNCONFIRMED
    (mail,) = mailoutbox
    edit_path = f"/comments/{comment.pk}/edit/"
    link = next(line for line in mail.body.splitlines() if edit_path in line)
    path = link.strip().removeprefix(settings.SITE_URL)
    reader = Client()  # another browser: the mail's key is enough
    page = reader.get(path)
    assert page.status_code == 200
    assert "Unconfirmed words" in page.text
    assert reader.cookies[editing.OWN_COOKIE].value  # in place from now on
    key = path.split("key=")[1]
    reader = Client()
    reader.post(edit_url(comment), {"comment": "Confirmed words", "key": key})
    assert Comment.objects.get(pk=comment.pk).comment == "Confirmed words"
    assert Client().get(f"{edit_url(comment)}?key=x{key}").status_code == 403


# The shared page cache


def test_the_cached_page_never_carries_a_readers_edit_link(client):
    post = make_post()
    url = post.get_absolute_url()
    author = Client()
    comment = post_anonymously(author, post, "Cached words")
    # The page right after posting shows the "Thank you" message with its
    # link: that one is the author's own, never stored.
    landing = author.get(url)
    assert edit_url(comment) in landing.text
    assert "private" in landing["Cache-Control"]
    del author.cookies["messages"]  # gone, as a browser drops it
    first = Client().get(url)
    second = author.get(url)
    third = Client().get(url)
    assert third["X-Page-Cache"] == "hit"
    assert first.content == second.content == third.content
    for page in (first, second, third):
        assert edit_url(comment) not in page.text
        assert "comment__own" not in discussion(page)
    # The author's browser learns of the link from the never-cached answer.
    assert author.get(f"/comments/mine/?ids={comment.pk}").json()["comments"]


def test_a_signed_in_authors_links_are_not_shown_to_anyone_else(client):
    reader = make_user()
    comment = make_comment(user=reader)
    url = comment.content_object.get_absolute_url()
    client.force_login(reader)
    assert edit_url(comment) in client.get(url).text
    other = Client()
    other.force_login(make_user())
    assert edit_url(comment) not in other.get(url).text
    assert edit_url(comment) not in Client().get(url).text


# Deleting


def test_deleting_a_comment_with_replies_keeps_the_thread(client):
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, body="Regrettable words")
    make_comment(parent=comment, body="A kind reply")
    url = comment.content_object.get_absolute_url()
    assert client.get(delete_url(comment)).status_code == 200
    response = client.post(delete_url(comment), follow=True)
    assert response.status_code == 200
    page = discussion(Client().get(url))
    assert "This comment was deleted by its author." in page
    assert "Regrettable words" not in page
    assert "A kind reply" in page
    comment.refresh_from_db()
    assert comment.deleted_at is not None
    assert CommentRevision.objects.get(comment=comment).deleted
    assert client.post(edit_url(comment), {"comment": "Back"}).status_code == 403


def test_deleting_a_comment_without_replies_removes_it(client):
    post = make_post()
    comment = post_anonymously(client, post, "Gone soon")
    url = post.get_absolute_url()
    assert "Gone soon" in Client().get(url).text
    response = client.post(delete_url(comment))
    assert response.status_code == 302
    assert not Comment.objects.filter(pk=comment.pk).exists()
    assert "Gone soon" not in Client().get(url).text
    assert (
        editing.OWN_COOKIE not in client.cookies
        or not client.cookies[editing.OWN_COOKIE].value
    )


# Moderators see every earlier version


def test_moderators_see_earlier_versions_in_the_admin(client, admin_client):
    reader = make_user()
    client.force_login(reader)
    comment = make_comment(user=reader, body="Version one")
    client.post(edit_url(comment), {"comment": "Version two"})
    client.post(edit_url(comment), {"comment": "Version three"})
    page = admin_client.get(f"/admin/comments/comment/{comment.pk}/change/")
    assert page.status_code == 200
    assert "Version one" in page.text and "Version two" in page.text
    assert "edited by its author" in page.text
