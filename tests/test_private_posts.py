"""Private posts: for staff who may edit them, and absent for everyone else."""


import feedparser
import pytest
from django.test import Client

from blog.models import Post
from blog.redirects import add_redirect
from comments.models import Comment
from tests.factories import make_category, make_comment, make_post, make_user
from tests.test_sitemap import sitemap_locations

pytestmark = pytest.mark.django_db

SECRET = "Quietly kept notes"


@pytest.fixture
def private_post() -> Post:
    category = make_category(name="Notes", slug="notes")
    owner = make_user(username="owner", groups=("Authors",))
    make_post(title="A public neighbour", category=category, tags=("notes",))
    post = make_post(
        title=SECRET,
        body="Words only the private post holds: zanzibar.",
        status=Post.Status.PRIVATE,
        category=category,
        author=owner,
        tags=("notes",),
        sticky=True,
    )
    make_post(title="A later neighbour", category=category, tags=("notes",))
    add_redirect("/?p=77", post.get_absolute_url())
    return post


def reader_client(kind: str) -> Client:
    client = Client()
    if kind == "other author":
        client.force_login(make_user(groups=("Authors",)))
    return client


PUBLIC_URLS = [
    "/",
    "/category/notes/",
    "/tag/notes/",
    "/author/owner/",
    "/feed/",
    "/feed/atom/",
    "/category/notes/feed/",
    "/tag/notes/feed/",
    "/author/owner/feed/",
    "/sitemap.xml",
    "/sitemap-posts.xml",
    "/search/?q=zanzibar",
    "/search/?q=quietly",
]


@pytest.mark.parametrize("kind", ["anonymous", "other author"])
def test_private_post_is_absent_everywhere_for_others(private_post, kind):
    client = reader_client(kind)
    for url in [*PUBLIC_URLS, f"/{private_post.published_at.year}/"]:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert SECRET.encode() not in response.content, url
        assert private_post.slug.encode() not in response.content, url
    assert client.get(private_post.get_absolute_url()).status_code == 404
    # The old WordPress address leads nowhere, as an unknown one does.
    response = client.get("/?p=77")
    assert response.status_code == 404
    assert SECRET.encode() not in response.content
    assert client.get(f"/comments/feed/{private_post.pk}/").status_code == 404


@pytest.mark.parametrize("kind", ["anonymous", "other author"])
def test_private_post_is_not_a_neighbour_nor_related_for_others(private_post, kind):
    client = reader_client(kind)
    for post in Post.objects.published():
        page = client.get(post.get_absolute_url()).content.decode()
        assert SECRET not in page


def test_private_post_is_counted_nowhere(private_post, client):
    page = client.get("/search/?q=neighbour").content.decode()
    assert "2 posts found." in page
    feed = feedparser.parse(client.get("/category/notes/feed/").content)
    assert len(feed.entries) == 2


@pytest.mark.parametrize("who", ["owner", "editor"])
def test_owner_and_editors_open_it_marked_private_and_never_cached(private_post, who):
    client = Client()
    user = private_post.author if who == "owner" else make_user(groups=("Editors",))
    client.force_login(user)
    response = client.get(private_post.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Private — only staff who may edit this post can see it." in page
    assert "zanzibar" in page
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert client.get("/?p=77").status_code == 301


def test_anonymous_reader_after_staff_still_gets_a_404(private_post):
    staff = Client()
    staff.force_login(private_post.author)
    staff.get(private_post.get_absolute_url())
    assert Client().get(private_post.get_absolute_url()).status_code == 404


def test_private_post_takes_no_comments(private_post, client):
    make_comment(post=private_post)
    response = client.get(private_post.get_absolute_url())
    assert response.status_code == 404
    assert Comment.objects.count() == 1


def test_sitemap_has_no_private_post(private_post, client):
    locations = sitemap_locations(client)
    assert not any(private_post.slug in loc for loc in locations)
    assert any("a-public" in loc or "post-" in loc for loc in locations)


def test_a_private_post_cannot_have_a_password():
    from django.core.exceptions import ValidationError

    post = make_post(status=Post.Status.PRIVATE)
    post.password = "secret"
    with pytest.raises(ValidationError, match="needs no password"):
        post.full_clean()
