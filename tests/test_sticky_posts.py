"""Sticky posts: pinned on the home page's first page, newest first, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import make_post, make_user, set_site_identity
from tests.test_public_pages import PAGE_QUERIES

pytestmark = pytest.mark.django_db


def titles(page: str) -> list[str]:
    return [
        part.split(">", 1)[1].split("<", 1)[0]
        for part in page.split('class="post-summary__title"><a href="')[1:]
    ]


def make_posts(settings) -> None:
    set_site_identity(posts_per_page=3)
    now = timezone.now()
    for days in range(1, 6):
        make_post(title=f"Day {days}", published_at=now - timedelta(days=days))
    make_post(title="Old sticky", sticky=True, published_at=now - timedelta(days=30))
    make_post(title="New sticky", sticky=True, published_at=now - timedelta(days=10))


def test_sticky_posts_open_the_first_page_newest_first_then_the_rest(client, settings):
    make_posts(settings)
    first = client.get("/").content.decode()
    assert titles(first) == ["New sticky", "Old sticky", "Day 1"]
    rest = titles(client.get("/?page=2").content.decode())
    rest += titles(client.get("/?page=3").content.decode())
    assert rest == ["Day 2", "Day 3", "Day 4", "Day 5"]


def test_sticky_posts_are_marked_on_the_home_page_only(client, settings):
    make_posts(settings)
    page = client.get("/").content.decode()
    assert page.count('class="post-summary__sticky"') == 2
    archive = client.get(f"/{timezone.now().year}/").content.decode()
    assert "post-summary__sticky" not in archive


def test_sticky_drafts_and_private_posts_stay_off_the_home_page(client):
    make_post(title="Sticky draft", sticky=True, status=Post.Status.DRAFT)
    make_post(title="Sticky private", sticky=True, status=Post.Status.PRIVATE)
    make_post(title="Public")
    assert titles(client.get("/").content.decode()) == ["Public"]


def test_home_page_costs_the_same_queries_with_sticky_posts(
    client, settings, django_assert_num_queries
):
    make_posts(settings)
    with django_assert_num_queries(PAGE_QUERIES["home"]):
        client.get("/")


def test_editor_sticks_and_unsticks_posts_from_the_list(client):
    editor = make_user(groups=("Editors",))
    client.force_login(editor)
    post = make_post(title="Pin me")
    url = "/admin/blog/post/"
    response = client.post(
        url, {"action": "stick", "_selected_action": [post.pk]}, follow=True
    )
    assert "Made 1 post sticky." in response.content.decode()
    post.refresh_from_db()
    assert post.sticky
    client.post(url, {"action": "unstick", "_selected_action": [post.pk]})
    post.refresh_from_db()
    assert not post.sticky


def test_author_cannot_stick_another_authors_post(client):
    client.force_login(make_user(groups=("Authors",)))
    post = make_post(title="Not mine")
    client.post("/admin/blog/post/", {"action": "stick", "_selected_action": [post.pk]})
    post.refresh_from_db()
    assert not post.sticky
