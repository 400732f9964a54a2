"""The author's editor around the text: tags written with commas and
suggested, Preview before the first save, the site's name in the admin, the
icon, and the "Edit this post" link that only staff who may edit see."""

import pytest
from django.test import Client
from django.urls import reverse
from taggit.models import Tag

from blog.models import Post, SiteIdentity
from tests.factories import make_post, make_user
from tests.test_admin import form_data

pytestmark = pytest.mark.django_db

ADD = reverse("admin:blog_post_add")
PREVIEW = reverse("admin:blog_post_preview")


@pytest.fixture
def author(client):
    user = make_user(username="writer", groups=("Authors",))
    client.force_login(user)
    return user


# Tags


def test_tags_come_back_as_written_with_commas(client, author):
    post = make_post(author=author, tags=("morning routine", "stretching"))
    page = client.get(reverse("admin:blog_post_change", args=[post.pk]))
    assert 'value="morning routine, stretching"' in page.content.decode()


@pytest.mark.parametrize(
    ("typed", "names"),
    [
        ("morning routine, stretching", ["morning routine", "stretching"]),
        ("morning routine", ["morning routine"]),
        (' "aches, pains", sleep ', ["aches, pains", "sleep"]),
        ("stretching,,  , posture", ["posture", "stretching"]),
    ],
)
def test_tags_are_separated_by_commas_only(client, author, typed, names):
    response = client.post(ADD, form_data(tags=typed))
    assert response.status_code == 302
    post = Post.objects.get(slug="a-new-post")
    assert sorted(post.tags.names()) == names


def test_existing_tags_are_suggested_in_a_labelled_box(client, author):
    make_post(tags=("stretching", "posture"))
    page = client.get(ADD).content.decode()
    assert '<label for="id_tags">' in page
    assert 'list="id_tags_suggestions"' in page
    assert '<datalist id="id_tags_suggestions">' in page
    assert "<option>stretching</option>" in page
    assert "<option>posture</option>" in page


# Preview, saved or not


def test_preview_before_the_first_save_shows_the_post_and_saves_nothing(client, author):
    data = form_data(
        title="Stretches for tomorrow",
        body="## Morning\n\nTen minutes, **every day**.",
        tags="morning routine, stretching",
    )
    response = client.post(PREVIEW, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Preview — not saved" in page
    assert '<h1 class="post__title">Stretches for tomorrow</h1>' in page
    assert "<strong>every day</strong>" in page
    assert "morning routine" in page
    assert "no-store" in response["Cache-Control"]
    assert not Post.objects.exists()
    assert not Tag.objects.exists()


def test_preview_shows_what_would_stop_the_save(client, author):
    data = form_data(title="", body="![Describe this image](/media/x.png) Hello")
    page = client.post(PREVIEW, data).content.decode()
    assert "Saving would fail until these are fixed" in page
    assert "Describe this image" in page and "Hello" in page
    assert not Post.objects.exists()


def test_preview_of_a_saved_post_uses_the_form_not_the_database(client, author):
    post = make_post(author=author, title="Old title", body="Old text")
    url = reverse("admin:blog_post_preview", args=[post.pk])
    page = client.post(url, form_data(post, body="New *text*")).content.decode()
    assert "New <em>text</em>" in page
    post.refresh_from_db()
    assert post.body == "Old text"


def test_preview_is_for_those_who_may_edit(client, author):
    theirs = make_post(title="Someone else's")
    url = reverse("admin:blog_post_preview", args=[theirs.pk])
    assert client.post(url, form_data(theirs)).status_code == 404  # not theirs to know
    assert client.get(PREVIEW).status_code == 405
    anonymous = Client()
    response = anonymous.post(PREVIEW, form_data())
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_form_has_a_preview_button(client, author):
    page = client.get(ADD).content.decode()
    assert f'formaction="{PREVIEW}" formtarget="_blank"' in page
    post = make_post(author=author)
    page = client.get(reverse("admin:blog_post_change", args=[post.pk])).content
    assert reverse("admin:blog_post_preview", args=[post.pk]) in page.decode()


# The admin's name and icon


def test_the_admin_is_named_after_the_site(client, author):
    SiteIdentity.objects.update_or_create(pk=1, defaults={"title": "Back Care"})
    page = client.get("/admin/").content.decode()
    assert "Back Care admin" in page
    assert "Django administration" not in page
    assert "Django site admin" not in page


def test_favicon_ico_leads_to_the_sites_icon():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".svg")


# "Edit this post" on the site


def test_staff_who_may_edit_see_an_edit_link_that_readers_never_get(client, author):
    post = make_post(author=author, title="Mine")
    edit = reverse("admin:blog_post_change", args=[post.pk])
    response = client.get(post.get_absolute_url())
    assert f'<a href="{edit}">Edit this post</a>' in response.content.decode()
    assert "private" in response["Cache-Control"]
    reader = Client()
    for _ in range(2):  # built, then from the page cache
        assert edit not in reader.get(post.get_absolute_url()).content.decode()
    theirs = make_post(title="Theirs")
    assert (
        "Edit this post" not in client.get(theirs.get_absolute_url()).content.decode()
    )
