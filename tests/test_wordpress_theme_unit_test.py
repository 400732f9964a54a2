"""import_wordpress on real input: WordPress's Theme Unit Test export.

The file is imported once for the module (a module-scoped fixture); each test
runs in a savepoint inside that import's transaction.
"""

import datetime
import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from taggit.models import Tag

from blog.models import Category, Menu, Page, Post
from comments.models import Comment
from tests.test_wordpress_import import THEME_UNIT_TEST, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def theme_unit_test(django_db_setup, django_db_blocker):
    """Import the file once for the module; each test runs in a savepoint.

    The outer transaction is rolled back afterwards, as Django's TestCase
    does with `setUpTestData`, so no other test sees these rows.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield run_import(THEME_UNIT_TEST)
        transaction.set_rollback(True)


def test_theme_unit_test_posts_keep_their_visibility(client, theme_unit_test):
    # 49 published in WordPress, one of them password-protected.
    assert Post.objects.published().count() == 49
    draft = Post.objects.get(title="Draft")
    scheduled = Post.objects.get(slug="scheduled")
    assert draft.status == Post.Status.DRAFT
    assert scheduled.is_scheduled
    assert scheduled.published_at == datetime.datetime(
        2030, 1, 1, 19, 0, 18, tzinfo=datetime.UTC
    )
    for hidden in (draft, scheduled):
        assert client.get(hidden.get_absolute_url()).status_code == 404
    published = Post.objects.get(slug="markup-image-alignment")
    assert client.get(published.get_absolute_url()).status_code == 200
    after = scheduled.published_at + datetime.timedelta(minutes=1)
    with mock.patch.object(timezone, "now", return_value=after):
        assert scheduled in Post.objects.published()


def test_theme_unit_test_terms_and_authors(theme_unit_test):
    assert Category.objects.count() == 67
    by_id = Category.objects.by_id()
    grandchild = Category.objects.get(slug="grandchild-category")
    assert [c.slug for c in grandchild.ancestors(by_id)] == [
        "parent-category",
        "child-category-03",
        "grandchild-category",
    ]
    assert grandchild.description == (
        "This is a description for the Grandchild Category."
    )
    assert max(len(c.ancestors(by_id)) for c in by_id.values()) == 3
    # The 110 declared tags, plus "columns", which a post uses undeclared.
    assert Tag.objects.count() == 111
    assert Tag.objects.filter(slug="columns").exists()
    users = get_user_model().objects.order_by("username")
    assert [u.username for u in users] == ["themedemos", "themereviewteam"]
    assert not any(u.has_usable_password() for u in users)
    post = Post.objects.get(slug="edge-case-many-categories")
    assert post.category.slug == "classic"


def listed_titles(client, url: str) -> str:
    """Every page of a listing, as one text."""
    pages, number = [], 1
    while (response := client.get(url, {"page": number})).status_code == 200:
        pages.append(response.content.decode())
        number += 1
    return "".join(pages)


def test_theme_unit_test_many_categories_is_listed_on_each(client, theme_unit_test):
    post = Post.objects.get(slug="edge-case-many-categories")
    text = THEME_UNIT_TEST.read_text(encoding="utf-8")
    item = text[text.index("<title>Edge Case: Many Categories") :]
    item = item[: item.index("</item>")]
    slugs = set(re.findall(r'domain="category" nicename="([^"]+)"', item))
    assert len(slugs) > 20
    assert {post.category.slug, *(c.slug for c in post.categories.all())} == slugs
    for slug in slugs:
        listing = listed_titles(client, f"/category/{slug}/")
        assert "Edge Case: Many Categories" in listing, slug


def test_theme_unit_test_sticky_post_comes_first_on_the_home_page(
    client, theme_unit_test
):
    assert list(Post.objects.filter(sticky=True).values_list("slug", flat=True)) == [
        "template-sticky"
    ]
    home = client.get("/").content.decode()
    titles = re.findall(r'<h2 class="[^"]*"><a href="[^"]+">([^<]+)</a>', home)
    assert titles[0] == "Template: Sticky", titles[:3]
    assert titles.count("Template: Sticky") == 1


def test_theme_unit_test_password_post_opens_with_enter(client, theme_unit_test):
    protected = Post.objects.get(slug="template-password-protected")
    assert (protected.status, protected.password) == (Post.Status.PUBLISHED, "enter")
    url = protected.get_absolute_url()
    locked = client.get(url).content.decode()
    assert 'type="password"' in locked
    assert "This content, comments, pingbacks" not in locked
    wrong = client.post(url, {"password": "wrong"})
    assert "That password is not right" in wrong.content.decode()
    assert client.post(url, {"password": "enter"}).status_code == 303
    opened = client.get(url).content.decode()
    assert 'type="password"' not in opened
    assert "This content, comments, pingbacks" in opened


def test_theme_unit_test_comments_and_threads(client, theme_unit_test):
    # 32 in the file: 27 on posts, 5 on pages.
    assert Comment.objects.count() == 32
    assert Comment.objects.for_posts().count() == 27
    assert "comments on skipped items" not in theme_unit_test
    held = Comment.objects.for_posts().filter(state=Comment.State.HELD)
    assert [c.user_name for c in held] == ["auser"]
    assert not held.get().is_public
    pings = Comment.objects.exclude(reason="").order_by("reason", "submit_date")
    assert [c.reason for c in pings] == ["pingback"] * 2 + ["trackback"] * 2
    assert pings[0].user_name.startswith("Ping 3 « What")

    post = Post.objects.get(slug="template-comments")
    chain = Comment.objects.filter(
        object_pk=str(post.pk), comment__startswith="Comment Depth"
    ).order_by("thread_id", "order")
    assert [c.comment[:16] for c in chain] == [
        f"Comment Depth {n:02d}" for n in range(1, 11)
    ]
    assert [c.level for c in chain] == [0, 1, 2, 3, 4, 4, 4, 4, 4, 4]
    level_3 = chain[3]
    assert all(c.parent_id == level_3.pk for c in chain[4:])
    assert chain[0].nested_count == 9
    assert "replies deeper than level 4 attached at level 4" in theme_unit_test
    page = client.get(post.get_absolute_url()).content.decode()
    positions = [page.index(f"Comment Depth {n:02d}") for n in range(1, 11)]
    assert positions == sorted(positions)
    assert "this is test comment" not in page  # held


def test_theme_unit_test_old_permalinks_redirect(client, theme_unit_test):
    post = Post.objects.get(slug="markup-image-alignment")
    for old in ("/2013/01/10/markup-image-alignment/", "/?p=1177"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response["Location"] == post.get_absolute_url()


def test_theme_unit_test_content_is_readable_html(theme_unit_test):
    post = Post.objects.get(slug="post-format-image-caption")
    assert "<figure>" in post.body
    assert "<figcaption>" in post.body
    html = post.body_html
    assert "[caption" not in html
    assert "<figcaption>" in html
    gallery = Post.objects.get(slug="post-format-gallery")
    assert "[gallery" not in gallery.body
    assert gallery.body.count("<li><a href=") >= 2


def test_theme_unit_test_pages_keep_their_tree_order_and_comments(
    client, theme_unit_test
):
    assert Page.objects.count() == 21
    level_3 = Page.objects.get(title="Level 3")
    assert [p.title for p in level_3.breadcrumb(AnonymousUser())] == [
        "Level 1",
        "Level 2",
    ]
    assert level_3.get_absolute_url() == "/level-1/level-2/level-3/"
    assert level_3.parent.title == "Level 2"
    assert level_3.parent.parent.title == "Level 1"
    assert level_3.parent.parent.parent is None
    about = Page.objects.get(slug="about")
    assert [p.title for p in about.children.all()][:3] == [
        "Page Image Alignment",
        "Page Markup And Formatting",
        "Clearing Floats",
    ]
    html = client.get(level_3.get_absolute_url()).text
    assert '<h1 class="post__title">Level 3</h1>' in html
    assert html.index(">Level 1<") < html.index(">Level 2<")

    # The five comments on pages: four on "Page with comments", one on "a Blog
    # page"; comments stay closed where WordPress had them closed.
    with_comments = Page.objects.get(slug="page-with-comments")
    assert with_comments.allow_comments
    assert Comment.objects.for_post(with_comments).count() == 4
    page_html = client.get(with_comments.get_absolute_url()).text
    for comment in Comment.objects.for_post(with_comments).approved():
        assert comment.user_name in page_html
    assert "Leave a Reply" in page_html
    assert not Page.objects.get(slug="page-with-comments-disabled").allow_comments
    assert Comment.objects.for_post(Page.objects.get(slug="blog")).count() == 1
    assert "WordPress's “static front page” and “posts page”" in theme_unit_test


def test_theme_unit_test_page_addresses_redirect(client, theme_unit_test):
    page = Page.objects.get(slug="page-with-comments")
    assert client.get("/about/page-with-comments/").status_code == 200
    response = client.get(f"/?page_id={page.wordpress_id}")
    assert response.status_code == 301
    assert response["Location"] == page.get_absolute_url()


def test_theme_unit_test_menus_are_in_the_admin_with_their_links_in_order(
    admin_client, theme_unit_test
):
    menus = {menu.name: menu for menu in Menu.objects.all()}
    assert set(menus) == {
        "All Pages",
        "All Pages Flat",
        "Empty Menu",
        "Short",
        "Social menu",
        "Testing Menu",
    }
    assert menus["Empty Menu"].items.count() == 0
    counts = {name: menu.items.count() for name, menu in menus.items()}
    assert counts == {
        "All Pages": 18,
        "All Pages Flat": 18,
        "Empty Menu": 0,
        "Short": 6,
        "Social menu": 5,
        "Testing Menu": 23,
    }
    flat = menus["All Pages Flat"]
    assert not flat.items.exclude(parent=None).exists()
    texts = [item.text for item in flat.items.all()]
    html = admin_client.get(f"/admin/blog/menu/{flat.pk}/change/").text
    positions = [html.index(f'<span class="inline_label">{text}') for text in texts]
    assert positions == sorted(positions)
    nested = menus["All Pages"]
    level_2 = nested.items.get(page__title="Level 2")
    assert level_2.parent.page.title == "Level 1"
    level_3 = nested.items.get(page__title="Level 3")
    assert level_3.parent == level_2.parent  # one level of sub-links
