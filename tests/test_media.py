"""Media: kept on the local disk, or in an S3-compatible bucket
(MEDIA_STORAGE_URL), and served by the site at /media/ either way.

The bucket is real S3 over HTTP: moto's server mode, started by these tests
on a port of their own (tests/test_scaleout.py shares it between two app
servers).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from blog.settings import media_storage
from tests.factories import make_user
from tests.servers import S3_CREDENTIALS, media_storage_url, new_bucket, s3_client
from tests.test_editor import picture, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3_media(s3_endpoint, settings, monkeypatch) -> str:
    """Media in a fresh bucket, under a prefix, as MEDIA_STORAGE_URL sets it;
    the bucket's name is returned."""
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = new_bucket(s3_endpoint)
    url = media_storage_url(s3_endpoint, bucket)
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(url)}
    return bucket


def read(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def staff_client(client):
    client.force_login(make_user(groups=("Authors",)))
    return client


def uploaded_url(staff_client, content: bytes) -> str:
    response = upload(staff_client, content, "photo.png", "image/png")
    assert response.status_code == 200, response.content
    code = response.json()["image_code"]
    return code[code.index("](") + 2 : -1]


def test_an_uploaded_picture_is_kept_in_the_bucket_and_served_by_the_site(
    staff_client, client, s3_media, s3_endpoint, settings
):
    url = uploaded_url(staff_client, picture("PNG"))

    # The post links to the site, not to the bucket (CSP: images from 'self').
    assert url.startswith("/media/uploads/") and url.endswith(".png")
    key = "site-media/" + url.removeprefix("/media/")
    stored = s3_client(s3_endpoint).get_object(Bucket=s3_media, Key=key)
    in_bucket = stored["Body"].read()
    assert in_bucket.startswith(b"\x89PNG")
    assert not (settings.MEDIA_ROOT / "uploads").exists()  # nothing on the disk

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert read(response) == in_bucket


def test_an_uploaded_picture_is_kept_on_the_disk_by_default(
    staff_client, client, settings
):
    url = uploaded_url(staff_client, picture("PNG"))

    on_disk = (settings.MEDIA_ROOT / url.removeprefix("/media/")).read_bytes()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert read(response) == on_disk


def test_a_name_already_taken_in_the_bucket_is_never_overwritten(s3_media):
    first = default_storage.save("featured/back.jpg", ContentFile(b"first"))
    second = default_storage.save("featured/back.jpg", ContentFile(b"second"))
    assert first == "featured/back.jpg"
    assert second != first
    assert default_storage.open(first).read() == b"first"


@pytest.mark.parametrize("storage", ["disk", "s3"])
def test_missing_media_and_paths_out_of_it_are_not_found(client, request, storage):
    if storage == "s3":
        request.getfixturevalue("s3_media")
    assert client.get("/media/uploads/2026/01/nothing.png").status_code == 404
    assert client.get("/media/../blog/settings.py").status_code == 404
    assert client.get("/media/%2e%2e/manage.py").status_code == 404
    assert client.post("/media/uploads/x.png").status_code == 405


def test_a_bucket_that_does_not_answer_makes_a_picture_wait_not_fail(
    client, settings, monkeypatch
):
    """Nothing listens where the bucket should be (the port, in this
    project's range, cache_down's): the picture is a 503 to try again, not
    a server error."""
    from botocore.config import Config

    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    options = {
        "bucket_name": "pictures",
        "endpoint_url": "http://127.0.0.1:8199",
        "client_config": Config(retries={"total_max_attempts": 1}),
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "blog.bucket.MediaStorage", "OPTIONS": options},
    }
    response = client.get("/media/uploads/2026/01/photo.png")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_media_storage_url_is_read_or_refused_with_a_clear_message():
    assert media_storage("") == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
    assert media_storage(
        "s3://pictures/blog?endpoint_url=https://s3.example.net&region_name=eu-1"
    ) == {
        "BACKEND": "blog.bucket.MediaStorage",
        "OPTIONS": {
            "bucket_name": "pictures",
            "location": "blog",
            "endpoint_url": "https://s3.example.net",
            "region_name": "eu-1",
        },
    }
    for wrong in [
        "ftp://pictures",
        "s3://",
        "s3://key:secret@pictures",
        "s3://pictures?acl=public-read",
    ]:
        with pytest.raises(ImproperlyConfigured, match="expected s3://BUCKET"):
            media_storage(wrong)
