"""Feeds: valid RSS and Atom, absolute links, dates, authors, nothing unpublished."""

from datetime import timedelta

import feedparser
import pytest
from django.utils import timezone

from blog import feeds, pagecache
from blog.models import Post
from tests.factories import make_category, make_post, make_user

pytestmark = pytest.mark.django_db

SITE_URL = "https://blog.example.org"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


def parse(client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url, HTTP_HOST="127.0.0.1")
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return feed


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_site_feed_is_valid_with_absolute_links_dates_and_authors(client, url):
    author = make_user(username="ada", first_name="Ada", last_name="Lovelace")
    published = timezone.now() - timedelta(days=3)
    post = make_post(
        title="Notes on engines",
        author=author,
        body="Hello <script>alert(1)</script> <img src=x onerror=alert(2)> **world**",
        published_at=published,
        tags=("maths",),
    )
    feed = parse(client, url)

    assert feed.feed.link == f"{SITE_URL}/"
    [entry] = feed.entries
    assert entry.title == "Notes on engines"
    assert entry.link == f"{SITE_URL}{post.get_absolute_url()}"
    assert entry.author_detail.name == "Ada Lovelace"
    assert entry.published_parsed[:6] == published.utctimetuple()[:6]
    description = entry.summary if "summary" in entry else entry.description
    assert "<strong>world</strong>" in description
    assert "<script" not in description and "onerror" not in description
    if url.endswith("atom/"):
        assert entry.updated_parsed[:6] == post.updated_at.utctimetuple()[:6]
        assert entry.id == entry.link
    assert "maths" in [tag.term for tag in entry.tags]


def test_category_feed_holds_subcategories_and_nothing_unpublished(client):
    parent = make_category(name="Health", slug="health")
    child = make_category(name="Backs", slug="backs", parent=parent)
    make_post(title="In the parent", category=parent)
    make_post(title="In the child", category=child)
    make_post(title="Elsewhere", category=make_category())
    make_post(title="A draft", category=child, status=Post.Status.DRAFT)
    make_post(
        title="Scheduled", category=child, published_at=timezone.now() + timedelta(1)
    )

    for url in ("/category/health/feed/", "/category/health/feed/atom/"):
        titles = {entry.title for entry in parse(client, url).entries}
        assert titles == {"In the parent", "In the child"}
    child_titles = {e.title for e in parse(client, "/category/backs/feed/").entries}
    assert child_titles == {"In the child"}


def test_tag_and_author_feeds_hold_their_posts_only(client):
    writer = make_user(username="writer")
    make_post(title="Tagged", tags=("spine",))
    make_post(title="By the writer", author=writer)
    make_post(title="Draft by the writer", author=writer, status=Post.Status.DRAFT)
    make_post(title="Untagged")

    for url in ("/tag/spine/feed/", "/tag/spine/feed/atom/"):
        assert [e.title for e in parse(client, url).entries] == ["Tagged"]
    for url in ("/author/writer/feed/", "/author/writer/feed/atom/"):
        assert [e.title for e in parse(client, url).entries] == ["By the writer"]
    assert client.get("/tag/nope/feed/").status_code == 404
    assert client.get("/category/nope/feed/atom/").status_code == 404
    assert client.get("/author/nobody/feed/").status_code == 404


def test_site_feed_leaves_out_drafts_and_scheduled_posts(client):
    make_post(title="Out now")
    make_post(title="Secret draft", status=Post.Status.DRAFT)
    make_post(title="Secret future", published_at=timezone.now() + timedelta(hours=1))
    for url in ("/feed/", "/feed/atom/"):
        assert [e.title for e in parse(client, url).entries] == ["Out now"]


def test_feeds_answer_conditional_requests_with_304(client):
    post = make_post(title="Cached")
    first = client.get("/feed/")
    etag, last_modified = first["ETag"], first["Last-Modified"]

    assert client.get("/feed/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/feed/", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304

    later = timezone.now() + timedelta(seconds=2)
    Post.objects.filter(pk=post.pk).update(title="Edited", updated_at=later)
    pagecache.forget_all_pages()  # as code that changes posts without signals does
    assert client.get("/feed/", HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert client.get("/feed/", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 200

    # Deleting a post changes the feed although no date moved forward.
    etag = client.get("/feed/")["ETag"]
    make_post(title="Older", published_at=timezone.now() - timedelta(days=30))
    etag_with_older = client.get("/feed/")["ETag"]
    assert etag_with_older != etag
    Post.objects.filter(title="Older").delete()
    assert client.get("/feed/", HTTP_IF_NONE_MATCH=etag_with_older).status_code == 200


def test_a_change_to_a_post_the_feed_does_not_show_leaves_it_current(client, settings):
    old = make_post(title="Old", published_at=timezone.now() - timedelta(days=30))
    for number in range(feeds.FEED_LENGTH):
        make_post(title=f"New {number}")
    etag = client.get("/feed/")["ETag"]
    Post.objects.filter(pk=old.pk).update(title="Old, edited")
    pagecache.forget_all_pages()
    assert client.get("/feed/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    Post.objects.filter(title="New 0").delete()  # "Old" comes into the feed
    pagecache.forget_all_pages()
    assert client.get("/feed/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_feed_once_built_costs_no_query_until_the_site_changes(
    client, django_assert_num_queries
):
    make_post(title="Cached", tags=("a",))
    etag = client.get("/feed/")["ETag"]
    with django_assert_num_queries(0):
        assert client.get("/feed/", HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert "Cached" in client.get("/feed/").content.decode()
    make_post(title="Newer")
    assert "Newer" in client.get("/feed/").content.decode()


def test_pages_link_to_their_feeds(client):
    category = make_category(slug="health")
    make_post(category=category, tags=("spine",), author=make_user(username="ada"))
    home = client.get("/").content.decode()
    assert 'type="application/rss+xml"' in home and 'href="/feed/"' in home
    assert 'type="application/atom+xml"' in home and 'href="/feed/atom/"' in home
    for page, feed in [
        ("/category/health/", "/category/health/feed/"),
        ("/tag/spine/", "/tag/spine/feed/"),
        ("/author/ada/", "/author/ada/feed/"),
    ]:
        html = client.get(page).content.decode()
        assert 'rel="alternate" type="application/rss+xml"' in html
        assert f'href="{feed}"' in html and f'href="{feed}atom/"' in html
