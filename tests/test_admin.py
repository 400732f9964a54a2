"""The post admin follows the roles: authors, editors and moderators."""

import re
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from blog.models import Post
from tests.factories import make_category, make_post, make_user
from tests.test_editor import picture

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:blog_post_changelist")
ADD = reverse("admin:blog_post_add")


def change_url(post: Post) -> str:
    return reverse("admin:blog_post_change", args=[post.pk])


def delete_url(post: Post) -> str:
    return reverse("admin:blog_post_delete", args=[post.pk])


def form_data(post: Post | None = None, **changes) -> dict:
    """What the post form sends: the post's current values, then `changes`."""
    data = {
        "title": "A new post",
        "slug": "a-new-post",
        "body": "Some text.",
        "category": "",
        "tags": "",
        "status": Post.Status.DRAFT,
        "published_at_0": "",
        "published_at_1": "",
        "excerpt": "",
        "seo_description": "",
        "featured_image_alt": "",
        "allow_comments": "on",
    }
    if post is not None:
        data.update(
            title=post.title,
            slug=post.slug,
            body=post.body,
            status=post.status,
            author=post.author_id,
        )
        if post.published_at:
            data.update(
                published_at_0=post.published_at.strftime("%Y-%m-%d"),
                published_at_1=post.published_at.strftime("%H:%M:%S"),
            )
    return data | changes


@pytest.fixture
def author():
    return make_user(username="ada", groups=("Authors",))


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client


@pytest.fixture
def other_post():
    other = make_user(username="grace", groups=("Authors",))
    return make_post(title="Grace's post", author=other, status=Post.Status.DRAFT)


# Authors


def test_author_sees_only_their_own_posts_in_the_changelist(
    author_client, author, other_post
):
    make_post(title="Ada's post", author=author, status=Post.Status.DRAFT)

    response = author_client.get(CHANGELIST)

    assert response.status_code == 200
    assert "Ada&#x27;s post" in response.text
    assert "Grace&#x27;s post" not in response.text


def test_author_changelist_names_no_other_accounts(author_client, other_post):
    make_user(username="rita_reader")

    response = author_client.get(CHANGELIST)

    assert "grace" not in response.text
    assert "rita_reader" not in response.text


def test_author_cannot_open_edit_or_delete_another_authors_post(
    author_client, other_post
):
    for url in [change_url(other_post), delete_url(other_post)]:
        assert author_client.get(url).status_code == 302
    edit = author_client.post(change_url(other_post), form_data(other_post, title="X"))
    delete = author_client.post(delete_url(other_post), {"post": "yes"})

    assert edit.status_code == delete.status_code == 302
    assert edit["Location"] == delete["Location"] == reverse("admin:index")
    other_post.refresh_from_db()
    assert other_post.title == "Grace's post"


def test_author_creates_posts_as_themselves(author_client, author, other_post):
    response = author_client.post(ADD, form_data(author=other_post.author_id))

    assert response.status_code == 302
    post = Post.objects.get(slug="a-new-post")
    assert post.author == author


def test_author_publishes_their_own_post(author_client, author):
    post = make_post(author=author, status=Post.Status.DRAFT)

    response = author_client.post(
        change_url(post), form_data(post, status=Post.Status.PUBLISHED)
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.is_public


def test_empty_publish_time_means_now(author_client, author):
    response = author_client.post(ADD, form_data(status=Post.Status.PUBLISHED))

    assert response.status_code == 302
    assert Post.objects.get(slug="a-new-post").is_public


def test_duplicate_slug_is_a_form_error(author_client, other_post):
    response = author_client.post(ADD, form_data(slug=other_post.slug))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "slug": ["Another post already uses this slug. Pick another."]
    }
    assert Post.objects.count() == 1


# Editors and moderators


def test_editor_edits_anyones_post(client, other_post):
    client.force_login(make_user(groups=("Editors",)))

    response = client.post(
        change_url(other_post), form_data(other_post, title="Edited by an editor")
    )

    assert response.status_code == 302
    other_post.refresh_from_db()
    assert other_post.title == "Edited by an editor"


def test_moderator_cannot_see_or_edit_posts(client, other_post):
    client.force_login(make_user(groups=("Moderators",)))

    for url in [CHANGELIST, ADD, change_url(other_post), delete_url(other_post)]:
        assert client.get(url).status_code == 403
    assert client.post(change_url(other_post), form_data(other_post)).status_code == 403


# Bulk actions


def test_publish_action_publishes_only_the_authors_own_posts(
    author_client, author, other_post
):
    drafts = [make_post(author=author, status=Post.Status.DRAFT) for _ in range(2)]
    selected = [post.pk for post in [*drafts, other_post]]

    response = author_client.post(
        CHANGELIST, {"action": "publish", "_selected_action": selected}, follow=True
    )

    assert "Published 2 posts." in response.text
    assert Post.objects.filter(author=author).published().count() == 2
    other_post.refresh_from_db()
    assert other_post.status == Post.Status.DRAFT


def test_unpublish_action_moves_posts_back_to_draft(client, other_post):
    client.force_login(make_user(groups=("Editors",)))
    published = make_post(status=Post.Status.PUBLISHED)

    response = client.post(
        CHANGELIST,
        {"action": "unpublish", "_selected_action": [published.pk, other_post.pk]},
        follow=True,
    )

    assert "Moved 1 post back to draft." in response.text
    published.refresh_from_db()
    assert published.status == Post.Status.DRAFT


# The Markdown editor


def test_post_form_uses_our_editor_endpoints(author_client):
    response = author_client.get(ADD)

    assert response.status_code == 200
    html = response.text
    assert 'class="markdownx"' in html
    assert f'data-markdownx-urls-path="{reverse("markdownx_markdownify")}"' in html
    assert f'data-markdownx-upload-urls-path="{reverse("markdownx_upload")}"' in html


def test_post_form_loads_the_upload_error_script(author_client):
    assert "js/editor-upload.js" in author_client.get(ADD).text


def test_picture_without_a_description_is_a_form_error(author_client):
    body = "Look:\n\n![Describe this image](/media/uploads/2026/01/a.png)"

    response = author_client.post(ADD, form_data(body=body))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["body"][0].startswith("Replace “Describe this image” with")
    assert not Post.objects.exists()


@pytest.mark.parametrize("posts", [1, 10])
def test_changelist_queries_do_not_grow_with_posts(
    author_client, author, posts, django_assert_num_queries
):
    for number in range(posts):
        make_post(author=author, tags=(f"tag-{number}",), category=make_category())

    # Session, user, permissions, the page of posts, counts, filters, dates,
    # the header's count of comments awaiting the author's moderation, and the
    # site identity (cold cache).
    with django_assert_num_queries(13):
        assert author_client.get(CHANGELIST).status_code == 200


# Featured pictures: stored as the editor stores its uploads, re-encoded.


def featured(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def test_featured_image_is_reencoded_under_the_format_found(author_client):
    polyglot = picture("PNG") + b"<script>alert(1)</script>"
    response = author_client.post(
        ADD,
        form_data(
            featured_image=featured(polyglot, "Back Pain.jpg"),
            featured_image_alt="A person stretching",
        ),
    )

    assert response.status_code == 302
    stored = Post.objects.get(slug="a-new-post").featured_image
    assert re.fullmatch(r"featured/\d{4}/\d\d/back-pain(_\w+)?\.png", stored.name)
    with stored.open("rb") as file:
        data = file.read()
    assert b"<script>" not in data
    assert Image.open(BytesIO(data)).format == "PNG"


def test_featured_image_that_is_not_a_picture_gives_the_form_back(author_client):
    response = author_client.post(
        ADD,
        form_data(
            title="Kept title",
            featured_image=featured(b"GIF89a<html><script>alert(1)</script>", "a.gif"),
            featured_image_alt="Something",
        ),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "featured_image" in errors
    assert 'value="Kept title"' in response.content.decode()
    assert not Post.objects.filter(slug="a-new-post").exists()


# "View on site"


def view_on_site_url(obj) -> str:
    from django.contrib.contenttypes.models import ContentType

    return f"/admin/r/{ContentType.objects.get_for_model(obj).pk}/{obj.pk}/"


def test_view_on_site_does_not_lead_an_author_to_another_authors_draft(client):
    grace = make_user(username="grace", groups=("Authors",))
    draft = make_post(title="Grace's plans", author=grace, status=Post.Status.DRAFT)
    client.force_login(make_user(username="ada", groups=("Authors",)))
    assert client.get(view_on_site_url(draft)).status_code == 404
    assert client.get(view_on_site_url(draft)[:-1] + "%20/").status_code == 404


def test_view_on_site_leads_to_what_the_user_may_see(client):
    ada = make_user(username="ada", groups=("Authors",))
    own = make_post(author=ada, status=Post.Status.DRAFT)
    others = make_post(author=make_user(), status=Post.Status.DRAFT)
    client.force_login(ada)
    response = client.get(view_on_site_url(own))
    assert response.status_code == 302
    assert response["Location"].endswith(own.get_absolute_url())
    client.force_login(make_user(username="ed", groups=("Editors",)))
    response = client.get(view_on_site_url(others))
    assert response.status_code == 302
    assert response["Location"].endswith(others.get_absolute_url())


# Signing in


def test_many_usernames_tried_from_one_address_lock_that_address_out(client):
    from django.test import Client

    make_user(username="ada", is_staff=True)
    for name in ("admin", "root", "editor", "ada2", "webmaster"):  # spraying
        client.post("/admin/login/", {"username": name, "password": "Winter2026"})
    right = {"username": "ada", "password": "a-long-test-password"}
    response = client.post("/admin/login/?next=/admin/", right)
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert elsewhere.post("/admin/login/?next=/admin/", right).status_code == 302
