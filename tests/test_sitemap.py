"""The sitemap lists what is published, robots.txt points to it."""

from datetime import timedelta
from unittest import mock
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog import pagecache
from blog.models import Post
from tests.factories import make_category, make_post

pytestmark = pytest.mark.django_db

SITE_URL = "https://blog.example.org"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(autouse=True)
def _site_url(settings):
    from blog.apps import point_site_at_site_url

    settings.SITE_URL = SITE_URL
    point_site_at_site_url()  # as every start does


def section_addresses(client) -> list[str]:
    """The pages of the sitemap's sections, as /sitemap.xml (the index) lists them."""
    response = client.get("/sitemap.xml", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    root = ElementTree.fromstring(response.content)
    return [loc.text for loc in root.findall("sm:sitemap/sm:loc", NS)]


def whole_sitemap(client) -> list[ElementTree.Element]:
    """Every <url> of every page of every section."""
    urls = []
    for address in section_addresses(client):
        parts = urlsplit(address)
        page = client.get(f"{parts.path}?{parts.query}", HTTP_HOST="127.0.0.1")
        assert page.status_code == 200, address
        urls += ElementTree.fromstring(page.content).findall("sm:url", NS)
    return urls


def sitemap_locations(client) -> list[str]:
    return [url.findtext("sm:loc", namespaces=NS) for url in whole_sitemap(client)]


def sitemap_entries(client) -> dict[str, str | None]:
    return {
        url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
        for url in whole_sitemap(client)
    }


def test_sitemap_lists_published_posts_with_lastmod_and_their_categories_and_tags(
    client,
):
    parent = make_category(slug="health")
    child = make_category(slug="backs", parent=parent)
    make_category(slug="empty")
    post = make_post(category=child, tags=("spine",))
    make_post(slug="draft", status=Post.Status.DRAFT, tags=("secret",))
    make_post(
        slug="future",
        category=make_category(slug="future-only"),
        published_at=timezone.now() + timedelta(days=1),
    )

    entries = sitemap_entries(client)
    assert set(entries) == {
        f"{SITE_URL}{post.get_absolute_url()}",
        f"{SITE_URL}/category/health/",
        f"{SITE_URL}/category/backs/",
        f"{SITE_URL}/tag/spine/",
    }
    lastmod = entries[f"{SITE_URL}{post.get_absolute_url()}"]
    assert lastmod == timezone.localdate(post.updated_at).isoformat()


def test_robots_txt_points_to_the_absolute_sitemap_and_keeps_out_of_admin(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "Disallow: /admin/" in lines
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in lines


def test_the_sitemap_is_an_index_of_sections_in_pages_of_bounded_size(
    client, settings, django_assert_max_num_queries
):
    from blog.sitemaps import PostSitemap

    category = make_category(slug="many")
    for number in range(5):
        make_post(slug=f"post-{number}", category=category)
    with mock.patch.object(PostSitemap, "limit", 2):
        with django_assert_max_num_queries(12):  # counts and latest changes only
            sections = section_addresses(client)
        assert sections[:3] == [
            f"{SITE_URL}/sitemap-posts.xml",
            f"{SITE_URL}/sitemap-posts.xml?p=2",
            f"{SITE_URL}/sitemap-posts.xml?p=3",
        ]
        posts = [loc for loc in sitemap_locations(client) if "/post-" in loc]
    assert len(posts) == len(set(posts)) == 5
    index = client.get("/sitemap.xml").content.decode()
    assert "<lastmod>" in index


def test_sitemap_pages_once_built_cost_no_query_until_the_site_changes(
    client, django_assert_num_queries
):
    make_post(title="First", slug="first")
    for url in ("/sitemap.xml", "/sitemap-posts.xml"):
        client.get(url)
    with django_assert_num_queries(0):
        assert client.get("/sitemap.xml").status_code == 200
        assert "/first/" in client.get("/sitemap-posts.xml").content.decode()
    make_post(title="Second", slug="second")
    assert "/second/" in client.get("/sitemap-posts.xml").content.decode()
    assert client.get("/sitemap-posts.xml?p=9").status_code == 404  # never kept


def test_posts_are_listed_at_their_addresses_whatever_their_slug(client):
    posts = [
        make_post(slug="plain"),
        make_post(slug="背部痉挛"),
        make_post(slug="über-rücken", published_at=timezone.now() - timedelta(days=40)),
    ]
    entries = sitemap_entries(client)
    for post in posts:
        assert f"{SITE_URL}{post.get_absolute_url()}" in entries


def test_a_sitemap_page_past_the_last_or_not_a_number_is_not_found(client):
    make_post()
    assert client.get("/sitemap-posts.xml?p=2").status_code == 404
    assert client.get("/sitemap-posts.xml?p=x").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404
    response = client.get("/sitemap-posts.xml")
    assert response["X-Robots-Tag"] == "noindex, noodp, noarchive"
    assert response["Last-Modified"]


def test_a_page_of_a_section_reads_its_addresses_without_counting_them(client):
    """Only the index needs the number of pages; a page of a section is
    one query for its addresses (a count reads every published post)."""
    make_post()
    pagecache.next_publication()  # read once per site version
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/sitemap-posts.xml").status_code == 200
    posts = [q["sql"] for q in queries if 'FROM "blog_post"' in q["sql"]]
    assert len(posts) == 1
    assert "COUNT(" not in posts[0]
