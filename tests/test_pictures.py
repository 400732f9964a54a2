"""Pictures in several sizes (blog/pictures.py): smaller copies made once
when a picture is stored, WebP where it is smaller, and pages that give
every picture of ours its width, height, srcset and sizes, lazily below the
fold, without a query or a file opened per picture."""

import re
from io import BytesIO, StringIO
from random import Random

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from blog import pictures
from blog.models import MediaFile, Post
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def gradient_jpeg(size=(2000, 1000)) -> bytes:
    """A photo-like picture: WebP keeps it in fewer bytes than JPEG."""
    buffer = BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(
        buffer, "JPEG", quality=90
    )
    return buffer.getvalue()


def bars_png(size=(1000, 500)) -> bytes:
    """Random black and white columns: at full size PNG keeps them in fewer
    bytes than WebP (smaller copies blur them, and there WebP wins)."""
    width, height = size
    random = Random(1)
    row = bytes(random.choice([0, 255]) for _ in range(width))
    buffer = BytesIO()
    Image.frombytes("L", size, row * height).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, content: bytes, name: str, content_type: str) -> MediaFile:
    response = client.post(
        reverse("markdownx_upload"),
        {"image": SimpleUploadedFile(name, content, content_type=content_type)},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 200, response.content
    return MediaFile.objects.latest("pk")


@pytest.fixture
def author(client):
    user = make_user(username="writer", groups=("Authors",))
    client.force_login(user)
    return user


def stored_size(name: str) -> tuple[int, int, str]:
    with default_storage.open(name) as file, Image.open(file) as image:
        return image.width, image.height, image.format


# Made on upload


def test_an_upload_gets_smaller_copies_in_webp_when_webp_is_smaller(client, author):
    media = upload(client, gradient_jpeg((2000, 1000)), "sunrise.jpg", "image/jpeg")

    assert (media.width, media.height) == (2000, 1000)
    widths = [width for width, _name in media.variants]
    # Every width narrower than the original, then the full width in WebP.
    assert widths == [480, 800, 1200, 1600, 2000]
    stem = media.name.removesuffix(".jpg")
    for width, name in media.variants:
        assert name == f"{stem}-{width}w.webp"
        assert stored_size(name) == (width, width // 2, "WEBP")
        assert default_storage.size(name) < default_storage.size(media.name)


def test_copies_are_never_wider_than_the_original(client, author):
    media = upload(client, gradient_jpeg((700, 350)), "small.jpg", "image/jpeg")

    assert [width for width, _name in media.variants] == [480, 700]
    assert all(stored_size(name)[0] <= 700 for _width, name in media.variants)


def test_no_webp_copy_when_webp_is_not_smaller(client, author):
    media = upload(client, bars_png((1000, 500)), "bars.png", "image/png")

    # The narrower copies are smaller in WebP; at full width the PNG is.
    assert [width for width, _name in media.variants] == [480, 800]
    for _width, name in media.variants:
        assert default_storage.size(name) < default_storage.size(media.name)
    assert not default_storage.exists(media.name.replace(".png", "-1000w.webp"))


def test_a_picture_narrower_than_the_smallest_size_gets_no_narrower_copy(
    client, author
):
    media = upload(client, bars_png((200, 100)), "icon.png", "image/png")

    assert media.width == 200
    assert [w for w, _name in media.variants if w < 200] == []


def test_deleting_a_picture_deletes_its_copies(client, author):
    media = upload(client, gradient_jpeg((1000, 500)), "gone.jpg", "image/jpeg")
    copies = [name for _width, name in media.variants]
    assert all(default_storage.exists(name) for name in copies)

    response = client.post(
        reverse("admin:blog_mediafile_delete", args=[media.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not any(default_storage.exists(name) for name in copies)


# Shown in pages


def img_tag(html: str, src: str) -> str:
    match = re.search(rf'<img[^>]*src="{re.escape(src)}"[^>]*>', html)
    assert match, f"no <img> of {src}"
    return match.group(0)


def test_a_body_picture_of_ours_has_its_sizes_and_loads_lazily(client, author):
    media = upload(client, gradient_jpeg((1600, 900)), "view.jpg", "image/jpeg")
    post = make_post(title="Stretch", body=f"Text.\n\n![A mat]({media.url})\n")
    client.logout()

    tag = img_tag(client.get(post.get_absolute_url()).content.decode(), media.url)

    assert 'width="1600"' in tag and 'height="900"' in tag
    stem = media.url.removesuffix(".jpg")
    assert f'srcset="{stem}-480w.webp 480w, {stem}-800w.webp 800w, ' in tag
    assert f"{stem}-1200w.webp 1200w, {stem}-1600w.webp 1600w" in tag
    assert f'sizes="{pictures.SIZES_POST}"' in tag
    assert 'loading="lazy"' in tag and 'decoding="async"' in tag
    assert 'alt="A mat"' in tag


def test_a_picture_from_elsewhere_is_left_as_it_is(client):
    url = "https://example.com/media/uploads/a.jpg"
    post = make_post(body=f"![Elsewhere]({url})")

    tag = img_tag(client.get(post.get_absolute_url()).content.decode(), url)

    assert re.fullmatch(
        r'<img (alt="Elsewhere" src="[^"]+"|src="[^"]+" alt="Elsewhere")>', tag
    )


def test_an_authors_own_width_is_kept(client, author):
    media = upload(client, gradient_jpeg((1000, 500)), "sized.jpg", "image/jpeg")
    post = make_post(body=f'<img src="{media.url}" alt="Small" width="300">')

    tag = img_tag(client.get(post.get_absolute_url()).content.decode(), media.url)

    assert 'width="300"' in tag and 'width="1000"' not in tag
    assert "srcset=" in tag and 'loading="lazy"' in tag


def test_the_featured_picture_is_sized_and_eager_on_its_post(client):
    post = make_post(title="Featured", featured_image_alt="A sunrise")
    post.featured_image.save("sunrise.jpg", ContentFile(gradient_jpeg((2000, 1000))))

    post.refresh_from_db()
    assert post.featured_image_sizes["width"] == 2000
    # A featured picture joins the media library.
    assert MediaFile.objects.filter(name=post.featured_image.name).exists()
    tag = img_tag(
        client.get(post.get_absolute_url()).content.decode(), post.featured_image.url
    )
    assert 'width="2000"' in tag and 'height="1000"' in tag
    assert f"{post.featured_image.url.removesuffix('.jpg')}-800w.webp 800w" in tag
    assert f'sizes="{pictures.SIZES_POST}"' in tag
    assert 'fetchpriority="high"' in tag and "loading=" not in tag


def test_cards_after_the_first_load_lazily_with_their_sizes(client):
    posts = []
    for number in range(3):
        post = make_post(title=f"Card {number}", featured_image_alt="A picture")
        post.featured_image.save(f"card{number}.jpg", ContentFile(gradient_jpeg()))
        posts.append(post)

    home = client.get("/").content.decode()

    cards = re.findall(r'<div class="post-summary__art"><img [^>]*>', home)
    assert len(cards) == 3
    lead, *older = cards
    assert 'fetchpriority="high"' in lead and "loading=" not in lead
    assert f'sizes="{pictures.SIZES_LEAD}"' in lead and 'width="2000"' in lead
    for card in older:
        assert 'loading="lazy"' in card and "fetchpriority" not in card
        assert f'sizes="{pictures.SIZES_CARD}"' in card and 'height="1000"' in card


def test_the_post_page_costs_no_query_more_for_three_pictures_than_one(client, author):
    one = upload(client, gradient_jpeg((900, 450)), "a.jpg", "image/jpeg")
    many = [
        upload(client, gradient_jpeg((900, 450)), "b.jpg", "image/jpeg")
        for _ in range(3)
    ]
    client.logout()
    few = make_post(body=f"![One]({one.url})")
    lots = make_post(body="\n\n".join(f"![P]({m.url})" for m in many))
    client.get(few.get_absolute_url())
    cache.clear()  # the pages themselves, not only their pictures
    pictures.sized.cache_clear()
    with CaptureQueriesContext(connection) as one_picture:
        assert "srcset" in client.get(few.get_absolute_url()).content.decode()
    cache.clear()
    pictures.sized.cache_clear()
    with CaptureQueriesContext(connection) as three_pictures:
        assert "srcset" in client.get(lots.get_absolute_url()).content.decode()
    assert len(three_pictures) == len(one_picture)


# For what was stored before


def test_the_command_sizes_pictures_stored_before(client):
    name = default_storage.save("uploads/2025/01/old.jpg", ContentFile(gradient_jpeg()))
    MediaFile.objects.create(name=name, size=default_storage.size(name))
    featured = default_storage.save(
        "featured/2025/01/f.jpg", ContentFile(gradient_jpeg())
    )
    post = make_post(
        body=f"![Old]({default_storage.url(name)})", featured_image_alt="F"
    )
    Post.objects.filter(pk=post.pk).update(featured_image=featured)
    assert "srcset" not in client.get(post.get_absolute_url()).content.decode()

    call_command("make_picture_sizes", stdout=(text := StringIO()))

    assert "Pictures sized: 2; already sized: 0; left out: 0." in text.getvalue()
    media = MediaFile.objects.get(name=name)
    assert [w for w, _name in media.variants] == [480, 800, 1200, 1600, 2000]
    assert MediaFile.objects.get(name=featured).width == 2000
    page = client.get(post.get_absolute_url()).content.decode()
    assert f"{default_storage.url(name).removesuffix('.jpg')}-480w.webp 480w" in page
    assert 'width="2000"' in img_tag(page, default_storage.url(featured))

    call_command("make_picture_sizes", stdout=(again := StringIO()))
    assert "Pictures sized: 0; already sized: 2; left out: 0." in again.getvalue()
