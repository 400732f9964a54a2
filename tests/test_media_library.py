"""The media library: every picture uploaded in the editor (or imported) is
listed with its size, description and where it is used, can be described,
inserted again from the editor, and deleted only when nothing uses it."""

from io import BytesIO, StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from PIL import Image

from blog.models import MediaFile
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

LIBRARY = reverse("admin:blog_mediafile_changelist")
PICKER = reverse("admin:blog_mediafile_picker")


@pytest.fixture
def author(client):
    user = make_user(username="writer", groups=("Authors",))
    client.force_login(user)
    return user


def upload(client, size=(40, 30)) -> MediaFile:
    buffer = BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    file = SimpleUploadedFile("dot.png", buffer.getvalue(), content_type="image/png")
    response = client.post(
        reverse("markdownx_upload"),
        {"image": file},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 200
    return MediaFile.objects.latest("pk")


def test_an_uploaded_picture_joins_the_library(client, author):
    media = upload(client, size=(40, 30))
    assert media.name.startswith("uploads/") and media.name.endswith(".png")
    assert (media.width, media.height, media.uploaded_by) == (40, 30, author)
    assert media.size == default_storage.size(media.name)
    page = client.get(LIBRARY).content.decode()
    assert f'<img src="{media.url}"' in page
    assert "40 \N{MULTIPLICATION SIGN} 30 px" in page
    assert "Not used" in page


def test_the_library_counts_pictures_under_its_own_title(client, author):
    upload(client)
    page = client.get(LIBRARY).content.decode()
    assert "<h1>Media library</h1>" in page
    assert "1 picture\n" in page
    upload(client)
    page = client.get(LIBRARY).content.decode()
    assert "2 pictures\n" in page and "media library\n" not in page
    assert "Delete selected pictures" in page


def test_a_picture_takes_the_alt_text_a_post_shows_it_with(client, author):
    shown, described, featured = upload(client), upload(client), upload(client)
    MediaFile.objects.filter(pk=described.pk).update(description="Written here")
    make_post(
        author=author,
        body=f"![A mat \\[blue\\]]({shown.url})\n\n![Another]({described.url})",
        featured_image=featured.name,
        featured_image_alt="A window at dawn",
    )
    descriptions = dict(MediaFile.objects.values_list("pk", "description"))
    assert descriptions == {
        shown.pk: "A mat [blue]",
        described.pk: "Written here",  # the library's own is kept
        featured.pk: "A window at dawn",
    }


def test_the_library_says_which_posts_use_each_picture(client, author):
    used, unused = upload(client), upload(client)
    post = make_post(author=author, title="Morning", body=f"![A mat]({used.url})")
    page = client.get(LIBRARY).content.decode()
    change = reverse("admin:blog_post_change", args=[post.pk])
    assert f'<a href="{change}">Morning</a>' in page
    assert page.count("Not used") == 1
    assert unused.url in page


@pytest.mark.parametrize("total", [2, 12])
def test_the_library_costs_the_same_queries_for_2_or_12_pictures(
    client, author, django_assert_num_queries, total
):
    files = [
        MediaFile.objects.create(name=f"uploads/2026/12/{n}.png", size=10)
        for n in range(total)
    ]
    make_post(body=f"![]({files[0].url})")
    client.get(LIBRARY)
    # Session, user, permissions (user's, groups'), the header's pending
    # count, the site identity's, the count, the page, the posts and the
    # pages using them.
    with django_assert_num_queries(10):
        assert client.get(LIBRARY).status_code == 200


def test_a_picture_gets_a_description_it_is_inserted_with(client, author):
    media = upload(client)
    change = reverse("admin:blog_mediafile_change", args=[media.pk])
    response = client.post(change, {"description": "A teal square"})
    assert response.status_code == 302
    media.refresh_from_db()
    assert media.description == "A teal square"
    assert f"![A teal square]({media.url})" in client.get(change).content.decode()
    pictures = client.get(PICKER).json()["pictures"]
    assert pictures[0]["markdown"] == f"![A teal square]({media.url})"


def test_an_unused_picture_is_deleted_with_its_file(client, author):
    media = upload(client)
    delete = reverse("admin:blog_mediafile_delete", args=[media.pk])
    response = client.post(delete, {"post": "yes"})
    assert response.status_code == 302
    assert not MediaFile.objects.exists()
    assert not default_storage.exists(media.name)


def test_a_picture_a_post_shows_is_not_deleted(client, author):
    media = upload(client)
    make_post(author=author, title="Morning", body=f"![A mat]({media.url})")
    delete = reverse("admin:blog_mediafile_delete", args=[media.pk])
    response = client.post(delete, {"post": "yes"}, follow=True)
    assert "is used in Morning, so it was not deleted" in response.content.decode()
    assert MediaFile.objects.filter(pk=media.pk).exists()
    assert default_storage.exists(media.name)


def test_deleting_several_keeps_those_in_use(client, author):
    used, unused = upload(client), upload(client)
    make_post(body=f"![]({used.url})")
    response = client.post(
        LIBRARY,
        {
            "action": "delete_selected",
            ACTION_CHECKBOX_NAME: [str(used.pk), str(unused.pk)],
            "post": "yes",
        },
        follow=True,
    )
    assert list(MediaFile.objects.all()) == [used]
    assert "Not deleted, because posts or pages use them" in (response.content.decode())


def test_the_editors_picker_lists_and_searches_pictures(client, author):
    first = upload(client)
    second = upload(client)
    MediaFile.objects.filter(pk=first.pk).update(description="Red door")
    names = [p["url"] for p in client.get(PICKER).json()["pictures"]]
    assert names == [second.url, first.url]
    found = client.get(PICKER, {"q": "door"}).json()["pictures"]
    assert [p["url"] for p in found] == [first.url]
    assert "no-store" in client.get(PICKER)["Cache-Control"]


def test_the_picker_and_library_are_for_staff_who_may_see_them(author):
    anonymous = Client()
    assert anonymous.get(PICKER).status_code == 302
    moderator = Client()
    moderator.force_login(make_user(groups=("Moderators",)))
    assert moderator.get(PICKER).status_code == 403
    assert moderator.get(LIBRARY).status_code == 403


def test_the_editor_offers_the_library(client, author):
    page = client.get(reverse("admin:blog_post_add")).content.decode()
    assert f'data-media-picker="{PICKER}"' in page


def test_pictures_stored_before_the_library_are_added_once():
    buffer = BytesIO()
    Image.new("RGB", (5, 4), "red").save(buffer, "PNG")
    default_storage.save("uploads/2025/01/old.png", ContentFile(buffer.getvalue()))
    default_storage.save("wordpress/2019/05/door.jpg", ContentFile(b"not a jpeg"))
    default_storage.save("wordpress/2019/05/notes.pdf", ContentFile(b"%PDF"))
    out = StringIO()
    call_command("register_media", stdout=out)
    assert "Added 2 picture(s)" in out.getvalue()
    old = MediaFile.objects.get(name="uploads/2025/01/old.png")
    assert (old.width, old.height) == (5, 4)
    assert MediaFile.objects.get(name="wordpress/2019/05/door.jpg").width is None
    call_command("register_media", stdout=StringIO())
    assert MediaFile.objects.count() == 2


def test_a_featured_picture_joins_the_library_and_counts_as_used(client, author):
    from tests.test_admin import form_data

    buffer = BytesIO()
    Image.new("RGB", (30, 20), "navy").save(buffer, "PNG")
    image = SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")
    response = client.post(
        reverse("admin:blog_post_add"),
        form_data(featured_image=image, featured_image_alt="A navy cover"),
    )
    assert response.status_code == 302
    [media] = MediaFile.objects.all()
    assert media.name.startswith("featured/") and (media.width, media.height) == (
        30,
        20,
    )
    page = client.get(LIBRARY).content.decode()
    assert "A new post" in page and "Not used" not in page
