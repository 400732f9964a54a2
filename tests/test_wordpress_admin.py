"""The admin's way in and out of WordPress: upload, dry run, confirm, progress,
report, and the export download."""

import datetime
import os
import re
import socket
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.redirects.models import Redirect
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult
from taggit.models import Tag

from blog import importing
from blog.models import Category, ImportJob, Page, Post, TaskWorker
from comments.models import Comment
from tests.factories import make_user
from tests.test_wordpress_export import build_site, export_text, snapshot
from tests.test_wordpress_import import comment_xml, counts, item_xml, wxr

pytestmark = pytest.mark.django_db

ADD = reverse("admin:blog_importjob_add")
LIST = reverse("admin:blog_importjob_changelist")
EXPORT = reverse("admin:blog_importjob_export")


def job_url(job, action="change"):
    return reverse(f"admin:blog_importjob_{action}", args=[job.pk])


def upload(client, text=None, *, media=None, **fields):
    text = wxr(item_xml(comments=comment_xml(1))) if text is None else text
    data = {"export": SimpleUploadedFile("old-blog.xml", text.encode()), **fields}
    if media is not None:
        data["media"] = media
    return client.post(ADD, data)


def nothing_written() -> bool:
    """Nothing but the signed-in administrator."""
    return counts() == {
        "users": 1,
        "categories": 0,
        "tags": 0,
        "posts": 0,
        "comments": 0,
        "redirects": 0,
    }


def stored_files() -> list[str]:
    if not default_storage.exists("wordpress-imports"):
        return []
    return default_storage.listdir("wordpress-imports")[1]


def test_the_dry_run_shows_the_report_and_writes_nothing(admin_client):
    response = upload(admin_client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job_url(job)
    assert job.state == ImportJob.State.CHECKED
    assert job.file_name == "old-blog.xml"
    assert job.uploaded_by.username == "admin"
    page = admin_client.get(job_url(job)).content.decode()
    assert "Dry run: what the import would do" in page
    assert '<th scope="row">Posts</th><td>1</td>' in page
    assert '<th scope="row">Comments</th><td>1</td>' in page
    assert 'value="Import"' in page
    assert nothing_written()
    assert len(stored_files()) == 1  # kept for the import
    listing = admin_client.get(LIST).content.decode()
    assert "dry run: authors: 1, categories: 1, tags: 1, posts: 1" in listing


def test_confirm_queues_the_import_for_the_worker(admin_client, database_tasks):
    upload(admin_client)
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.CHECKING
    assert (
        "Waiting for the task worker" in admin_client.get(job_url(job)).content.decode()
    )
    importing.check_import.call(job.pk)  # what the worker does
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED

    response = admin_client.post(job_url(job, "confirm"))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED
    queued = DBTaskResult.objects.filter(
        task_path="blog.importing.run_import", status="READY"
    ).get()
    assert queued.args_kwargs["args"] == [job.pk]
    assert not Post.objects.exists()


def test_the_task_imports_and_records_the_report(admin_client, database_tasks):
    upload(admin_client)
    job = ImportJob.objects.get()
    importing.check_import.call(job.pk)
    admin_client.post(job_url(job, "confirm"))

    assert importing.run_import.call(job.pk) == "done"

    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert Post.objects.get().title == "Hello world"
    assert Comment.objects.count() == 1
    assert dict(job.report["counts"])["posts"] == [1, 0, 0, 0]
    assert job.finished_at is not None
    assert stored_files() == []  # the upload is removed after the import
    page = admin_client.get(job_url(job)).content.decode()
    assert "What the import brought" in page
    listing = admin_client.get(LIST).content.decode()
    assert "old-blog.xml" in listing and "Imported" in listing
    # The worker may run a task twice (after a crash): the second does nothing.
    assert importing.run_import.call(job.pk) == "nothing to do"


def test_with_immediate_tasks_confirm_imports_at_once(admin_client):
    upload(admin_client)
    job = ImportJob.objects.get()
    admin_client.post(job_url(job, "confirm"))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert Post.objects.count() == 1


def test_a_malformed_file_is_refused_on_the_form_and_nothing_is_kept(admin_client):
    broken = wxr(item_xml()).replace("</channel>", "")
    response = upload(admin_client, broken)
    assert response.status_code == 200
    page = response.content.decode()
    assert "not well-formed" in page or "broken" in page.lower()
    assert "Nothing was imported." in page
    assert not ImportJob.objects.exists()
    assert stored_files() == []
    assert nothing_written()


def test_an_entity_attack_is_refused_on_the_form(admin_client):
    head = '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">]>\n'
    response = upload(admin_client, wxr(item_xml(), head=head))
    assert response.status_code == 200
    assert "Nothing was imported." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_limit_gets_a_message(admin_client, settings):
    settings.WORDPRESS_IMPORT_MAX_SIZE = 1000
    response = upload(admin_client)
    assert response.status_code == 200
    page = response.content.decode()
    assert "the import takes files up to 1000" in page
    assert "WORDPRESS_IMPORT_MAX_SIZE" in page
    assert not ImportJob.objects.exists()


def test_media_that_is_not_a_zip_is_refused(admin_client):
    media = SimpleUploadedFile("uploads.zip", b"plain text")
    response = upload(admin_client, media=media)
    assert response.status_code == 200
    assert "This is not a zip file." in response.content.decode()
    assert not ImportJob.objects.exists()
    assert stored_files() == []


def test_media_from_the_uploaded_zip_is_copied(admin_client, tmp_path):
    archive = tmp_path / "uploads.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("wp-content/uploads/2019/05/photo.jpg", b"picture")
    content = (
        '<img src="http://old.example.com/wp-content/uploads/2019/05/photo.jpg" '
        'alt="A photo">'
    )
    media = SimpleUploadedFile("uploads.zip", archive.read_bytes())
    upload(admin_client, wxr(item_xml(content=content)), media=media)
    job = ImportJob.objects.get()
    assert job.media_file_name == "uploads.zip"
    admin_client.post(job_url(job, "confirm"))
    assert 'src="/media/wordpress/2019/05/photo.jpg"' in Post.objects.get().body
    assert default_storage.open("wordpress/2019/05/photo.jpg").read() == b"picture"
    assert stored_files() == []


def test_posts_without_an_author_go_to_the_chosen_user(admin_client):
    editor = make_user(username="editor", is_staff=True)
    text = wxr(item_xml(creator=""))
    upload(admin_client, text, default_author=str(editor.pk), skip_pings="on")
    job = ImportJob.objects.get()
    assert job.skip_pings
    admin_client.post(job_url(job, "confirm"))
    assert Post.objects.get().author == editor


def test_the_confirmation_gives_an_author_to_an_existing_user(admin_client):
    editor = make_user(username="editor", first_name="Ed", is_staff=True)
    upload(admin_client)
    job = ImportJob.objects.get()
    assert job.authors == [["alice", "Alice Liddell"]]
    page = admin_client.get(job_url(job)).content.decode()
    assert "Alice Liddell (alice)" in page
    assert "A new user, alice" in page

    admin_client.post(job_url(job, "confirm"), {"author_0": "editor"})

    assert Post.objects.get().author == editor
    assert not get_user_model().objects.filter(username="alice").exists()
    job.refresh_from_db()
    assert job.author_map == {"alice": "editor"}
    notes = [reason for reason, _number, _examples in job.report["notes"]]
    assert "authors mapped onto existing users (--author-map)" in notes


def test_by_default_each_author_becomes_a_user(admin_client):
    upload(admin_client)
    job = ImportJob.objects.get()
    admin_client.post(job_url(job, "confirm"), {"author_0": ""})
    assert Post.objects.get().author.username == "alice"


def test_an_author_given_to_someone_unknown_is_refused(admin_client):
    upload(admin_client)
    job = ImportJob.objects.get()
    response = admin_client.post(
        job_url(job, "confirm"), {"author_0": "nobody"}, follow=True
    )
    assert "nothing was done" in response.content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED
    assert not Post.objects.exists()


def test_cancel_removes_the_files_and_imports_nothing(admin_client):
    upload(admin_client)
    job = ImportJob.objects.get()
    admin_client.post(job_url(job, "cancel"))
    job.refresh_from_db()
    assert job.state == ImportJob.State.CANCELLED
    assert stored_files() == []
    assert admin_client.post(job_url(job, "confirm")).status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.CANCELLED
    assert not Post.objects.exists()


def test_a_dry_run_nobody_confirms_is_cancelled_after_a_week(
    admin_client, database_tasks
):
    upload(admin_client)
    job = ImportJob.objects.get()
    importing.check_import.call(job.pk)
    expiry = DBTaskResult.objects.get(task_path="blog.importing.expire_unconfirmed")
    waits = expiry.run_after - timezone.now()
    assert datetime.timedelta(days=6, hours=23) < waits <= datetime.timedelta(days=7)

    assert importing.expire_unconfirmed.call(job.pk) == "cancelled"

    job.refresh_from_db()
    assert job.state == ImportJob.State.CANCELLED
    assert stored_files() == []


def test_a_confirmed_import_is_not_expired(admin_client):
    upload(admin_client)
    job = ImportJob.objects.get()
    admin_client.post(job_url(job, "confirm"))
    assert importing.expire_unconfirmed.call(job.pk) == "nothing to do"
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE


def test_a_second_import_waits_for_the_first(admin_client, database_tasks):
    upload(admin_client)
    upload(admin_client, wxr(item_xml(2, slug="other")))
    first, second = ImportJob.objects.order_by("pk")
    importing.check_import.call(first.pk)
    importing.check_import.call(second.pk)
    admin_client.post(job_url(first, "confirm"))
    response = admin_client.post(job_url(second, "confirm"), follow=True)
    assert "another import is on its way" in response.content.decode()
    second.refresh_from_db()
    assert second.state == ImportJob.State.CHECKED


def test_an_export_the_task_cannot_read_fails_and_says_why(
    admin_client, database_tasks
):
    upload(admin_client)
    job = ImportJob.objects.get()
    with default_storage.open(job.export_file.name, "wb") as damaged:
        damaged.write(b"<rss><channel>")  # the stored copy, cut short
    importing.check_import.call(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert job.error.endswith("Nothing was imported.")
    assert stored_files() == []
    page = admin_client.get(job_url(job)).content.decode()
    assert "Nothing was imported." in page
    assert 'value="Import"' not in page
    assert escape(job.error[:60]) in admin_client.get(LIST).content.decode()


def test_progress_is_read_from_the_database_or_the_cache(admin_client):
    job = ImportJob.objects.create(
        file_name="big.xml",
        export_file="wordpress-imports/x.xml",
        skip_pings=False,
        state=ImportJob.State.RUNNING,
    )
    assert admin_client.get(job_url(job, "status")).json()["text"] == (
        "Reading the file…"
    )
    importing.Progress(job.pk)(250, 1000)
    status = admin_client.get(job_url(job, "status")).json()
    assert (status["state"], status["done"], status["total"]) == ("running", 250, 1000)
    assert status["text"] == "250 of 1,000 items read and written"
    cache.clear()
    ImportJob.objects.filter(pk=job.pk).update(progress_done=600, progress_total=1000)
    assert admin_client.get(job_url(job, "status")).json()["done"] == 600
    importing.Progress(job.pk)(1000, 1000)
    assert admin_client.get(job_url(job, "status")).json()["text"].startswith(
        "Finishing"
    )
    cache.clear()
    page = admin_client.get(job_url(job)).content.decode()
    assert 'value="600" max="1000"' in page


def test_the_admin_screens_are_for_those_allowed(client, admin_client):
    job = ImportJob.objects.create(
        file_name="a.xml", export_file="wordpress-imports/a.xml", skip_pings=False
    )
    reader = make_user(username="reader")
    client.force_login(reader)
    for url in (ADD, LIST, EXPORT, job_url(job), job_url(job, "status")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(job_url(job, "confirm")).status_code == 302
    author = make_user(username="author", is_staff=True, groups=("Authors",))
    client.force_login(author)
    assert client.get(ADD).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.get(job_url(job, "status")).status_code == 404
    assert client.post(job_url(job, "confirm")).status_code == 403
    author.user_permissions.add(
        Permission.objects.get(codename="import_wordpress"),
        Permission.objects.get(codename="export_wordpress"),
    )
    assert client.get(ADD).status_code == 200
    assert client.get(EXPORT).status_code == 200


def without_export_time(wxr_text: str) -> str:
    """The channel's <pubDate> is when the file was written (the first one:
    the items' come after it)."""
    return re.sub(r"<pubDate>[^<]*</pubDate>", "", wxr_text, count=1)


def test_the_export_download_is_the_command_export_and_round_trips(admin_client):
    build_site()
    before = snapshot()

    response = admin_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    downloaded = b"".join(response.streaming_content).decode()
    assert without_export_time(downloaded) == without_export_time(export_text())
    for model in (Comment, Post, Tag, Redirect, Page):
        model.objects.all().delete()
    Category.objects.update(parent=None)
    Category.objects.all().delete()
    get_user_model().objects.exclude(username="admin").delete()
    upload(admin_client, downloaded)
    admin_client.post(job_url(ImportJob.objects.get(), "confirm"))
    after = snapshot()
    del before["users"]["admin"], after["users"]["admin"]
    assert after["users"] == before["users"]
    assert after["categories"] == before["categories"]
    assert after["tags"] == before["tags"]
    assert after["posts"] == before["posts"]
    assert before["redirects"] <= after["redirects"]


def test_deleting_an_import_removes_its_files(admin_client):
    upload(admin_client)
    job = ImportJob.objects.get()
    assert stored_files()
    admin_client.post(
        reverse("admin:blog_importjob_delete", args=[job.pk]), {"post": "yes"}
    )
    assert not ImportJob.objects.exists()
    assert stored_files() == []


@pytest.mark.django_db(transaction=True)
def test_progress_is_committed_on_a_connection_of_its_own():
    """Where the database takes more than one writer (PostgreSQL), progress
    goes to the row at once, outside the import's transaction."""
    job = ImportJob.objects.create(
        file_name="big.xml", export_file="wordpress-imports/x.xml", skip_pings=False
    )
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    worker = TaskWorker.objects.create(
        worker_id="w",
        host=socket.gethostname(),
        pid=os.getpid(),
        checked_in_at=long_ago,
    )
    progress = importing.Progress(job.pk)
    progress.own_connection = True
    progress(40, 50)
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total) == (40, 50)
    worker.refresh_from_db()
    assert worker.checked_in_at > long_ago  # the busy worker is not taken for gone
