"""Every page tells search engines and link previews what it is; posts suggest more."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import make_category, make_post, make_user, set_site_identity
from tests.test_public_pages import PAGE_QUERIES

pytestmark = pytest.mark.django_db

SITE_URL = "https://blog.example.org"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


def head(page: str) -> str:
    return page.split("</head>")[0]


def meta(page: str, key: str) -> str:
    found = re.search(
        rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', page
    )
    assert found, key
    return found.group(1)


def json_ld(page: str) -> list[dict]:
    blocks = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', page, re.S
    )
    return [json.loads(block) for block in blocks]


def test_post_page_has_description_canonical_cards_and_json_ld(client):
    author = make_user(username="ada", first_name="Ada", last_name="Lovelace")
    parent = make_category(name="Health", slug="health")
    child = make_category(name="Backs", slug="backs", parent=parent)
    post = make_post(
        title="Stretching",
        author=author,
        category=child,
        seo_description="How to stretch a stiff back.",
        excerpt="An excerpt.",
        featured_image="featured/2024/01/back.jpg",
        featured_image_alt="A person stretching",
        tags=("spine",),
    )
    page = head(
        client.get(post.get_absolute_url(), HTTP_HOST="127.0.0.1").content.decode()
    )
    url = f"{SITE_URL}{post.get_absolute_url()}"

    assert "<title>Stretching · Inkwell</title>" in page
    assert meta(page, "description") == "How to stretch a stiff back."
    assert f'<link rel="canonical" href="{url}">' in page
    assert meta(page, "og:type") == "article"
    assert meta(page, "og:url") == url
    assert meta(page, "og:title") == "Stretching"
    assert meta(page, "og:image") == f"{SITE_URL}/media/featured/2024/01/back.jpg"
    assert meta(page, "og:image:alt") == "A person stretching"
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "twitter:image:alt") == "A person stretching"

    posting, breadcrumb = json_ld(page)
    assert posting["@type"] == "BlogPosting"
    assert posting["headline"] == "Stretching"
    assert posting["author"]["name"] == "Ada Lovelace"
    assert posting["datePublished"].startswith(post.published_at.date().isoformat())
    assert posting["image"] == f"{SITE_URL}/media/featured/2024/01/back.jpg"
    assert posting["keywords"] == ["spine"]
    assert breadcrumb["@type"] == "BreadcrumbList"
    assert [item["name"] for item in breadcrumb["itemListElement"]] == [
        "Home",
        "Health",
        "Backs",
        "Stretching",
    ]
    assert breadcrumb["itemListElement"][1]["item"] == f"{SITE_URL}/category/health/"


def test_description_falls_back_to_excerpt_then_body(client):
    with_excerpt = make_post(excerpt="The short version.")
    without = make_post(body="The body *starts* here and goes on.")
    page = client.get(with_excerpt.get_absolute_url()).content.decode()
    assert meta(page, "description") == "The short version."
    page = client.get(without.get_absolute_url()).content.decode()
    assert meta(page, "description") == "The body starts here and goes on."
    assert meta(page, "twitter:card") == "summary"
    assert "og:image" not in page


def test_a_title_cannot_break_out_of_the_json_ld_block(client):
    post = make_post(title='Evil </script><script>alert("x")</script> & co')
    page = client.get(post.get_absolute_url()).content.decode()
    assert '<script>alert("x")' not in page
    posting = json_ld(head(page))[0]
    assert posting["headline"] == 'Evil </script><script>alert("x")</script> & co'


def test_paginated_lists_link_prev_and_next_in_the_head(client, settings):
    set_site_identity(posts_per_page=2)
    category = make_category(slug="many")
    for _ in range(5):
        make_post(category=category, tags=("lots",))
    for path in ("/", "/category/many/", "/tag/lots/"):
        page = head(client.get(f"{path}?page=2").content.decode())
        assert f'<link rel="canonical" href="{SITE_URL}{path}?page=2">' in page
        assert f'<link rel="prev" href="{SITE_URL}{path}">' in page
        assert f'<link rel="next" href="{SITE_URL}{path}?page=3">' in page
    first = head(client.get("/").content.decode())
    assert 'rel="prev"' not in first
    assert f'<link rel="canonical" href="{SITE_URL}/">' in first
    search = head(client.get("/search/?q=post&page=2").content.decode())
    assert f'<link rel="prev" href="{SITE_URL}/search/?q=post">' in search


def test_category_page_describes_itself_with_a_breadcrumb(client):
    parent = make_category(name="Health", slug="health", description="All about it.")
    make_post(category=parent)
    page = head(client.get("/category/health/").content.decode())
    assert meta(page, "description") == "All about it."
    [breadcrumb] = json_ld(page)
    assert [item["name"] for item in breadcrumb["itemListElement"]] == [
        "Home",
        "Health",
    ]


def test_pages_without_their_own_metadata_still_have_some(client):
    page = head(client.get("/no-such-page/").content.decode())
    assert meta(page, "description") == "Posts and reader discussions."
    assert meta(page, "og:site_name") == "Inkwell"


def test_drafts_are_not_indexed(admin_client):
    draft = make_post(status=Post.Status.DRAFT)
    page = head(admin_client.get(draft.get_absolute_url()).content.decode())
    assert '<meta name="robots" content="noindex">' in page


def related_titles(client, post: Post) -> list[str]:
    return [
        p.title for p in client.get(post.get_absolute_url()).context["related_posts"]
    ]


def test_related_posts_prefer_shared_tags_then_the_category(client):
    home = make_category(slug="home")
    post = make_post(title="Subject", category=home, tags=("a", "b", "c"))
    make_post(title="Three tags", tags=("a", "b", "c"))
    make_post(title="One tag", tags=("c",))
    make_post(title="Two tags", tags=("a", "b"))
    make_post(title="Same category", category=home)
    make_post(title="Unrelated", tags=("z",))
    make_post(title="Draft", status=Post.Status.DRAFT, tags=("a", "b", "c"))
    make_post(
        title="Scheduled",
        tags=("a", "b", "c"),
        published_at=timezone.now() + timedelta(days=1),
    )
    assert related_titles(client, post) == [
        "Three tags",
        "Two tags",
        "One tag",
        "Same category",
    ]
    page = client.get(post.get_absolute_url()).content.decode()
    assert 'aria-labelledby="related-posts-heading"' in page


def test_related_posts_stop_at_four_and_never_include_the_post(client):
    post = make_post(title="Subject", tags=("a",))
    for number in range(8):
        make_post(title=f"Also {number}", tags=("a",))
    titles = related_titles(client, post)
    assert len(titles) == 4
    assert "Subject" not in titles


def test_post_without_tags_or_category_has_no_related_posts(client):
    post = make_post(title="Alone")
    make_post(title="Other", tags=("a",))
    assert related_titles(client, post) == []


@pytest.mark.parametrize("candidates", [1, 20])
def test_post_page_with_related_posts_has_a_fixed_query_count(
    client, django_assert_num_queries, candidates
):
    category = make_category()
    post = make_post(category=category, tags=("a", "b"))
    for number in range(candidates):
        make_post(category=category, tags=("a", f"t{number}"))
    # The post page's pinned count (tests/test_public_pages.py), related posts
    # included.
    with django_assert_num_queries(PAGE_QUERIES["post"]):
        response = client.get(post.get_absolute_url())
    assert len(response.context["related_posts"]) == min(candidates, 4)
