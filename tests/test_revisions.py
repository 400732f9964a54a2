"""Revisions: every changed save of a post keeps its text; the newest N stay."""

import pytest

from blog.models import Revision
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def test_each_save_keeps_title_body_excerpt_who_and_when():
    editor = make_user()
    post = make_post(title="First", body="One", excerpt="Short")
    post.body = "Two"
    post.save(revised_by=editor)
    newest, oldest = Revision.objects.of(post)
    assert (oldest.title, oldest.body, oldest.excerpt, oldest.user) == (
        "First",
        "One",
        "Short",
        None,
    )
    assert (newest.body, newest.user) == ("Two", editor)
    assert newest.created_at >= oldest.created_at


def test_a_save_that_changes_no_text_keeps_no_new_revision():
    post = make_post(body="Same")
    post.allow_comments = False
    post.save()
    post.sticky = True
    post.save(update_fields=["sticky"])
    assert Revision.objects.of(post).count() == 1


def test_only_the_newest_revisions_are_kept(settings):
    settings.INKWELL_REVISIONS_KEPT = 3
    post = make_post(body="v0")
    for number in range(1, 6):
        post.body = f"v{number}"
        post.save()
    assert [r.body for r in Revision.objects.of(post)] == ["v5", "v4", "v3"]


def test_deleting_a_post_deletes_its_revisions():
    post = make_post()
    post.delete()
    assert not Revision.objects.exists()
