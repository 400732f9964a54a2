"""The anonymous full-page cache (blog/pagecache.py)."""

import datetime
import gzip
import io
import re
import time
from unittest import mock

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache

from blog import pagecache
from blog.models import Post
from blog.pagecache import PageCacheMiddleware, RecentCopies
from comments import threads
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


def versions(post=None) -> dict:
    scopes = [pagecache.SITE, pagecache.DISCUSSIONS]
    if post is not None:
        scopes.append(pagecache.post_scope(post.pk))
    return pagecache.read_versions(scopes)


def version_moves(action, post=None) -> bool:
    before = versions(post)
    action()
    return versions(post) != before


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


def test_comment_and_like_changes_bump_the_post_s_version_only():
    post, other = make_post(), make_post()
    site = pagecache.version()
    public = lambda: make_comment(post, state=Comment.State.PUBLIC)  # noqa: E731
    assert version_moves(public, post)
    held = make_comment(post, state=Comment.State.HELD)
    assert version_moves(lambda: held.set_state(Comment.State.PUBLIC), post)
    assert version_moves(
        lambda: comment_state_changed.send(
            sender=Comment, comment=held, old_state="x", new_state="y", by=None
        ),
        post,
    )
    assert version_moves(held.delete, post)
    like = PostLike(post=post, visitor="abc")
    assert version_moves(like.save, post)
    assert version_moves(like.delete, post)
    assert pagecache.version() == site
    other_version = pagecache.version(pagecache.post_scope(other.pk))
    make_comment(post, state=Comment.State.PUBLIC)
    assert pagecache.version(pagecache.post_scope(other.pk)) == other_version


def test_discussion_settings_changes_bump_the_content_version():
    discussion = DiscussionSettings.current()
    discussion.max_thread_level = 2
    assert version_moves(discussion.save)


def test_a_page_reads_each_content_version_once(client, settings):
    """The page and every fragment in it share one read of each counter; a
    change the request itself makes is seen by what it reads afterwards."""
    settings.INKWELL_PAGE_CACHE = False  # fragments only: seven of them
    post = make_post()
    with mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many:
        client.get(post.get_absolute_url())
    keys = [key for call in get_many.call_args_list for key in call.args[0]]
    assert sorted(keys) == sorted(
        pagecache.VERSION_PREFIX + scope
        for scope in (pagecache.SITE, pagecache.post_scope(post.pk))
    )

    def page_that_changes_something(request):
        before = pagecache.version()
        pagecache.bump(pagecache.SITE)
        return HttpResponse(f"{before} {pagecache.version()}")

    before, after = PageCacheMiddleware(page_that_changes_something)(
        RequestFactory().get("/")
    ).content.split()
    assert int(after) > int(before)


def test_a_deploy_retires_what_the_old_code_rendered():
    """Templates may have changed: `migrate`, which every deploy runs, makes
    every cached page and fragment stale."""
    assert version_moves(lambda: call_command("migrate", verbosity=0))


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
    assert by_date["Content-Security-Policy"] == first["Content-Security-Policy"]
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


# What is never stored: the contract views rely on (a private or password
# post, an edit link: `patch_cache_control(private=True)` or `never_cache`).


def plain(request):
    return HttpResponse("ok")


def private(request):
    response = HttpResponse("mine")
    patch_cache_control(response, private=True)
    return response


@never_cache
def uncached(request):
    return HttpResponse("fresh")


def no_store(request):
    return HttpResponse("x", headers={"Cache-Control": "no-store"})


def sets_cookie(request):
    response = HttpResponse("x")
    response.set_cookie("reader", "me")
    return response


def varies(request):
    return HttpResponse("x", headers={"Vary": "Accept-Language"})


def redirects(request):
    return HttpResponse("x", status=302, headers={"Location": "/"})


def own_etag(request):
    return HttpResponse("x", headers={"ETag": '"own"'})


urlpatterns = [
    path(f"{view.__name__}/", view)
    for view in (plain, private, uncached, no_store, sets_cookie, varies, redirects)
] + [path("own_etag/", own_etag)]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "name",
    [
        "private",
        "uncached",
        "no_store",
        "sets_cookie",
        "varies",
        "redirects",
        "own_etag",
    ],
)
def test_private_uncached_cookie_setting_and_odd_responses_are_never_stored(
    client, name
):
    assert client.get("/plain/")["X-Page-Cache"] == "miss"
    assert client.get("/plain/")["X-Page-Cache"] == "hit"
    client.get(f"/{name}/")
    assert client.get(f"/{name}/")["X-Page-Cache"] == "bypass"


@pytest.mark.parametrize(
    "query", ["?junk=1", "?page=1&page=2", "?page=01", "?page=%C2%B2", "?cpage=0"]
)
def test_unknown_or_non_canonical_query_strings_are_not_stored(client, query):
    """Anyone can add ?junk=N: each would be a render and an entry (#15.1)."""
    post = make_post()
    for _ in range(2):
        response = client.get(post.get_absolute_url() + query)
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "bypass"
    client.get(post.get_absolute_url() + "?cpage=1")
    assert client.get(post.get_absolute_url() + "?cpage=1")["X-Page-Cache"] == "hit"


def test_out_of_range_discussion_pages_share_the_last_page_s_thread(client):
    """?cpage=2…50 on a one-page discussion render one thread, not 49 (#15.1)."""
    post = make_post()
    make_comment(post, state=Comment.State.PUBLIC)
    with mock.patch("comments.threads.render", wraps=threads.render) as render:
        for number in range(2, 51):
            client.get(f"{post.get_absolute_url()}?cpage={number}")
        client.get(post.get_absolute_url())
    assert render.call_count == 1


def test_a_comment_on_one_post_keeps_the_other_posts_cached(client):
    """Each change is kept to what it concerns, so Redis is not filled anew
    with every page on every comment (#16.6)."""
    post, other = make_post(), make_post()
    for url in (post.get_absolute_url(), other.get_absolute_url(), "/"):
        client.get(url)
    make_comment(post, state=Comment.State.PUBLIC)
    assert client.get(other.get_absolute_url())["X-Page-Cache"] == "hit"
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "miss"
    home = client.get("/")
    assert home["X-Page-Cache"] == "miss"
    assert "1 comment<" in home.text


def test_a_cached_page_is_the_same_for_every_reader_and_tokens_are_their_own(client):
    """A stored page carries no CSRF token and sets no cookie (any shared
    cache could keep it); each reader's token comes from /csrf-token."""
    url = make_post().get_absolute_url()
    first, second = client.get(url), Client().get(url)
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert first.content == second.content
    assert 'name="csrfmiddlewaretoken" value=""' in second.text
    assert not first.cookies and not second.cookies
    readers = [Client(enforce_csrf_checks=True) for _ in "12"]
    answers = [reader.get("/csrf-token") for reader in readers]
    assert all("no-cache" in answer["Cache-Control"] for answer in answers)
    tokens = [answer.json()["token"] for answer in answers]
    for reader, own, another in zip(readers, tokens, reversed(tokens), strict=True):
        sent = reader.post("/subscribe/", {"csrfmiddlewaretoken": another})
        assert sent.status_code == 403
        sent = reader.post("/subscribe/", {"csrfmiddlewaretoken": own})
        assert sent.status_code == 400  # past CSRF: the form asks for an address


def test_no_reader_is_given_another_readers_csrf_token(client):
    """The forms of every page (the footer's subscribe form) sit outside the
    cached fragments around them: a signed-in reader's token never reaches
    the next reader, and the placeholder of a stored page never reaches a
    signed-in one."""
    signed_in = Client()
    signed_in.force_login(make_user(username="reader"))

    def tokens(page) -> set[str]:
        return set(re.findall(r'name="csrfmiddlewaretoken" value="(\w*)"', page.text))

    theirs = tokens(signed_in.get("/"))
    assert theirs and "" not in theirs
    anonymous = client.get("/")
    assert anonymous["X-Page-Cache"] == "miss"
    assert tokens(anonymous) == {""}
    again = signed_in.get("/")
    assert pagecache.CSRF_PLACEHOLDER not in again.text
    assert "" not in tokens(again) and tokens(again).isdisjoint(tokens(anonymous))


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
    token = reader.get("/csrf-token").json()["token"]  # as static/js/csrf.js does
    data = {**comment_form_data(post), "csrfmiddlewaretoken": token}
    assert reader.post("/comments/post/", data).status_code == 302
    assert "A thoughtful comment." in client.get(post.get_absolute_url()).text


# Hits are served before sessions, CSRF, auth, messages and CSP run, yet
# answer as if they had.


def test_a_hit_answers_with_the_headers_and_bytes_of_a_miss(client):
    url = make_post().get_absolute_url()
    miss = client.get(url)
    hit = Client().get(url)
    assert hit["X-Page-Cache"] == "hit"
    assert set(hit.headers) == set(miss.headers)
    for name, value in miss.headers.items():
        if name != "X-Page-Cache":
            assert hit[name] == value, name
    assert hit.content == miss.content
    assert hit["Content-Length"] == str(len(hit.content))
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
    ):
        assert header in hit
    assert not hit.cookies


def test_a_hit_runs_no_session_auth_messages_or_csp_middleware(client):
    url = make_post().get_absolute_url()
    miss = client.get(url)
    refuse = mock.Mock(side_effect=AssertionError("ran on a hit"))
    with (
        mock.patch.object(SessionMiddleware, "process_request", refuse),
        mock.patch.object(AuthenticationMiddleware, "process_request", refuse),
        mock.patch.object(MessageMiddleware, "process_request", refuse),
        mock.patch("csp.middleware.CSPMiddleware.process_response", refuse),
    ):
        hit = Client().get(url)
    assert hit["X-Page-Cache"] == "hit"
    assert hit["Content-Security-Policy"] == miss["Content-Security-Policy"]
    refuse.assert_not_called()


def test_signed_in_readers_never_get_the_cached_page(client):
    url = make_post().get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    reader = Client()
    reader.force_login(make_user())
    page = reader.get(url)
    assert "X-Page-Cache" not in page
    assert page.wsgi_request.user.is_authenticated


def test_a_disallowed_host_is_refused_as_on_any_page(client):
    url = make_post().get_absolute_url()
    client.get(url)
    refused = client.get(url, headers={"host": "evil.example"})
    assert refused.status_code == 400
    assert "Content-Security-Policy" in refused


def test_disallowed_user_agents_are_refused_even_when_the_page_is_cached(
    client, settings
):
    url = make_post().get_absolute_url()
    client.get(url)
    settings.DISALLOWED_USER_AGENTS = [re.compile("BadBot")]
    assert client.get(url, headers={"user-agent": "BadBot/1.0"}).status_code == 403
    assert client.get(url).status_code == 200


def test_csrf_secrets_kept_in_the_session_are_refused(settings):
    settings.CSRF_USE_SESSIONS = True
    with pytest.raises(ImproperlyConfigured):
        PageCacheMiddleware(lambda request: HttpResponse())


# Recent pages: each process keeps the pages it served lately, unpickled.


def test_a_change_made_elsewhere_shows_although_this_process_kept_the_page(client):
    post = make_post(title="Before")
    url = post.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"  # now kept in this process
    # Another process changes the post and bumps the shared counter (no
    # signal reaches this process).
    Post.objects.filter(pk=post.pk).update(title="After")
    pagecache.bump(pagecache.SITE)
    page = client.get(url)
    assert page["X-Page-Cache"] == "miss"
    assert b"After" in page.content


def test_a_kept_page_is_served_with_one_read_of_the_shared_cache(client):
    url = make_post().get_absolute_url()
    client.get(url)
    first_hit = client.get(url)
    with (
        mock.patch.object(cache, "get", wraps=cache.get) as get,
        mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many,
    ):
        hit = client.get(url)
    assert hit["X-Page-Cache"] == "hit"
    assert hit["ETag"] == first_hit["ETag"]
    get_many.assert_called_once()  # the versions; the page was kept in memory
    pages = [c for c in get.call_args_list if c.args[0].startswith("pagecache:page")]
    assert not pages


def test_a_kept_page_expires_with_the_shared_one(client, settings):
    settings.INKWELL_PAGE_CACHE_SECONDS = 60
    url = make_post().get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    with mock.patch("time.time", return_value=time.time() + 61):
        assert client.get(url)["X-Page-Cache"] == "miss"


def test_recent_copies_keep_the_most_recently_read_within_their_size():
    copies = RecentCopies(max_bytes=100)
    copies.put("a", "page a", 40)
    copies.put("b", "page b", 40)
    assert copies.get("a") == "page a"  # "a" is now more recent than "b"
    copies.put("c", "page c", 40)
    assert copies.get("b") is None
    assert copies.get("a") == "page a"
    assert copies.get("c") == "page c"
    assert copies.size == 80
    copies.put("huge", "a huge page", 101)
    assert copies.get("huge") is None
    assert copies.size == 80


def test_a_page_that_is_not_stored_gets_a_token_and_a_length_that_match(client):
    """The reply page (private) is rendered with the placeholder and served
    with the reader's token: Content-Length counts the token, not the
    placeholder, or browsers cut the page short."""
    post = make_post()
    comment = make_comment(post, state=Comment.State.PUBLIC)
    page = client.get(f"/comments/reply/{comment.pk}/")
    assert page["X-Page-Cache"] == "bypass"
    assert pagecache.CSRF_PLACEHOLDER not in page.text
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{64}"', page.text)
    assert int(page["Content-Length"]) == len(page.content)


def test_on_the_file_cache_a_bumped_version_lasts_as_long_as_the_pages(
    client, settings, tmp_path
):
    """Django's FileBasedCache.incr() writes the counter back with the
    default timeout (300 s): a content version bumped by a comment vanished
    five minutes later, and every page and fragment built under it with it."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "blog.filecache.FileCache", "LOCATION": str(tmp_path)},
    }
    post = make_post()
    make_comment(post, state=Comment.State.PUBLIC)  # bumps the post's version
    url = post.get_absolute_url()
    assert client.get(url)["X-Page-Cache"] == "miss"
    with mock.patch("time.time", return_value=time.time() + 400):
        assert client.get(url)["X-Page-Cache"] == "hit"


def test_a_hit_is_compressed_once_for_every_reader_who_accepts_gzip(client):
    """The page is compressed when it is stored: every reader who accepts
    gzip gets the same bytes (the middleware's own compression adds random
    ones each time), which decompress to the page others get."""
    url = make_post(body="Words worth compressing. " * 200).get_absolute_url()
    plain = client.get(url)
    first, second = (client.get(url, HTTP_ACCEPT_ENCODING="gzip") for _ in "12")
    assert first["X-Page-Cache"] == second["X-Page-Cache"] == "hit"
    assert first["Content-Encoding"] == "gzip"
    assert first.content == second.content
    assert gzip.decompress(first.content) == plain.content
    assert int(first["Content-Length"]) == len(first.content) < len(plain.content)
    assert "Accept-Encoding" in plain["Vary"] and "Accept-Encoding" in first["Vary"]
    assert first["ETag"] == f"W/{plain['ETag']}"
    revalidated = client.get(
        url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert revalidated.status_code == 304
