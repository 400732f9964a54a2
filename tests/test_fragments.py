"""Cached pieces of pages ({% cache %}, pagecache.cached), with the page cache off:
what every reader sees alike is built once, and any change shows at once."""

import datetime
import re
import time
from unittest import mock

import pytest
from django.core.cache import caches
from django.utils import timezone

from blog import pagecache
from blog.models import Post
from tests.factories import (
    make_category,
    make_comment,
    make_post,
    make_user,
    set_site_identity,
)

pytestmark = pytest.mark.django_db


def without_csrf_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", html)


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    settings.INKWELL_PAGE_CACHE = False


def test_a_post_page_is_built_once_per_content_version(client):
    post = make_post(title="Built once", category=make_category(), tags=("t",))
    first = client.get(post.get_absolute_url()).content.decode()
    with mock.patch("blog.seo.post_meta") as post_meta:
        second = client.get(post.get_absolute_url()).content.decode()
    post_meta.assert_not_called()
    # The same page up to the discussion (whose form is signed with the time),
    # but for the reader's CSRF token (masked anew on each request).
    end = first.index('<section class="discussion"')
    assert without_csrf_tokens(second[:end]) == without_csrf_tokens(first[:end])
    assert "Built once" in second


def test_post_edits_show_in_the_article_and_its_metadata(client):
    post = make_post(title="Old title", body="Old words.")
    client.get(post.get_absolute_url())
    post.title = "New title"
    post.body = "New words."
    post.save()
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Old" not in page
    assert '<h1 class="post__title">New title</h1>' in page
    assert '<meta property="og:title" content="New title">' in page
    assert "New words." in page


def test_category_tag_and_author_changes_show_on_the_post_page(client):
    category = make_category(name="Before")
    author = make_user(first_name="Ann")
    post = make_post(category=category, author=author, tags=("old-tag",))
    client.get(post.get_absolute_url())
    category.name = "After"
    category.save()
    post.tags.set(["new-tag"])
    author.first_name = "Bea"
    author.save()
    page = client.get(post.get_absolute_url()).content.decode()
    assert ">After<" in page
    assert ">Before<" not in page
    assert 'href="/tag/new-tag/"' in page
    assert "old-tag" not in page
    assert "Bea" in page


def test_a_newly_published_post_becomes_the_next_and_a_related_post(client):
    post = make_post(title="First", tags=("shared",))
    client.get(post.get_absolute_url())
    make_post(title="Second", tags=("shared",), published_at=timezone.now())
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Next post</span> Second" in page
    assert "Related posts" in page


def test_a_scheduled_post_shows_in_fragments_when_its_time_comes(client):
    post = make_post(title="Out already")
    due = timezone.now() + datetime.timedelta(minutes=5)
    make_post(title="Scheduled one", published_at=due)
    assert "Scheduled one" not in client.get(post.get_absolute_url()).content.decode()
    assert 0 < pagecache.fragment_seconds() <= 300
    with (
        mock.patch("time.time", return_value=time.time() + 301),
        mock.patch("django.utils.timezone.now", return_value=due),
    ):
        page = client.get(post.get_absolute_url()).content.decode()
    assert "Next post</span> Scheduled one" in page


def test_fragments_hold_nothing_of_the_reader_who_built_them(client):
    post = make_post(title="Shared")
    staff = make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert 'href="/admin/"' in client.get(post.get_absolute_url()).content.decode()
    client.logout()
    page = client.get(post.get_absolute_url()).content.decode()
    assert 'href="/admin/"' not in page
    assert staff.username not in page


def test_with_no_lifetime_nothing_is_kept(client, settings):
    settings.INKWELL_FRAGMENT_CACHE_SECONDS = 0
    built = []
    assert pagecache.cached("x", 1, build=lambda: built.append(1) or "v") == "v"
    assert pagecache.cached("x", 1, build=lambda: built.append(1) or "v") == "v"
    assert len(built) == 2


def test_fragments_are_told_apart_by_name_and_key():
    assert pagecache.cached("a", 1, build=lambda: "a1") == "a1"
    assert pagecache.cached("a", 2, build=lambda: "a2") == "a2"
    assert pagecache.cached("b", 1, build=lambda: "b1") == "b1"
    assert pagecache.cached("a", 1, build=lambda: "other") == "a1"


def test_lists_of_posts_show_new_posts_and_comment_counts_at_once(client):
    post = make_post(title="Listed", category=make_category(slug="c"))
    assert "No comments" in client.get("/").content.decode()
    client.get("/category/c/")
    make_comment(post=post)
    make_post(title="Fresh", category=post.category)
    for url in ("/", "/category/c/"):
        page = client.get(url).content.decode()
        assert "Fresh" in page
        assert "1 comment<" in page


def test_each_page_of_a_list_is_its_own_fragment(client, settings):
    set_site_identity(posts_per_page=1)
    make_post(
        title="Older one", tags=("t",), published_at=timezone.now().replace(year=2020)
    )
    make_post(title="Newer one", tags=("t",))
    assert "Newer one" in client.get("/").content.decode()
    assert "Older one" in client.get("/?page=2").content.decode()
    assert "Newer one" in client.get("/tag/t/").content.decode()
    assert "Older one" in client.get("/2020/").content.decode()


def test_listings_count_new_unpublished_and_scheduled_posts_at_once(client):
    set_site_identity(posts_per_page=1)
    author = make_user(username="writer")
    first = make_post(
        title="First", author=author, category=make_category(slug="c"), tags=("t",)
    )
    year = timezone.localtime(first.published_at).year
    listings = ["/", "/category/c/", "/tag/t/", "/author/writer/", f"/{year}/"]

    def second_pages() -> list[int]:
        return [client.get(f"{url}?page=2").status_code for url in listings]

    assert second_pages() == [404] * 5
    second = make_post(
        title="Second", author=author, category=first.category, tags=("t",)
    )
    assert second_pages() == [200] * 5
    second.status = Post.Status.DRAFT
    second.save()
    assert second_pages() == [404] * 5
    due = timezone.now() + datetime.timedelta(minutes=5)
    make_post(
        title="Third",
        author=author,
        category=first.category,
        tags=("t",),
        published_at=due,
    )
    assert second_pages() == [404] * 5
    with (
        mock.patch("time.time", return_value=time.time() + 301),
        mock.patch("django.utils.timezone.now", return_value=due),
    ):
        assert second_pages() == [200] * 5


def test_a_warm_page_reads_its_fragments_from_this_process(client):
    post = make_post(title="Read from memory", category=make_category(), tags=("t",))
    client.get(post.get_absolute_url())
    shared = caches["default"]
    with mock.patch.object(shared, "get", wraps=shared.get) as get:
        page = client.get(post.get_absolute_url()).content.decode()
    assert "Read from memory" in page
    # The {% cache %} fragments (post-article, post-body, post-meta,
    # post-neighbours, comment-form-fields) cost no shared-cache read.
    read = " ".join(str(call.args[0]) for call in get.call_args_list)
    assert not re.findall(r"template\.cache\.[a-z]+-[a-z-]+\.", read), read
    # A change makes new keys: the new text shows, from a fresh render.
    post.title = "Changed in place"
    post.save()
    assert "Changed in place" in client.get(post.get_absolute_url()).content.decode()


def test_an_unpublished_post_is_gone_at_once_but_staff_still_see_it(client):
    post = make_post(title="Going back to draft")
    url = post.get_absolute_url()
    assert client.get(url).status_code == 200
    post.status = Post.Status.DRAFT
    post.save()
    assert client.get(url).status_code == 404
    client.force_login(make_user())
    assert client.get(url).status_code == 404
    client.force_login(make_user(is_staff=True, is_superuser=True))
    assert "Draft — not public." in client.get(url).content.decode()


def test_a_scheduled_post_is_not_found_until_its_time_comes(client):
    due = timezone.now() + datetime.timedelta(minutes=5)
    post = make_post(title="Not yet", published_at=due)
    assert client.get(post.get_absolute_url()).status_code == 404
    with (
        mock.patch("time.time", return_value=time.time() + 301),
        mock.patch("django.utils.timezone.now", return_value=due),
    ):
        assert client.get(post.get_absolute_url()).status_code == 200


def test_a_discussion_takes_the_room_of_one_copy_however_often_it_changes(client):
    """Each comment makes the thread new; the copy it replaces is overwritten,
    not left beside it in the cache for the fragments' lifetime."""
    from django.core.cache import cache

    post = make_post()
    with mock.patch.object(cache, "set", wraps=cache.set) as cache_set:
        for number in range(4):
            make_comment(post=post, body=f"Comment number {number}.")
            page = client.get(post.get_absolute_url())
            assert f"Comment number {number}." in page.text
    keys = {call.args[0] for call in cache_set.call_args_list}
    thread_keys = {key for key in keys if ".thread" in key}
    assert len(thread_keys) == 1
