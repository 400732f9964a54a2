"""Revisions: every changed save of a post or page keeps its text; the newest
N stay; the admin lists them, compares one with the current text and
restores it."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blog.diff import diff_lines
from blog.models import Post, Revision
from tests.factories import make_page, make_post, make_user

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


# The revisions screen: the list, a revision against the current text, the
# restore (blog/admin.py, templates/admin/blog/revision*.html).


def revisions_url(obj) -> str:
    model = obj._meta.model_name
    return reverse(f"admin:blog_{model}_revisions", args=[obj.pk])


def diff_url(obj, revision) -> str:
    model = obj._meta.model_name
    return reverse(f"admin:blog_{model}_revision", args=[obj.pk, revision.pk])


def restore_url(obj, revision) -> str:
    model = obj._meta.model_name
    return reverse(f"admin:blog_{model}_restore", args=[obj.pk, revision.pk])


@pytest.fixture
def author():
    return make_user(username="ada", first_name="Ada", groups=("Authors",))


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client


def edited_post(author, *, body="One\n\nTwo\n\nThree", changes=("Four",)):
    """A post by `author` saved once with `body`, then with each of `changes`."""
    post = make_post(title="Stretches", body=body, excerpt="Short", author=author)
    for change in changes:
        post.body = change
        post.save(revised_by=author)
    return post


def test_change_form_links_to_the_revisions(author_client, author):
    post = edited_post(author)
    response = author_client.get(reverse("admin:blog_post_change", args=[post.pk]))
    assert f'href="{revisions_url(post)}"' in response.content.decode()


def test_revisions_are_listed_newest_first_with_who_and_when(author_client, author):
    post = edited_post(author, body="v1", changes=("v2", "v3"))
    response = author_client.get(revisions_url(post))
    assert response.status_code == 200
    rows = response.context["revisions"]
    assert [row["revision"].body for row in rows] == ["v3", "v2", "v1"]
    page = response.content.decode()
    assert page.count("Ada") >= 2  # saved by, twice
    # The newest is the current text: nothing to compare, nothing to restore.
    assert rows[0]["differs"] == []
    assert rows[1]["differs"] == ["body"]
    restore_forms = re.findall(r'action="([^"]+/restore/)"', page)
    assert restore_forms == [restore_url(post, row["revision"]) for row in rows[1:]]
    # Times to the second: the Nu checker refuses microseconds in <time>.
    assert re.findall(r'datetime="([^"]+)"', page)
    for stamp in re.findall(r'datetime="([^"]+)"', page):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", stamp)


def test_diff_marks_removed_and_added_text_in_words_not_colour_alone(
    author_client, author
):
    post = edited_post(
        author,
        body="# Morning\n\nTen slow rounds.\n\nThe end.",
        changes=("# Morning\n\nTwenty slow rounds.\n\nA new line.\n\nThe end.",),
    )
    first = Revision.objects.of(post).last()
    response = author_client.get(diff_url(post, first))
    assert response.status_code == 200
    page = response.content.decode()
    removed = '<del><span class="visually-hidden">removed: </span>'
    added = '<ins><span class="visually-hidden">added: </span>'
    assert f"{removed}Ten</del>" in page
    assert f"{added}Twenty</ins>" in page
    assert f"{added}A new line.</ins>" in page
    body = next(d for d in response.context["diffs"] if d.label == "Body")
    title = next(d for d in response.context["diffs"] if d.label == "Title")
    assert (body.removed, body.added) == (1, 3)  # a changed line, two added
    assert not title.changed
    assert "Restore this revision" in page


def test_text_is_escaped_in_the_diff(author_client, author):
    post = edited_post(author, body="<b>old</b>", changes=("<script>x()</script>",))
    response = author_client.get(diff_url(post, Revision.objects.of(post).last()))
    page = response.content.decode()
    assert "<script>x()" not in page
    assert "&lt;script&gt;" in page


def test_restoring_a_revision_gives_the_old_text_back_as_a_new_revision(
    author_client, author
):
    post = make_post(title="Old title", body="Old body", excerpt="Old", author=author)
    old = Revision.objects.of(post).get()
    post.title, post.body, post.excerpt = "New title", "New body", "New"
    post.save(revised_by=author)

    response = author_client.post(restore_url(post, old))

    assert response.status_code == 302
    assert response.url == reverse("admin:blog_post_change", args=[post.pk])
    post.refresh_from_db()
    assert (post.title, post.body, post.excerpt) == (
        old.title,
        old.body,
        old.excerpt,
    )
    newest, replaced, oldest = Revision.objects.of(post)
    assert (newest.title, newest.body, newest.excerpt) == (
        "Old title",
        "Old body",
        "Old",
    )
    assert newest.user == author
    assert replaced.body == "New body"  # the text it replaced stays
    assert oldest == old
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Restored" in message for message in messages)


def test_restore_keeps_a_text_that_was_never_kept_as_a_revision(author_client, author):
    post = make_post(body="Saved", author=author)
    saved = Revision.objects.of(post).get()
    # An import or fixture writes rows without save(): no revision of this.
    Post.objects.filter(pk=post.pk).update(body="Imported")
    author_client.post(restore_url(post, saved))
    assert [r.body for r in Revision.objects.of(post)] == [
        "Saved",
        "Imported",
        "Saved",
    ]


def test_restore_answers_only_a_post(author_client, author):
    post = edited_post(author)
    first = Revision.objects.of(post).last()
    response = author_client.get(restore_url(post, first))
    assert response.status_code == 405
    post.refresh_from_db()
    assert post.body == "Four"


def test_restore_needs_the_csrf_token(author):
    post = edited_post(author)
    first = Revision.objects.of(post).last()
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)
    response = client.post(restore_url(post, first))
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.body == "Four"


def test_author_cannot_see_or_restore_another_authors_revisions(author_client):
    other = make_user(username="grace", groups=("Authors",))
    post = edited_post(other)
    first = Revision.objects.of(post).last()
    assert author_client.get(revisions_url(post)).status_code == 404
    assert author_client.get(diff_url(post, first)).status_code == 404
    assert author_client.post(restore_url(post, first)).status_code == 404
    post.refresh_from_db()
    assert post.body == "Four"
    assert Revision.objects.of(post).count() == 2


def test_a_revision_of_another_post_is_not_found(author_client, author):
    post, other = edited_post(author), edited_post(author)
    elsewhere = Revision.objects.of(other).last()
    assert author_client.get(diff_url(post, elsewhere)).status_code == 404
    assert author_client.post(restore_url(post, elsewhere)).status_code == 404
    post.refresh_from_db()
    assert post.body == "Four"


def test_editor_restores_another_authors_post(client, author):
    editor = make_user(username="ed", groups=("Editors",))
    post = edited_post(author)
    first = Revision.objects.of(post).last()
    client.force_login(editor)
    assert client.post(restore_url(post, first)).status_code == 302
    post.refresh_from_db()
    assert post.body == first.body
    assert Revision.objects.of(post).first().user == editor


def test_moderator_cannot_open_post_revisions(client, author):
    moderator = make_user(username="mo", groups=("Moderators",))
    post = edited_post(author)
    client.force_login(moderator)
    assert client.get(revisions_url(post)).status_code in {403, 404}
    first = Revision.objects.of(post).last()
    assert client.post(restore_url(post, first)).status_code in {403, 404}
    post.refresh_from_db()
    assert post.body == "Four"


def test_who_may_only_view_sees_revisions_but_cannot_restore(client):
    reader = make_user(username="viewer", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_post"))
    post = edited_post(reader)
    first = Revision.objects.of(post).last()
    client.force_login(reader)
    response = client.get(diff_url(post, first))
    assert response.status_code == 200
    assert "Restore this revision" not in response.content.decode()
    assert client.post(restore_url(post, first)).status_code == 403
    post.refresh_from_db()
    assert post.body == "Four"


def test_page_revisions_restore_the_title_and_body(client):
    author = make_user(username="paige", groups=("Authors",))
    page = make_page(title="About", body="Who we are", author=author)
    old = Revision.objects.of(page).get()
    page.title, page.body = "About us", "Who we are now"
    page.save(revised_by=author)
    client.force_login(author)
    response = client.get(diff_url(page, old))
    assert response.status_code == 200
    assert [d.label for d in response.context["diffs"]] == ["Title", "Body"]
    client.post(restore_url(page, old))
    page.refresh_from_db()
    assert (page.title, page.body) == ("About", "Who we are")


def test_revisions_list_queries_do_not_grow_with_revisions(author_client, author):
    few = edited_post(author, changes=("b",))
    many = edited_post(author, changes=[f"v{n}" for n in range(10)])
    author_client.get(revisions_url(few))  # caches warmed (content types)
    with CaptureQueriesContext(connection) as few_queries:
        author_client.get(revisions_url(few))
    with CaptureQueriesContext(connection) as many_queries:
        author_client.get(revisions_url(many))
    assert len(many_queries) == len(few_queries)


def test_unchanged_lines_far_from_a_change_are_folded_into_gaps():
    old = "\n".join(f"line {n}" for n in range(20))
    new = old.replace("line 10", "line ten")
    lines = diff_lines(old, new)
    assert [(line.kind, line.folded) for line in lines] == [
        ("gap", 8),
        ("same", 0),
        ("same", 0),
        ("changed", 0),
        ("same", 0),
        ("same", 0),
        ("gap", 7),
    ]
    changed = lines[3].parts
    assert [(part.kind, part.text) for part in changed] == [
        ("same", "line "),
        ("removed", "10"),
        ("added", "ten"),
    ]


def test_lines_nothing_alike_are_one_removed_and_one_added():
    lines = diff_lines("Stretch every morning.", "Buy new shoes!")
    assert [(line.kind, line.text) for line in lines] == [
        ("removed", "Stretch every morning."),
        ("added", "Buy new shoes!"),
    ]


@pytest.mark.parametrize("too_big", [str(2**63), "9" * 25])
def test_ids_past_the_database_range_are_not_found(author_client, author, too_big):
    post = edited_post(author)
    first = Revision.objects.of(post).last()
    urls = [
        f"/admin/blog/post/{too_big}/revisions/",
        f"/admin/blog/post/{post.pk}/revisions/{too_big}/",
        f"/admin/blog/post/{too_big}/revisions/{first.pk}/",
    ]
    for url in urls:
        assert author_client.get(url).status_code == 404, url
    restore = f"/admin/blog/post/{post.pk}/revisions/{too_big}/restore/"
    assert author_client.post(restore).status_code == 404
