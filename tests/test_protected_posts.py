"""Password-protected posts, as WordPress has them."""

import feedparser
import pytest
from django.core.signing import Signer
from django.test import Client

from blog import postpass
from blog.models import Post
from comments.models import Comment
from tests.factories import comment_form_data, make_comment, make_post

pytestmark = pytest.mark.django_db

BODY_WORDS = "tangerine lighthouse"
COMMENT_WORDS = "a comment about the lighthouse"


@pytest.fixture
def protected(lenient_moderation) -> Post:
    post = make_post(
        title="Behind a door",
        slug="behind-a-door",
        body=f"The body speaks of a {BODY_WORDS}.",
        excerpt="An excerpt that is also secret: saffron.",
        password="enter",
        tags=("doors",),
    )
    make_comment(post=post, body=COMMENT_WORDS)
    return post


def unlock(client: Client, post: Post, password: str = "enter"):
    return client.post(post.get_absolute_url(), {"password": password})


def test_locked_post_shows_title_and_form_but_no_body_excerpt_or_comments(
    client, protected
):
    response = client.get(protected.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert "Behind a door" in page
    assert 'name="password"' in page
    assert "This content is password protected." in page
    for secret in (BODY_WORDS, "saffron", COMMENT_WORDS, "Leave a Reply"):
        assert secret not in page, secret
    assert "no-store" in response["Cache-Control"]


def test_the_right_password_opens_the_post_and_is_remembered(client, protected):
    response = unlock(client, protected)
    assert response.status_code == 303
    assert response["Location"] == protected.get_absolute_url()
    cookie = response.cookies[postpass.COOKIE_NAME]
    assert cookie["max-age"] == 10 * 24 * 3600
    assert cookie["httponly"]
    assert "enter" not in cookie.value
    page = client.get(protected.get_absolute_url()).content.decode()
    assert BODY_WORDS in page
    assert COMMENT_WORDS in page
    assert "Leave a Reply" in page
    assert 'name="password"' not in page


def test_the_remembering_time_is_a_setting(client, protected, settings):
    settings.INKWELL_POST_PASSWORD_SECONDS = 60
    response = unlock(client, protected)
    assert response.cookies[postpass.COOKIE_NAME]["max-age"] == 60


def test_a_wrong_password_says_so_and_keeps_nothing(client, protected):
    response = unlock(client, protected, "Enter")
    page = response.content.decode()
    assert response.status_code == 200
    assert "That password is not right." in page
    assert postpass.COOKIE_NAME not in response.cookies
    assert 'value="Enter"' not in page
    assert BODY_WORDS not in page
    assert BODY_WORDS not in client.get(protected.get_absolute_url()).content.decode()


def test_a_forged_or_stale_cookie_opens_nothing(client, protected):
    client.cookies[postpass.COOKIE_NAME] = Signer().sign("enter")
    assert BODY_WORDS not in client.get(protected.get_absolute_url()).content.decode()
    unlock(client, protected)
    protected.password = "a new one"
    protected.save()
    assert BODY_WORDS not in client.get(protected.get_absolute_url()).content.decode()


def test_a_cached_copy_never_leaks_the_body(client, protected):
    reader = Client()
    unlock(reader, protected)
    opened = reader.get(protected.get_absolute_url())
    assert BODY_WORDS in opened.content.decode()
    assert "private" in opened["Cache-Control"]
    assert "X-Page-Cache" not in opened or opened["X-Page-Cache"] == "bypass"
    for _ in range(2):
        response = client.get(protected.get_absolute_url())
        assert response.get("X-Page-Cache", "bypass") == "bypass"
        assert BODY_WORDS not in response.content.decode()
        assert COMMENT_WORDS not in response.content.decode()


def test_listings_feeds_and_search_show_no_body(client, protected):
    for url in ("/", "/tag/doors/", "/search/?q=door"):
        page = client.get(url).content.decode()
        assert "Behind a door" in page, url
        assert "There is no excerpt because this is a protected post." in page
        assert BODY_WORDS not in page and "saffron" not in page, url
    for url in ("/feed/", "/feed/atom/"):
        feed = feedparser.parse(client.get(url).content)
        entry = feed.entries[0]
        assert entry.title == "Behind a door"
        assert BODY_WORDS not in str(entry) and "saffron" not in str(entry)
    comments = feedparser.parse(client.get(f"/comments/feed/{protected.pk}/").content)
    assert comments.entries == []


def test_search_does_not_find_it_by_words_of_its_body(client, protected):
    assert "Behind a door" not in client.get("/search/?q=tangerine").content.decode()


def test_no_comment_reaches_a_locked_post(client, protected):
    response = client.post("/comments/post/", comment_form_data(protected))
    assert response.status_code == 403
    assert "password protected" in response.content.decode()
    assert "A thoughtful comment." in response.content.decode()  # nothing lost
    assert Comment.objects.count() == 1
    unlock(client, protected)
    client.post("/comments/post/", comment_form_data(protected))
    assert Comment.objects.count() == 2


def test_the_reply_page_of_a_locked_post_shows_no_comment(client, protected):
    comment = Comment.objects.get()
    response = client.get(f"/comments/reply/{comment.pk}/")
    assert response.status_code == 403
    assert COMMENT_WORDS not in response.content.decode()


def test_posting_to_an_open_post_is_not_allowed(client):
    post = make_post()
    assert client.post(post.get_absolute_url(), {"password": "x"}).status_code == 405
