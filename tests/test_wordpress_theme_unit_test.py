"""import_wordpress on real input: WordPress's Theme Unit Test export.

The file is imported once for the module (a module-scoped fixture); each test
runs in a savepoint inside that import's transaction.
"""

import datetime
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from taggit.models import Tag

from blog.models import Category, Post
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
    # 49 published in WordPress, one of them password-protected: a draft here.
    assert Post.objects.published().count() == 48
    protected = Post.objects.get(slug="template-password-protected")
    assert protected.status == Post.Status.DRAFT
    assert "password-protected posts imported as drafts" in theme_unit_test
    draft = Post.objects.get(title="Draft")
    scheduled = Post.objects.get(slug="scheduled")
    assert draft.status == Post.Status.DRAFT
    assert scheduled.is_scheduled
    assert scheduled.published_at == datetime.datetime(
        2030, 1, 1, 19, 0, 18, tzinfo=datetime.UTC
    )
    for hidden in (draft, scheduled, protected):
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
    assert "posts in several categories filed under the first one" in theme_unit_test
    assert "sticky posts imported as ordinary posts" in theme_unit_test


def test_theme_unit_test_comments_and_threads(client, theme_unit_test):
    # 32 in the file: 5 are on pages, which Inkwell does not have.
    assert Comment.objects.count() == 27
    assert "comments on skipped items (pages and others) skipped" in theme_unit_test
    held = Comment.objects.filter(state=Comment.State.HELD)
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
