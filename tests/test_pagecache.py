"""The anonymous full-page cache (blog/pagecache.py)."""

import datetime
import io
import re
import time
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.test import Client, RequestFactory
from django.utils import timezone

from blog import pagecache
from blog.pagecache import CSRF_PLACEHOLDER, PageCacheMiddleware
from comments.models import Comment, DiscussionSettings, PostLike
from comments.signals import comment_state_changed
from tests.factories import make_category, make_post, make_user
from tests.test_comments import form_data as comment_form_data
from tests.test_wordpress_import import wxr

pytestmark = pytest.mark.django_db


def without_csrf_tokens(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="\w+"', b"", content)


def test_second_anonymous_request_is_served_from_the_cache(
    client, django_assert_num_queries
):
    post = make_post(title="Cached words")
    first = client.get(post.get_absolute_url())
    assert first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get(post.get_absolute_url())
    assert second["X-Page-Cache"] == "hit"
    assert without_csrf_tokens(second.content) == without_csrf_tokens(first.content)
    assert b"Cached words" in second.content
    assert second["ETag"] == first["ETag"]
    assert "Content-Security-Policy" in second
    assert "Cookie" in second["Vary"]


def test_a_post_edit_shows_on_the_next_request(client):
    post = make_post(title="Old title")
    client.get("/")
    client.get(post.get_absolute_url())
    post.title = "New title"
    post.save()
    home = client.get("/")
    page = client.get(post.get_absolute_url())
    assert home["X-Page-Cache"] == page["X-Page-Cache"] == "miss"
    assert b"New title" in home.content
    assert b"New title" in page.content


def test_category_and_tag_changes_invalidate(client):
    category = make_category(name="Before")
    post = make_post(category=category)
    client.get(post.get_absolute_url())
    category.name = "After"
    category.save()
    assert b"After" in client.get(post.get_absolute_url()).content
    post.tags.add("fresh-tag")
    assert b"fresh-tag" in client.get(post.get_absolute_url()).content


def test_deleting_a_post_invalidates_the_home_page(client):
    post = make_post(title="Going away")
    assert b"Going away" in client.get("/").content
    post.delete()
    assert b"Going away" not in client.get("/").content


def version_moves(action) -> bool:
    before = pagecache.content_version()
    action()
    return pagecache.content_version() != before


def make_comment(post, *, state: str) -> Comment:
    return Comment.objects.create(
        content_type=ContentType.objects.get_for_model(post),
        object_pk=str(post.pk),
        site=Site.objects.get_current(),
        user_name="Reader",
        user_email="reader@example.com",
        comment="Hello",
        state=state,
    )


def test_comment_and_like_changes_bump_the_content_version():
    post = make_post()
    assert version_moves(lambda: make_comment(post, state=Comment.State.PUBLIC))
    held = make_comment(post, state=Comment.State.HELD)
    assert version_moves(lambda: held.set_state(Comment.State.PUBLIC))
    assert version_moves(
        lambda: comment_state_changed.send(
            sender=Comment, comment=held, old_state="x", new_state="y", by=None
        )
    )
    assert version_moves(held.delete)
    like = PostLike(post=post, visitor="abc")
    assert version_moves(like.save)
    assert version_moves(like.delete)


def test_discussion_settings_changes_bump_the_content_version():
    discussion = DiscussionSettings.current()
    discussion.max_thread_level = 2
    assert version_moves(discussion.save)


def test_a_new_held_comment_keeps_the_cache():
    post = make_post()
    assert not version_moves(lambda: make_comment(post, state=Comment.State.HELD))


def test_signing_in_does_not_empty_the_cache(client):
    user = make_user()
    assert not version_moves(lambda: client.force_login(user))


def test_signed_in_pages_are_neither_served_nor_stored(client):
    post = make_post()
    client.force_login(make_user(is_staff=True))
    signed_in = client.get(post.get_absolute_url())
    assert "X-Page-Cache" not in signed_in
    client.logout()
    client.cookies.clear()
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "miss"
    client.force_login(make_user(is_staff=True))
    assert "X-Page-Cache" not in client.get(post.get_absolute_url())


def test_a_messages_cookie_bypasses_the_cache(client):
    post = make_post()
    client.get(post.get_absolute_url())
    client.cookies["messages"] = "anything"
    assert "X-Page-Cache" not in client.get(post.get_absolute_url())


def test_with_the_setting_off_nothing_is_cached(client, settings):
    settings.INKWELL_PAGE_CACHE = False
    post = make_post()
    client.get(post.get_absolute_url())
    response = client.get(post.get_absolute_url())
    assert "X-Page-Cache" not in response
    assert "ETag" not in response


def test_not_found_pages_are_not_cached(client):
    client.get("/category/nothing-here/")
    assert client.get("/category/nothing-here/")["X-Page-Cache"] == "bypass"


def test_etag_and_last_modified_answer_304(client):
    post = make_post()
    first = client.get(post.get_absolute_url())
    by_etag = client.get(
        post.get_absolute_url(), headers={"if-none-match": first["ETag"]}
    )
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    by_date = client.get(
        post.get_absolute_url(), headers={"if-modified-since": first["Last-Modified"]}
    )
    assert by_date.status_code == 304
    post.title = "Changed"
    post.save()
    changed = client.get(
        post.get_absolute_url(), headers={"if-none-match": first["ETag"]}
    )
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_a_scheduled_post_appears_when_its_time_comes(client):
    make_post(title="Already out")
    due = timezone.now() + datetime.timedelta(minutes=5)
    make_post(title="Scheduled one", published_at=due)
    assert b"Scheduled one" not in client.get("/").content
    assert client.get("/")["X-Page-Cache"] == "hit"
    later = time.time() + 301
    with (
        mock.patch("time.time", return_value=later),
        mock.patch("django.utils.timezone.now", return_value=due),
    ):
        response = client.get("/")
    assert response["X-Page-Cache"] == "miss"
    assert b"Scheduled one" in response.content


# Units: what the middleware refuses to store, and the CSRF token swap.


def cacheable(response: HttpResponse) -> bool:
    request = RequestFactory().get("/")
    return PageCacheMiddleware.response_is_cacheable(request, response)


def test_private_set_cookie_and_odd_vary_responses_are_not_stored():
    assert cacheable(HttpResponse("ok"))
    private = HttpResponse("ok", headers={"Cache-Control": "private"})
    assert not cacheable(private)
    assert not cacheable(HttpResponse("ok", headers={"Cache-Control": "no-store"}))
    with_cookie = HttpResponse("ok")
    with_cookie.set_cookie("reader", "me")
    assert not cacheable(with_cookie)
    assert not cacheable(HttpResponse("ok", headers={"Vary": "Accept-Language"}))
    assert not cacheable(HttpResponse("ok", status=302))
    assert not cacheable(HttpResponse("ok", headers={"ETag": '"own"'}))


def test_a_csrf_token_is_never_shared_between_readers():
    factory = RequestFactory()
    first = factory.get("/")
    token = get_token(first)
    html = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'.encode()
    stored = PageCacheMiddleware.with_placeholder(first, html)
    assert token.encode() not in stored
    assert CSRF_PLACEHOLDER in stored

    second = factory.get("/")
    entry = {"content": stored, "headers": [], "etag": '"x"', "last_modified": 0}
    served = PageCacheMiddleware(lambda request: None).from_entry(second, entry)
    served_token = served.content.split(b'value="')[1].split(b'"')[0].decode()
    assert _unmask_cipher_token(served_token) == second.META["CSRF_COOKIE"]
    assert second.META["CSRF_COOKIE"] != first.META["CSRF_COOKIE"]


def test_the_wordpress_import_forgets_every_cached_page(tmp_path):
    export = tmp_path / "export.xml"
    export.write_text(wxr(), encoding="utf-8")
    with mock.patch("blog.pagecache.forget_all_pages") as forget:
        call_command("import_wordpress", str(export), stdout=io.StringIO())
    forget.assert_called_once_with()


@pytest.mark.parametrize("cookie", ["inkwell_visitor", "inkwell_commenter"])
def test_readers_with_their_own_cookies_get_their_own_pages(client, cookie):
    post = make_post()
    client.get(post.get_absolute_url())
    client.cookies[cookie] = "their-own-value"
    assert "X-Page-Cache" not in client.get(post.get_absolute_url())


def test_a_liker_s_page_is_not_shown_to_others(client):
    post = make_post()
    liker = Client()
    liker.post(f"/posts/{post.pk}/like/", {"intent": "like"})
    assert "inkwell_visitor" in liker.cookies
    assert 'aria-pressed="true"' in liker.get(post.get_absolute_url()).content.decode()
    page = client.get(post.get_absolute_url())
    assert page["X-Page-Cache"] == "miss"
    assert 'aria-pressed="false"' in page.content.decode()


def test_a_comment_posted_from_a_cached_page_passes_csrf_and_shows_at_once(
    client, settings, lenient_moderation
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    post = make_post()
    client.get(post.get_absolute_url())  # another reader fills the cache
    reader = Client(enforce_csrf_checks=True)
    page = reader.get(post.get_absolute_url())
    assert page["X-Page-Cache"] == "hit"
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', page.text)[1]
    assert "csrftoken" in reader.cookies
    data = {**comment_form_data(post), "csrfmiddlewaretoken": token}
    assert reader.post("/comments/post/", data).status_code == 302
    assert "A thoughtful comment." in client.get(post.get_absolute_url()).text
