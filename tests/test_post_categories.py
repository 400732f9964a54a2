"""A post in several categories: listed under each, filed under its primary."""


import feedparser
import pytest
from django.core.management import call_command

from blog.models import Post
from tests.factories import make_category, make_post
from tests.test_public_pages import PAGE_QUERIES
from tests.test_sitemap import sitemap_locations

pytestmark = pytest.mark.django_db


def filed_in_three(**fields) -> tuple[Post, list]:
    health = make_category(name="Health", slug="health")
    backs = make_category(name="Backs", slug="backs", parent=health)
    sleep = make_category(name="Sleep", slug="sleep")
    food = make_category(name="Food", slug="food")
    post = make_post(title="Filed thrice", category=backs, **fields)
    post.categories.set([sleep, food])
    return post, [health, backs, sleep, food]


def test_post_is_listed_once_on_each_of_its_categories_and_their_parents(client):
    post, categories = filed_in_three()
    make_post(title="Elsewhere", category=make_category())
    for category in categories:
        page = client.get(category.get_absolute_url()).content.decode()
        assert page.count(post.get_absolute_url() + '"') == 1, category.slug
        assert "Elsewhere" not in page


@pytest.mark.parametrize("slug", ["backs", "sleep", "health"])
def test_category_page_costs_the_same_queries_with_a_post_in_three_categories(
    client, django_assert_num_queries, slug
):
    filed_in_three()
    for _ in range(3):
        make_post(category=make_category())
    with django_assert_num_queries(PAGE_QUERIES["category"]):
        response = client.get(f"/category/{slug}/")
    assert "Filed thrice" in response.content.decode()


def test_primary_category_drives_breadcrumb_in_line_and_related_posts(client):
    post, (_, backs, sleep, _) = filed_in_three()
    neighbour_in_primary = make_post(title="Also about backs", category=backs)
    make_post(title="Also about sleep", category=sleep)
    page = client.get(post.get_absolute_url()).content.decode()
    breadcrumb = page.split('class="breadcrumb"')[1].split("</nav>")[0]
    assert "Health" in breadcrumb and "Backs" in breadcrumb
    assert "Sleep" not in breadcrumb
    meta = page.split('class="post-meta"')[1].split("</p>")[0]
    assert 'in <a href="/category/backs/">Backs</a>' in meta
    related = page.split('id="related-posts-heading"')[1].split("</aside>")[0]
    assert neighbour_in_primary.title in related
    assert "Also about sleep" not in related


def test_address_does_not_depend_on_the_other_categories(client):
    post, categories = filed_in_three()
    address = post.get_absolute_url()
    post.categories.set(categories[2:3])
    assert Post.objects.get(pk=post.pk).get_absolute_url() == address
    assert client.get(address).status_code == 200


def test_category_feeds_and_sitemap_hold_the_other_categories_too(client):
    post, _ = filed_in_three()
    for url in ("/category/sleep/feed/", "/category/food/feed/atom/"):
        feed = feedparser.parse(client.get(url).content)
        assert [entry.title for entry in feed.entries] == [post.title]
    entry = feedparser.parse(client.get("/feed/").content).entries[0]
    assert [tag.term for tag in entry.tags][:3] == ["Backs", "Food", "Sleep"]
    locations = sitemap_locations(client)
    assert any(loc.endswith("/category/food/") for loc in locations)
    assert any(loc.endswith("/category/health/") for loc in locations)


def test_original_article_breadcrumb_is_unchanged(client):
    call_command("loaddata", "original_article", verbosity=0)
    post = Post.objects.get(slug="back-spasm-symptoms-you-should-know")
    page = client.get(post.get_absolute_url()).content.decode()
    assert post.category.name == "Back Spasm Symptoms"
    assert list(post.categories.all()) == []
    trail = page.split('class="breadcrumb"')[1].split("</nav>")[0]
    names = [part.split("</span>")[0] for part in trail.split('itemprop="name">')[1:]]
    assert names == [
        "Home",
        "Back Spasm Symptoms",
        "Back Spasm Symptoms You Should Know",
    ]
