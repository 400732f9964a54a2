"""Pages: addresses made of their parents' slugs, after every other route;
hidden unless published; breadcrumbs; the admin's checks and roles."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.redirects.models import Redirect
from django.test import Client
from django.utils import timezone

from blog.models import Menu, MenuItem, Page, Post
from comments.models import Comment
from tests.factories import (
    comment_form_data,
    make_category,
    make_comment,
    make_discussion,
    make_page,
    make_post,
    make_user,
)
from tests.test_sitemap import sitemap_locations

# A page with a parent and a discussion, with the page cache off: the page,
# its breadcrumb, the site identity, the next scheduled publication (a post's
# and a page's), the menus, the discussion settings, its likes line, the
# discussion's outline, its page of comments and their likes.
PAGE_QUERIES = 11

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
    make_post(category=category)  # an empty category is a 404 of its own
    make_page(title="News page", slug="category")
    assert client.get(category.get_absolute_url()).status_code == 200


# Hidden pages leak nowhere; public ones are in the sitemap and search


HIDDEN = pytest.mark.parametrize(
    "fields",
    [
        {"status": "draft"},
        {"status": "private"},
        {"status": "published", "published_at": timezone.now() + timedelta(days=1)},
    ],
    ids=["draft", "private", "scheduled"],
)


@HIDDEN
def test_a_hidden_page_is_in_no_sitemap_search_or_menu_for_anonymous_readers(
    client, fields
):
    shown = make_page(title="Zebra stripes", slug="stripes", body="About zebras.")
    hidden = make_page(title="Zebra plans", slug="plans", body="zebra", **fields)
    menu = Menu.objects.create(name="Header", location="header")
    MenuItem.objects.create(menu=menu, page=shown)
    MenuItem.objects.create(menu=menu, page=hidden)

    sitemap = sitemap_locations(client)
    assert any(loc.endswith(shown.get_absolute_url()) for loc in sitemap)
    assert not any("/plans/" in loc for loc in sitemap)
    search = client.get("/search/?q=zebra").text
    assert 'href="/stripes/">Zebra stripes</a>' in search
    assert "Zebra plans" not in search
    home = client.get("/").text
    assert 'href="/stripes/"' in home
    assert "/plans/" not in home and "Zebra plans" not in home
    assert client.get("/plans/").status_code == 404


def test_search_finds_pages_by_title_and_text_above_the_posts(client):
    make_post(title="A post on knees", body="Knees bend.")
    make_page(title="Contact", slug="contact", body="Write about your knees.")
    html = client.get("/search/?q=knees").text
    assert html.index(">Contact</a>") < html.index(">A post on knees</a>")
    assert "<mark>knees</mark>" in html
    assert client.get("/search/?q=nothing-like-this").status_code == 200


# A page's discussion is a post's


def test_comments_on_a_page_are_moderated_and_shown_like_a_post_s(client, mailoutbox):
    author = make_user(groups=("Authors",), email="writer@example.org")
    page = make_page(
        title="Guestbook", slug="guestbook", author=author, allow_comments=True
    )
    html = client.get(page.get_absolute_url()).text
    assert "Leave a Reply" in html and "Comments feed" not in html

    # A signed-in reader (no email to confirm), commenting for the first time.
    reader = Client()
    reader.force_login(make_user(email="reader@example.org"))
    response = reader.post(
        "/comments/post/",
        comment_form_data(page, seconds_ago=60, comment="Hello from a first-timer"),
    )
    assert response.status_code == 302
    assert response["Location"] == "/guestbook/#respond"
    comment = Comment.objects.get()
    assert comment.content_object == page
    assert (comment.state, comment.reason) == (
        Comment.State.HELD,
        "first-time commenter",
    )
    assert "Hello from a first-timer" not in client.get(page.get_absolute_url()).text
    assert any(author.email in message.to for message in mailoutbox)

    # The page's author moderates it from the queue, as for their posts.
    moderator = Client()
    moderator.force_login(author)
    queue = moderator.get("/admin/comments/comment/").text
    assert "Hello from a first-timer" in queue
    moderator.post(
        "/admin/comments/comment/?state=all",
        {"action": "approve", ACTION_CHECKBOX_NAME: [str(comment.pk)]},
    )
    comment.refresh_from_db()
    assert comment.state == Comment.State.PUBLIC
    html = client.get(page.get_absolute_url()).text
    assert "Hello from a first-timer" in html
    assert "1 comment on “Guestbook”" in html

    # A reply, then the permalink lands on the page.
    reply_page = client.get(f"/comments/reply/{comment.pk}/")
    assert reply_page.status_code == 200
    response = client.get(comment.get_absolute_url())
    assert response["Location"] == f"/guestbook/?cpage=1#c{comment.pk}"


def test_a_page_with_comments_off_shows_its_kept_comments_and_no_form(client):
    page = make_page(slug="old", allow_comments=False)
    assert 'id="comments"' not in client.get("/old/").text
    make_comment(post=page, body="Kept from before")
    html = client.get("/old/").text
    assert "Kept from before" in html
    assert "Comments are closed." in html
    assert "Leave a Reply" not in html


def test_a_comment_on_a_page_does_not_land_on_a_post_with_the_same_id(client):
    Page.objects.filter(
        pk=make_page(slug="same", allow_comments=True).pk
    ).update(id=987654)
    Post.objects.filter(pk=make_post().pk).update(id=987654)
    page, post = Page.objects.get(pk=987654), Post.objects.get(pk=987654)
    client.get(post.get_absolute_url())
    make_comment(post=page, body="On the page")
    assert "On the page" in client.get("/same/").text
    assert "On the page" not in client.get(post.get_absolute_url()).text


def test_a_comment_on_a_hidden_page_is_refused(client):
    page = make_page(slug="draft", status="draft", allow_comments=True)
    response = client.post("/comments/post/", comment_form_data(page, seconds_ago=60))
    assert response.status_code == 400
    assert not Comment.objects.exists()


# Queries


@pytest.mark.parametrize("size", ["small", "large"])
def test_a_page_costs_the_same_queries_whatever_the_number_of_pages_links_and_comments(
    client, settings, django_assert_num_queries, size
):
    settings.INKWELL_PAGE_CACHE = False
    pages, links, comments = {"small": (1, 1, 0), "large": (30, 20, 300)}[size]
    about = make_page(slug="about")
    page = make_page(slug="contact", parent=about, allow_comments=True)
    for number in range(pages):
        make_page(slug=f"more-{number}", parent=about if number % 2 else None)
    menu = Menu.objects.create(name="Header", location="header")
    for number in range(links):
        MenuItem.objects.create(
            menu=menu, page=Page.objects.get(slug=f"more-{number % pages}")
        )
    make_discussion(post=page, comments=comments, users=(make_user(), None))
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(page.get_absolute_url())
    assert response.content.decode().count('class="comment__body"') == min(
        comments, 200
    )
    # Once its pieces are cached, nothing is read again.
    with django_assert_num_queries(0):
        client.get(page.get_absolute_url())
