"""The editor's preview and upload endpoints are for staff, and safe with them."""

import re
import struct
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from blog import markup
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PREVIEW = reverse("markdownx_markdownify")
UPLOAD = reverse("markdownx_upload")
XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
IMAGE_CODE = re.compile(r"^!\[Describe this image\]\((?P<url>[^)\s]+)\)$")


@pytest.fixture
def staff_client(client):
    client.force_login(make_user(groups=("Authors",)))
    return client


def picture(fmt: str, *, size=(40, 30), mode="RGB", **options) -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, "teal").save(buffer, fmt, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header announces width by height pixels."""
    data = bytearray(picture("PNG", size=(1, 1), mode="1"))
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + data[24:29]
    data[16:24] = ihdr[4:12]
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr))
    return bytes(data)


def upload(client, content: bytes, name: str, content_type: str):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(UPLOAD, {"image": file}, **XHR)


def stored_files() -> list[Path]:
    """The stored pictures, without the smaller copies made of them
    (blog/pictures.py, tests/test_pictures.py)."""
    root = Path(settings.MEDIA_ROOT)
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not re.search(r"-\d+w\.\w+$", path.name)
    ]


def stored_image(response) -> tuple[Path, Image.Image]:
    """The file behind the Markdown the upload answered with, opened."""
    url = IMAGE_CODE.match(response.json()["image_code"])["url"]
    assert url.startswith(f"{settings.MEDIA_URL}uploads/")
    path = Path(settings.MEDIA_ROOT) / url.removeprefix(settings.MEDIA_URL)
    assert stored_files() == [path]
    return path, Image.open(path)


# Who may use them


def test_preview_is_refused_to_anonymous_visitors(client):
    response = client.post(PREVIEW, {"content": "*hello*"}, **XHR)

    assert response.status_code == 403
    assert b"<em>" not in response.content


def test_preview_is_refused_to_signed_in_readers(client):
    client.force_login(make_user(is_staff=False))

    response = client.post(PREVIEW, {"content": "*hello*"}, **XHR)

    assert response.status_code == 403
    assert b"<em>" not in response.content


@pytest.mark.parametrize("who", ["anonymous", "reader", "inactive staff"])
def test_upload_is_refused_to_anyone_but_staff(client, who):
    if who == "reader":
        client.force_login(make_user(is_staff=False))
    elif who == "inactive staff":
        user = make_user(groups=("Authors",))
        client.force_login(user)
        user.is_active = False
        user.save()

    response = upload(client, picture("PNG"), "photo.png", "image/png")

    assert response.status_code == 403
    assert "staff" in response.json()["error"]
    assert stored_files() == []


@pytest.mark.parametrize("url", [PREVIEW, UPLOAD])
def test_editor_endpoints_answer_only_post(staff_client, url):
    assert staff_client.get(url).status_code == 405


@pytest.mark.parametrize("url", [PREVIEW, UPLOAD])
def test_editor_endpoints_keep_csrf_protection(url):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(groups=("Authors",)))

    response = client.post(url, {"content": "text"}, **XHR)

    assert response.status_code == 403
    assert b"CSRF" in response.content


# Preview


def test_staff_preview_renders_markdown(staff_client):
    response = staff_client.post(PREVIEW, {"content": "Some *Markdown*."}, **XHR)

    assert response.status_code == 200
    assert response.content.decode() == "<p>Some <em>Markdown</em>.</p>"


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<img src=x onerror=alert(1)>", "onerror"),
        ("[x](javascript:alert(1))", "javascript:"),
    ],
)
def test_staff_preview_is_sanitised(staff_client, source, forbidden):
    response = staff_client.post(PREVIEW, {"content": source}, **XHR)

    assert response.status_code == 200
    assert forbidden not in response.content.decode().lower()


def test_preview_does_not_fill_the_page_render_cache(staff_client):
    markup.markdownify.cache_clear()

    for words in ["A draft", "A draft in", "A draft in progress"]:
        assert staff_client.post(PREVIEW, {"content": words}, **XHR).status_code == 200

    assert markup.markdownify.cache_info().currsize == 0


def test_preview_without_content_is_a_clear_bad_request(staff_client):
    response = staff_client.post(PREVIEW, {}, **XHR)

    assert response.status_code == 400
    assert b"'content'" in response.content


# Upload: what is refused


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (b"<html><script>alert(1)</script></html>", "evil.html", "image/gif"),
        (b"GIF89a<script>alert(1)</script>", "evil.gif", "image/gif"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "logo.svg",
            "image/svg+xml",
        ),
        (b"just some words\n", "notes.png", "image/png"),
        (picture("PNG", size=(300, 200))[:200], "cut.png", "image/png"),
        (picture("JPEG", size=(300, 200))[:400], "cut.jpg", "image/jpeg"),
        (picture("BMP"), "old.bmp", "image/bmp"),
        (picture("TIFF"), "scan.tiff", "image/jpeg"),
    ],
    ids=[
        "html",
        "gif-header-html",
        "svg",
        "text",
        "cut-png",
        "cut-jpeg",
        "bmp",
        "tiff",
    ],
)
def test_upload_refuses_what_is_not_a_supported_picture(
    staff_client, content, name, content_type
):
    response = upload(staff_client, content, name, content_type)

    assert response.status_code == 400
    assert response.json() == {
        "error": "This file is not a picture we can use. "
        "Upload a JPEG, PNG, WebP or GIF image."
    }
    assert stored_files() == []


def test_upload_refuses_files_over_the_size_limit(staff_client):
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    content = picture("PNG").ljust(limit + 1, b"\0")

    response = upload(staff_client, content, "huge.png", "image/png")

    assert response.status_code == 400
    assert response.json()["error"] == (
        "This file is 5.0\xa0MB; pictures can be at most 5.0\xa0MB. "
        "Make it smaller and try again."
    )
    assert stored_files() == []


@pytest.mark.parametrize(
    ("width", "height"), [(8000, 8000), (100_000, 100_000)], ids=["64MP", "10GP"]
)
def test_upload_refuses_pictures_with_too_many_pixels(staff_client, width, height):
    response = upload(staff_client, png_claiming(width, height), "a.png", "image/png")

    assert response.status_code == 400
    assert "40 megapixels" in response.json()["error"]
    assert stored_files() == []


def test_upload_without_a_file_is_a_clear_bad_request(staff_client):
    response = staff_client.post(UPLOAD, {}, **XHR)

    assert response.status_code == 400
    assert response.json() == {"error": "Choose a picture to upload."}


# Upload: what is accepted, and how it is stored


def test_png_is_stored_under_our_name_whatever_the_client_calls_it(staff_client):
    response = upload(staff_client, picture("PNG"), "evil.html", "text/html")

    assert response.status_code == 200
    path, image = stored_image(response)
    assert re.fullmatch(r"[0-9a-f]{32}\.png", path.name)
    assert image.format == "PNG"
    assert image.size == (40, 30)


def test_jpeg_is_reencoded_without_its_exif(staff_client):
    exif = Image.Exif()
    exif[0x010E] = "Holiday at home"  # ImageDescription
    exif[0x0112] = 6  # Orientation: the camera was turned
    original = picture("JPEG", size=(40, 30), exif=exif.tobytes())
    assert b"Holiday at home" in original

    response = upload(staff_client, original, "IMG_0001.JPG.html", "image/gif")

    assert response.status_code == 200
    path, image = stored_image(response)
    assert path.suffix == ".jpg"
    assert image.format == "JPEG"
    assert "exif" not in image.info
    assert b"Holiday at home" not in path.read_bytes()
    assert image.size == (30, 40)  # turned upright before the EXIF was dropped


def test_trailing_data_after_the_picture_is_not_stored(staff_client):
    polyglot = picture("PNG") + b"<script>alert(1)</script>"

    response = upload(staff_client, polyglot, "a.png", "image/png")

    assert response.status_code == 200
    path, _ = stored_image(response)
    assert b"<script>" not in path.read_bytes()


@pytest.mark.parametrize("fmt", ["JPEG", "GIF"])
def test_comment_blocks_are_not_stored(staff_client, fmt):
    original = picture(fmt, comment=b"call me on 555-0100")
    assert b"555-0100" in original

    response = upload(staff_client, original, "a", "image/png")

    assert response.status_code == 200
    path, image = stored_image(response)
    assert b"555-0100" not in path.read_bytes()
    assert "comment" not in image.info


def test_an_animations_comment_is_not_stored(staff_client):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue")]
    buffer = BytesIO()
    frames[0].save(
        buffer, "GIF", save_all=True, append_images=frames[1:], comment=b"555-0100"
    )

    response = upload(staff_client, buffer.getvalue(), "spin", "image/gif")

    path, image = stored_image(response)
    assert image.n_frames == 2
    assert b"555-0100" not in path.read_bytes()


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_bytes_posing_as_a_colour_profile_are_not_stored(staff_client, fmt):
    junk = b"not a profile, a secret " * 8
    original = picture(fmt, icc_profile=junk)
    assert Image.open(BytesIO(original)).info["icc_profile"] == junk

    response = upload(staff_client, original, "a", "image/png")

    path, image = stored_image(response)
    assert b"a secret" not in path.read_bytes()
    assert "icc_profile" not in image.info


def test_a_real_colour_profile_is_kept(staff_client):
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    response = upload(staff_client, picture("JPEG", icc_profile=srgb), "a", "")

    _, image = stored_image(response)
    assert image.info["icc_profile"] == srgb


@pytest.mark.parametrize(
    ("fmt", "extension"), [("WEBP", ".webp"), ("GIF", ".gif")], ids=["webp", "gif"]
)
def test_webp_and_gif_are_accepted(staff_client, fmt, extension):
    response = upload(staff_client, picture(fmt), "picture", "image/png")

    assert response.status_code == 200
    path, image = stored_image(response)
    assert path.suffix == extension
    assert image.format == fmt


def test_large_pictures_are_scaled_down(staff_client, settings):
    settings.MARKDOWNX_IMAGE_MAX_SIZE = {"size": (100, 100), "quality": 85}

    response = upload(staff_client, picture("PNG", size=(300, 150)), "w.png", "")

    assert response.status_code == 200
    _, image = stored_image(response)
    assert image.size == (100, 50)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animations_keep_their_frames_and_timing(staff_client, fmt):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "lime", "blue")]
    buffer = BytesIO()
    frames[0].save(
        buffer, fmt, save_all=True, append_images=frames[1:], duration=80, loop=0
    )

    response = upload(staff_client, buffer.getvalue(), "spin", "image/gif")

    assert response.status_code == 200
    _, image = stored_image(response)
    assert image.format == fmt
    assert image.n_frames == 3
    image.seek(2)
    image.load()
    assert image.info["duration"] == 80
