"""The sitemap lists what is published, robots.txt points to it."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import make_category, make_post

pytestmark = pytest.mark.django_db

SITE_URL = "https://blog.example.org"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


def sitemap_entries(client) -> dict[str, str | None]:
    response = client.get("/sitemap.xml", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    root = ElementTree.fromstring(response.content)
    return {
        url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
        for url in root.findall("sm:url", NS)
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
