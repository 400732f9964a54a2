"""Pages: addresses made of their parents' slugs, after every other route;
hidden unless published; breadcrumbs; the admin's checks and roles."""

from datetime import timedelta

import pytest
from django.contrib.redirects.models import Redirect
from django.utils import timezone

from blog.models import Page
from tests.factories import make_category, make_page, make_post, make_user

pytestmark = pytest.mark.django_db


def test_a_page_lives_at_the_slugs_of_its_parents_and_its_own(client):
    about = make_page(title="About", slug="about")
    team = make_page(title="The team", slug="team", parent=about)
    ada = make_page(title="Ada", slug="ada", parent=team)
    assert ada.get_absolute_url() == "/about/team/ada/"
    for page in (about, team, ada):
        response = client.get(page.get_absolute_url())
        assert response.status_code == 200
        assert f'<h1 class="post__title">{page.title}</h1>' in response.text
    assert client.get("/team/").status_code == 404
    assert client.get("/about/ada/").status_code == 404


def test_moving_a_page_moves_its_children_and_redirects_the_old_addresses(client):
    about = make_page(slug="about")
    make_page(slug="contact", parent=about)
    about.slug = "who-we-are"
    about.save()
    assert client.get("/who-we-are/contact/").status_code == 200
    response = client.get("/about/contact/")
    assert response.status_code == 301
    assert response["Location"] == "/who-we-are/contact/"
    assert Redirect.objects.filter(old_path="/about/").exists()


def test_the_breadcrumb_walks_up_the_parents_with_schema_org_markup(client):
    about = make_page(title="About us", slug="about")
    contact = make_page(title="Contact", slug="contact", parent=about)
    html = client.get(contact.get_absolute_url()).text
    breadcrumb = html[
        html.index('class="breadcrumb"') : html.index(
            "</nav>", html.index('class="breadcrumb"')
        )
    ]
    assert (
        breadcrumb.index(">Home<")
        < breadcrumb.index(">About us<")
        < breadcrumb.index(">Contact<")
    )
    assert 'itemtype="https://schema.org/BreadcrumbList"' in breadcrumb
    assert '"@type": "BreadcrumbList"' in html
    assert '"name": "About us"' in html


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "draft"},
        {"status": "private"},
        {"status": "published", "published_at": timezone.now() + timedelta(days=1)},
    ],
    ids=["draft", "private", "scheduled"],
)
def test_a_hidden_page_is_a_404_for_readers_and_visible_to_its_editors(client, fields):
    page = make_page(title="Hidden plans", slug="plans", **fields)
    assert client.get("/plans/").status_code == 404
    editor = make_user(groups=("Editors",))
    client.force_login(editor)
    response = client.get("/plans/")
    assert response.status_code == 200
    assert '<meta name="robots" content="noindex">' in response.text
    other_author = make_user(groups=("Authors",))
    client.force_login(other_author)
    assert client.get(page.get_absolute_url()).status_code == 404


def test_a_page_never_shadows_another_route(client):
    # Even written straight to the database, past the admin's check.
    Page.objects.bulk_create(
        [
            Page(
                title="Feed",
                slug="feed",
                path="feed",
                author=make_user(),
                status="published",
                published_at=timezone.now(),
            )
        ]
    )
    assert client.get("/feed/")["Content-Type"].startswith("application/rss+xml")


@pytest.mark.parametrize(
    ("slug", "parent_slug"),
    [
        ("feed", None),
        ("search", None),
        ("2024", None),
        ("admin", None),
        ("static", None),
        ("atom", "feed"),
    ],
)
def test_a_slug_whose_address_another_route_answers_is_refused_with_a_form_error(
    admin_client, slug, parent_slug
):
    parent = None
    if parent_slug:
        parent = Page(
            title="Parent", slug=parent_slug, path=parent_slug, author=make_user()
        )
        Page.objects.bulk_create([parent])
        parent = Page.objects.get(path=parent_slug)
    response = admin_client.post(
        "/admin/blog/page/add/",
        {
            "title": "Clash",
            "slug": slug,
            "parent": parent.pk if parent else "",
            "menu_order": "0",
            "body": "",
            "status": "draft",
            "author": make_user(is_staff=True).pk,
        },
    )
    assert response.status_code == 200
    assert "is already used by another part of the site" in response.text or (
        "static files" in response.text
    )
    assert not Page.objects.filter(slug=slug).exists()


def test_two_pages_under_one_parent_cannot_share_a_slug(admin_client):
    make_page(slug="about")
    response = admin_client.post(
        "/admin/blog/page/add/",
        {
            "title": "About again",
            "slug": "about",
            "menu_order": "0",
            "status": "draft",
            "author": make_user(is_staff=True).pk,
        },
    )
    assert response.status_code == 200
    assert "Another page already has the address /about/." in response.text
    assert Page.objects.filter(slug="about").count() == 1


def test_a_page_cannot_be_put_under_its_own_child(admin_client):
    top = make_page(slug="top")
    child = make_page(slug="child", parent=top)
    response = admin_client.post(
        f"/admin/blog/page/{top.pk}/change/",
        {
            "title": top.title,
            "slug": "top",
            "parent": child.pk,
            "menu_order": "0",
            "status": "published",
            "published_at_0": "2024-01-01",
            "published_at_1": "10:00:00",
            "author": top.author.pk,
        },
    )
    assert "A page cannot be inside itself or its children." in response.text
    top.refresh_from_db()
    assert top.parent is None


def test_pages_stay_out_of_post_lists_and_feeds(client):
    make_post(title="A post")
    make_page(title="About the blog", slug="about", body="Who writes here.")
    assert "About the blog" not in client.get("/").text
    assert "About the blog" not in client.get("/feed/").text


def test_an_author_writes_their_own_pages_and_an_editor_everyone_s(client):
    author = make_user(groups=("Authors",))
    theirs = make_page(title="Mine", author=author, status="draft")
    others = make_page(title="Someone else's", status="draft")
    client.force_login(author)
    assert client.get(f"/admin/blog/page/{theirs.pk}/change/").status_code == 200
    assert client.get(f"/admin/blog/page/{others.pk}/change/").status_code == 302
    listing = client.get("/admin/blog/page/").text
    assert "Mine" in listing and "Someone else" not in listing
    editor = make_user(groups=("Editors",))
    client.force_login(editor)
    assert client.get(f"/admin/blog/page/{others.pk}/change/").status_code == 200
    moderator = make_user(groups=("Moderators",))
    client.force_login(moderator)
    assert client.get("/admin/blog/page/").status_code == 403


def test_a_new_page_has_comments_off():
    assert Page().allow_comments is False


def test_a_category_page_is_not_taken_by_a_page_of_the_same_slug(client):
    category = make_category(name="News", slug="news")
    make_page(title="News page", slug="category")
    assert client.get(category.get_absolute_url()).status_code == 200
