"""Readers browse published posts; drafts and scheduled posts never leak."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from blog import views
from blog.models import Post
from tests.factories import make_category, make_post, make_user, set_site_identity

pytestmark = pytest.mark.django_db


def public_urls(post: Post) -> list[str]:
    when = timezone.localtime(post.published_at or timezone.now())
    return [
        reverse("blog:home"),
        reverse("blog:category", args=[post.category.slug]),
        reverse("blog:tag", args=["hidden-tag"]),
        reverse("blog:archive_year", args=[when.year]),
        reverse("blog:archive_month", args=[when.year, f"{when.month:02d}"]),
    ]


@pytest.mark.parametrize(
    "state",
    [
        {"status": Post.Status.DRAFT},
        {
            "status": Post.Status.PUBLISHED,
            "published_at": timezone.now() + timedelta(days=2),
        },
    ],
    ids=["draft", "scheduled"],
)
def test_unpublished_posts_are_invisible_to_the_public(client, state):
    author = make_user(username="writer")
    visible = make_post(title="Visible post", author=author, category=make_category())
    hidden = make_post(
        title="Secret title",
        author=author,
        category=visible.category,
        tags=("hidden-tag",),
        **state,
    )
    visible.tags.add("hidden-tag")

    for url in public_urls(visible):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Secret title" not in response.content, url
        assert b"Visible post" in response.content, url

    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert (
        b"Secret title"
        not in client.get(reverse("blog:author", args=["writer"])).content
    )


def test_scheduled_post_appears_once_its_time_comes(client):
    post = make_post(title="Soon", published_at=timezone.now() + timedelta(hours=1))
    assert client.get(post.get_absolute_url()).status_code == 404
    Post.objects.filter(pk=post.pk).update(
        published_at=timezone.now() - timedelta(seconds=1)
    )
    post.refresh_from_db()
    assert client.get(post.get_absolute_url()).status_code == 200
    assert b"Soon" in client.get("/").content


def test_staff_open_a_draft_with_a_clear_banner(admin_client):
    post = make_post(title="Work in progress", status=Post.Status.DRAFT)
    response = admin_client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert "Draft — not public." in response.content.decode()


def test_authors_see_their_own_drafts_but_not_other_authors(client):
    author = make_user(groups=("Authors",))
    own = make_post(author=author, status=Post.Status.DRAFT)
    other = make_post(status=Post.Status.DRAFT)
    client.force_login(author)
    assert client.get(own.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404


def test_post_page_shows_breadcrumb_meta_tags_and_neighbours(client):
    parent = make_category(name="Health", slug="health")
    child = make_category(name="Backs", slug="backs", parent=parent)
    older = make_post(title="Older", published_at=timezone.now() - timedelta(days=3))
    post = make_post(
        title="Middle",
        category=child,
        tags=("spine",),
        published_at=timezone.now() - timedelta(days=2),
    )
    newer = make_post(title="Newer", published_at=timezone.now() - timedelta(days=1))

    page = client.get(post.get_absolute_url()).content.decode()
    assert page.index(">Home<") < page.index(">Health<") < page.index(">Backs<")
    assert page.index(">Backs<") < page.index(">Middle<")
    assert f'href="{older.get_absolute_url()}"' in page
    assert f'href="{newer.get_absolute_url()}"' in page
    assert 'href="/tag/spine/"' in page


def test_post_neighbours_are_the_nearest_published_posts(client):
    now = timezone.now()

    def dated(title: str, days: float, **fields) -> Post:
        return make_post(title=title, published_at=now + timedelta(days=days), **fields)

    dated("Farther back", -5)
    before = dated("Just before", -4)
    dated("A draft between", -3.5, status=Post.Status.DRAFT)
    post = dated("Middle", -3)
    after = dated("Just after", -2)
    newest = dated("Newest", -1)
    dated("Scheduled", 1)

    page = client.get(post.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{before.get_absolute_url()}"' in page
    assert f'rel="next" href="{after.get_absolute_url()}"' in page
    page = client.get(newest.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{after.get_absolute_url()}"' in page
    assert 'rel="next"' not in page  # the scheduled post is not out yet


def test_post_url_with_wrong_date_redirects_permanently(client):
    post = make_post(slug="dated")
    response = client.get("/1999/01/dated/")
    assert response.status_code == 301
    assert response["Location"] == post.get_absolute_url()


def test_category_page_lists_subcategories_and_their_posts(client):
    parent = make_category(name="Parent", slug="parent")
    child = make_category(name="Child", slug="child", parent=parent)
    make_post(title="In the child", category=child)
    page = client.get(parent.get_absolute_url()).content.decode()
    assert "In the child" in page
    assert 'href="/category/child/"' in page


def test_home_is_paginated(client, settings):
    set_site_identity(posts_per_page=2)
    for number in range(5):
        make_post(title=f"Numbered {number}")
    first = client.get("/").content.decode()
    assert first.count('class="post-summary"') == 2
    assert 'rel="next" href="?page=2"' in first
    assert client.get("/?page=3").status_code == 200
    assert client.get("/?page=4").status_code == 404
    assert client.get("/?page=x").status_code == 404


def test_a_long_listing_counts_its_pages_only_as_far_as_the_reader_goes(client):
    """Posts are counted fifty pages at a time, so a cold page of a big
    listing does not count every post (blog.views.COUNTED_PAGES)."""
    set_site_identity(posts_per_page=1)
    author = make_user()
    Post.objects.bulk_create(
        Post(
            title=f"Numbered {number}",
            slug=f"numbered-{number}",
            author=author,
            body="Text.",
            status=Post.Status.PUBLISHED,
            published_at=timezone.now() - timedelta(hours=number + 1),
        )
        for number in range(52)
    )
    first = client.get("/").content.decode()
    assert "Page 1 of more than 50" in first
    assert "Numbered 0" in first
    fiftieth = client.get("/?page=50").content.decode()
    assert "Page 50 of more than 50" in fiftieth
    assert 'rel="next" href="?page=51"' in fiftieth
    assert "Page 51 of 52" in client.get("/?page=51").content.decode()
    assert "Numbered 51" in client.get("/?page=52").content.decode()
    assert client.get("/?page=53").status_code == 404


@pytest.mark.parametrize("counted_pages", [1, 50])
def test_a_category_and_a_tag_list_their_posts_newest_first_page_by_page(
    client, settings, monkeypatch, counted_pages
):
    """The same pages whether the listing holds more posts than its pages
    count (read by walking the newest posts) or fewer (read through its
    own index: blog.views.ListingPaginator's `few`): its subcategories' and
    its also-listed posts in, drafts and scheduled posts out."""
    settings.INKWELL_PAGE_CACHE = False
    monkeypatch.setattr(views, "COUNTED_PAGES", counted_pages)
    set_site_identity(posts_per_page=2)
    parent = make_category(slug="parent")
    child = make_category(slug="child", parent=parent)
    now = timezone.now()
    for hours, category in ((1, parent), (2, child), (4, None), (5, parent)):
        post = make_post(
            title=f"{hours} hours ago",
            category=category,
            tags=("spine",),
            published_at=now - timedelta(hours=hours),
        )
        if category is None:
            post.categories.add(child)
    make_post(title="Draft", category=parent, status=Post.Status.DRAFT, tags=("spine",))
    make_post(
        title="Scheduled",
        category=parent,
        tags=("spine",),
        published_at=now + timedelta(hours=1),
    )
    make_post(title="Elsewhere", published_at=now - timedelta(hours=3))
    for url in ("/category/parent/", "/tag/spine/"):
        pages = [client.get(f"{url}?page={n}").content.decode() for n in (1, 2)]
        shown = [
            [hours for hours in (1, 2, 4, 5) if f">{hours} hours ago<" in page]
            for page in pages
        ]
        assert shown == [[1, 2], [4, 5]], url
        assert "Draft" not in "".join(pages) and "Scheduled" not in "".join(pages)
        assert "Elsewhere" not in "".join(pages)
        assert client.get(f"{url}?page=3").status_code == 404


def test_unknown_url_is_a_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("suffix", ["", "feed/", "feed/atom/"])
@pytest.mark.parametrize("username", ["%00", "ada%00", "a%0Ab", "%E2%80%AEada"])
def test_an_author_address_with_control_characters_is_a_404(client, username, suffix):
    make_post(author=make_user(username="ada"))
    assert client.get(f"/author/{username}/{suffix}").status_code == 404


def test_a_category_or_tag_with_only_drafts_is_not_found(client):
    hidden = make_category(name="Hidden plans", slug="hidden")
    make_post(category=hidden, tags=("secret",), status=Post.Status.DRAFT)
    for url in (
        "/category/hidden/",
        "/category/hidden/feed/",
        "/tag/secret/",
        "/tag/secret/feed/atom/",
    ):
        assert client.get(url).status_code == 404, url
    make_post(category=hidden, tags=("secret",))
    assert client.get("/category/hidden/").status_code == 200
    assert client.get("/tag/secret/feed/").status_code == 200


def test_broken_markdown_never_breaks_the_page(client):
    post = make_post(body="```\nunclosed fence\n\n[broken link](\n\n<div><span>")
    assert client.get(post.get_absolute_url()).status_code == 200


# Queries per page: counting, listing and prefetching tags, counting the listed
# posts' comments (plus the tag lookup, or the post's neighbours, its related
# posts, its likes widget, its discussion, its comments' likes and the
# discussion settings, one query on a cold cache), whatever the number of posts.
# After a change to the site every page also reads the site identity and the
# next scheduled publication (a post's and a page's), kept in the process
# until the next change, and, on a cold cache, the menus' links and (the
# Header menu being empty) the category tree, which breadcrumbs and category
# pages read from the same cached copy.
CHROME_QUERIES = 5
PAGE_QUERIES = {
    page: queries + CHROME_QUERIES
    for page, queries in {
        "home": 4,
        "category": 4,
        "post": 9,
        "tag": 5,
        "archive": 4,
    }.items()
}
# Once the pieces every reader sees alike are cached (blog/pagecache.py), with
# the page cache off: the tag lookup, and nothing else, since a listing's count
# and the category tree are kept under the site version (a reader who has
# liked posts or is signed in reads their likes widget; one signed in, their
# thread too).
PAGE_QUERIES_WARM = {"home": 0, "category": 0, "post": 0, "tag": 1, "archive": 0}


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize("posts", [1, 30])
@pytest.mark.parametrize("page", sorted(PAGE_QUERIES))
def test_page_query_count_is_fixed(
    client, settings, django_assert_num_queries, page, posts, warm
):
    category = make_category(slug="many")
    authors = [make_user() for _ in range(3)]
    for number in range(posts):
        make_post(
            category=category, author=authors[number % 3], tags=("common", f"t{number}")
        )
    post = Post.objects.published().earliest("published_at")
    url = {
        "home": "/",
        "category": category.get_absolute_url(),
        "post": post.get_absolute_url(),
        "tag": "/tag/common/",
        "archive": f"/{timezone.localtime(post.published_at).year}/",
    }[page]
    if warm:
        settings.INKWELL_PAGE_CACHE = False
        client.get(url)
    with django_assert_num_queries((PAGE_QUERIES_WARM if warm else PAGE_QUERIES)[page]):
        assert client.get(url).status_code == 200


def test_healthz_reports_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == response.json()["cache"] == "ok"
