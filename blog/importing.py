"""The WordPress import as the admin runs it: upload, dry run, confirm, import.

The form (`ImportJobAdmin` in blog/admin.py) refuses a broken export and keeps
it (and a zip of its uploads) in the default storage, for any worker; tasks
do the dry run (`check_import`), whose report waits for confirmation, and the
import (`run_import`), both through `blog.wordpress.import_wordpress()`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path, PurePath

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from blog.locale import site_locale
from blog.models import ImportJob, TaskWorker, display_name
from blog.wordpress import ExportError, import_wordpress
from blog.wordpress.content import plain
from blog.wordpress.posts import WordPressImport

PROGRESS_EVERY = 1.0  # seconds between two progress writes
PROGRESS_KEY = "wordpress-import-progress:{}"
UNCONFIRMED_FOR = timedelta(days=7)  # a dry run waits this long for its Import


def max_export_size() -> int:
    return settings.WORDPRESS_IMPORT_MAX_SIZE


def max_media_size() -> int:
    return settings.WORDPRESS_MEDIA_MAX_SIZE


@contextmanager
def local_path(upload: UploadedFile) -> Iterator[Path]:
    """The uploaded file as a path on this machine (the reader wants one)."""
    if hasattr(upload, "temporary_file_path"):
        yield Path(upload.temporary_file_path())
        return
    with tempfile.TemporaryDirectory(prefix="inkwell-import-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        upload.seek(0)
        yield path


@contextmanager
def stored_path(field) -> Iterator[Path]:
    """A file of the default storage as a local path: itself on the local
    disk, else a temporary copy (S3: the worker may be another machine)."""
    try:
        yield Path(field.storage.path(field.name))
        return
    except NotImplementedError:
        pass
    with tempfile.TemporaryDirectory(prefix="inkwell-import-") as folder:
        path = Path(folder) / PurePath(field.name).name
        with field.open("rb") as source, path.open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        yield path


def too_large(upload: UploadedFile, limit: int, setting: str) -> forms.ValidationError:
    return forms.ValidationError(
        _(
            "This file is %(size)s; the import takes files up to %(limit)s. "
            "Import it with manage.py import_wordpress, or raise %(setting)s."
        ),
        code="too_large",
        params={
            "size": filesizeformat(upload.size),
            "limit": filesizeformat(limit),
            "setting": setting,
        },
    )


class ImportForm(forms.Form):
    export = forms.FileField(
        label=_("WordPress export file"),
        help_text=_(
            "The .xml file WordPress gives in Tools › Export › All content "
            "(WXR 1.0, 1.1 or 1.2)."
        ),
    )
    media = forms.FileField(
        label=_("Uploads folder as a zip (optional)"),
        required=False,
        help_text=_(
            "A zip of the blog's wp-content/uploads folder: the pictures and "
            "files posts use are copied here and their links rewritten."
        ),
    )
    default_author = forms.ModelChoiceField(
        label=_("Posts that name no author go to"),
        queryset=get_user_model().objects.filter(is_active=True, is_staff=True),
        required=False,
        empty_label=_("The first superuser"),
        help_text=_(
            "For the authors the export names, you choose after the dry run: "
            "a user of their own, or a user here."
        ),
    )
    skip_pings = forms.BooleanField(
        label=_("Leave out pingbacks and trackbacks"), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, limit in (("export", max_export_size()), ("media", max_media_size())):
            field = self.fields[name]
            field.help_text = format_lazy(
                "{} {}",
                field.help_text,
                _("Up to %(size)s.") % {"size": filesizeformat(limit)},
            )

    def clean_export(self) -> UploadedFile:
        upload = self.cleaned_data["export"]
        if upload.size > max_export_size():
            raise too_large(upload, max_export_size(), "WORDPRESS_IMPORT_MAX_SIZE")
        # Read it whole once now (no writing): a broken file is refused here,
        # on the form, before anything is kept.
        try:
            with local_path(upload) as path:
                self.scan = WordPressImport(path).scan()
        except ExportError as error:
            raise forms.ValidationError(
                "%(error)s %(nothing)s",
                params={"error": error, "nothing": gettext("Nothing was imported.")},
                code="invalid_export",
            ) from None
        return upload

    def clean_media(self) -> UploadedFile | None:
        upload = self.cleaned_data["media"]
        if not upload:
            return None
        if upload.size > max_media_size():
            raise too_large(upload, max_media_size(), "WORDPRESS_MEDIA_MAX_SIZE")
        if not zipfile.is_zipfile(upload):
            raise forms.ValidationError(
                _("This is not a zip file. Zip the wp-content/uploads folder."),
                code="not_a_zip",
            )
        upload.seek(0)
        return upload

    def save(self, user) -> ImportJob:
        """Keep the files (under unguessable names: an export holds readers'
        email addresses) and queue the dry run."""
        data = self.cleaned_data
        job = ImportJob(
            uploaded_by=user,
            file_name=PurePath(data["export"].name).name[:255],
            default_author=data["default_author"],
            skip_pings=data["skip_pings"],
            authors=authors_of(self.scan),
        )
        job.export_file.save(f"{secrets.token_urlsafe(18)}.xml", data["export"], False)
        if data["media"]:
            job.media_file_name = PurePath(data["media"].name).name[:255]
            job.media_file.save(
                f"{secrets.token_urlsafe(18)}.zip", data["media"], False
            )
        job.save()
        check_import.enqueue(job.pk)
        return job


def authors_of(scan) -> list[list[str]]:
    """The export's authors as the import will meet them: [login, name]."""
    authors = {login: author.display_name for login, author in scan.authors.items()}
    for login in scan.creators:
        authors.setdefault(login, "")
    return [[login, plain(name) or login] for login, name in authors.items()]


class AuthorsForm(forms.Form):
    """Who gets each WordPress author's posts: a user of their own (the
    default, as the command does), or an existing user here, as WordPress's
    importer asks before it imports."""

    MAX_AUTHORS = 100  # more than that: the command's --author-map

    def __init__(self, job: ImportJob, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        User = get_user_model()
        users = list(
            User.objects.filter(is_active=True, is_staff=True).order_by("username")
        )
        existing = set(
            User.objects.filter(
                username__in=[login for login, _name in job.authors]
            ).values_list("username", flat=True)
        )
        self.logins = [login for login, _name in job.authors[: self.MAX_AUTHORS]]
        for number, (login, name) in enumerate(job.authors[: self.MAX_AUTHORS]):
            own = (
                gettext("The existing user %(login)s") % {"login": login}
                if login in existing
                else gettext("A new user, %(login)s") % {"login": login}
            )
            self.fields[f"author_{number}"] = forms.ChoiceField(
                label=name if name == login else f"{name} ({login})",
                required=False,
                choices=[("", own)]
                + [
                    (user.get_username(), display_name(user))
                    for user in users
                    if user.get_username() != login
                ],
                initial=job.author_map.get(login, ""),
            )

    def author_map(self) -> dict[str, str]:
        return {
            login: self.cleaned_data[f"author_{number}"]
            for number, login in enumerate(self.logins)
            if self.cleaned_data.get(f"author_{number}")
        }


def confirm(job: ImportJob, author_map: dict[str, str] | None = None) -> bool:
    """Queue the import of a checked job; False if it is not waiting for that
    (or another import is on its way: two at once would fight over the
    same posts)."""
    if ImportJob.objects.filter(state__in=ImportJob.ACTIVE_STATES).exists():
        return False
    if not ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.CHECKED).update(
        state=ImportJob.State.QUEUED,
        progress_done=0,
        progress_total=0,
        author_map=author_map or {},
    ):
        return False
    run_import.enqueue(job.pk)
    return True


def cancel(job: ImportJob) -> bool:
    """Drop a checked job that will not be imported, and its files."""
    if not ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.CHECKED).update(
        state=ImportJob.State.CANCELLED, finished_at=timezone.now()
    ):
        return False
    job.forget_files()
    return True


@task()
def check_import(job_id: int) -> str:
    """The dry run: what the import would do, written nowhere."""
    with site_locale():  # its report is kept in the site's language
        return _run(job_id, dry_run=True)


@task()
def run_import(job_id: int) -> str:
    with site_locale():
        return _run(job_id, dry_run=False)


def _run(job_id: int, *, dry_run: bool) -> str:
    State = ImportJob.State
    # A task the worker queued again after a crash finds its job still
    # checking or running: the import is all or nothing, so it starts over.
    expected = [State.CHECKING] if dry_run else [State.QUEUED, State.RUNNING]
    claimed = ImportJob.objects.filter(pk=job_id, state__in=expected).update(
        state=State.CHECKING if dry_run else State.RUNNING,
        started_at=timezone.now(),
        progress_done=0,
        progress_total=0,
    )
    if not claimed:
        return "nothing to do"
    cache.delete(PROGRESS_KEY.format(job_id))
    job = ImportJob.objects.select_related("default_author").get(pk=job_id)
    try:
        with ExitStack() as files:
            export = files.enter_context(stored_path(job.export_file))
            media = (
                files.enter_context(stored_path(job.media_file))
                if job.media_file
                else None
            )
            report = import_wordpress(
                export,
                dry_run=dry_run,
                default_author=job.default_author.get_username()
                if job.default_author
                else None,
                skip_pings=job.skip_pings,
                author_map=job.author_map,
                media_dir=media,
                progress=Progress(job_id),
            )
    except ExportError as error:
        _finish(job, State.FAILED, error=f"{error} {gettext('Nothing was imported.')}")
        return "refused"
    except Exception:
        _finish(
            job,
            State.FAILED,
            error=gettext(
                "The import stopped on an unexpected error. Its task result "
                "(Task results, in the admin) says what happened."
            ),
        )
        raise
    if dry_run:
        job.dry_run_report = report.as_dict()
        _finish(job, State.CHECKED)
    else:
        job.report = report.as_dict()
        _finish(job, State.DONE)
    return job.state


def _finish(job: ImportJob, state: str, *, error: str = "") -> None:
    job.state, job.error = state, error
    if state != ImportJob.State.CHECKED:
        job.finished_at = timezone.now()
        job.forget_files()
    job.save()
    cache.delete(PROGRESS_KEY.format(job.pk))
    if (
        state == ImportJob.State.CHECKED
        and expire_unconfirmed.get_backend().supports_defer
    ):
        expire_unconfirmed.using(run_after=timezone.now() + UNCONFIRMED_FOR).enqueue(
            job.pk
        )


@task()
def expire_unconfirmed(job_id: int) -> str:
    """A dry run nobody confirmed within `UNCONFIRMED_FOR`: cancelled, so
    its files (readers' addresses among them) do not stay in storage."""
    job = ImportJob.objects.filter(pk=job_id).first()
    return "cancelled" if job is not None and cancel(job) else "nothing to do"


class Progress:
    """Where an import has got to, written at most once a second: on a
    connection of its own (another thread), as the import's transaction is
    unseen by others; on SQLite (one writer) or inside a transaction, in the
    cache, which one machine's processes share."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.written_at = 0.0
        self.own_connection = (
            connection.vendor != "sqlite" and not connection.in_atomic_block
        )

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.written_at < PROGRESS_EVERY:
            return
        self.written_at = now
        cache.set(PROGRESS_KEY.format(self.job_id), (done, total), 24 * 3600)
        if self.own_connection:
            writer = threading.Thread(target=self.write, args=(done, total))
            writer.start()
            writer.join()

    def write(self, done: int, total: int) -> None:
        try:
            ImportJob.objects.filter(pk=self.job_id).update(
                progress_done=done, progress_total=total
            )
            # The worker running this long task checks in through it, so
            # /healthz and the other workers do not take it for gone.
            TaskWorker.objects.filter(
                host=socket.gethostname()[:255], pid=os.getpid()
            ).update(checked_in_at=timezone.now())
        finally:
            connections.close_all()


def status(job: ImportJob) -> dict:
    """What the job's page shows of it, as its JSON endpoint answers."""
    done, total = job.progress_done, job.progress_total
    if job.is_active:
        cached = cache.get(PROGRESS_KEY.format(job.pk))
        if cached and cached[0] >= done:
            done, total = cached
    State = ImportJob.State
    if job.state == State.QUEUED or (
        job.state == State.CHECKING and job.started_at is None
    ):
        text = gettext("Waiting for the task worker to start…")
    elif job.is_active and not total:
        text = gettext("Reading the file…")
    elif job.is_active and done >= total:
        text = gettext("Finishing: pages, menus and the last posts' comments…")
    elif job.is_active:
        text = ngettext(
            "%(done)s of %(total)s item read and written",
            "%(done)s of %(total)s items read and written",
            total,
        ) % {"done": f"{done:,}", "total": f"{total:,}"}
    else:
        text = job.get_state_display()
    return {
        "state": job.state,
        "label": job.get_state_display(),
        "done": done,
        "total": total,
        "text": text,
    }


# The report's kinds of things, as its table and the imports list name them.
KINDS = {
    "authors": _("authors"),
    "categories": _("categories"),
    "tags": _("tags"),
    "posts": _("posts"),
    "pages": _("pages"),
    "comments": _("comments"),
    "redirects": _("redirects"),
    "menus": _("menus"),
    "menu items": _("menu items"),
    "media files": _("media files"),
    "attachments": _("attachments"),
    "revisions": _("revisions"),
    "other items": _("other items"),
}


def for_display(report: dict | None) -> dict | None:
    """A stored report (`Report.as_dict()`) as the admin's template shows it."""
    if not report:
        return None
    return {
        "counts": [
            [KINDS.get(kind, kind), numbers] for kind, numbers in report["counts"]
        ],
        "notes": [
            {
                "reason": reason,
                "number": number,
                "examples": examples,
                "more": number - len(examples) if examples else 0,
            }
            for reason, number, examples in report["notes"]
        ],
    }
