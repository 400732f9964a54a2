"""python manage.py import_wordpress EXPORT.xml: moves a WordPress blog in."""

import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from blog.wordpress import ExportError, import_wordpress


class Command(BaseCommand):
    help = (
        "Imports a WordPress export (Tools > Export, a WXR file): authors, "
        "categories, tags, posts, comments, and redirects from the old "
        "addresses. Safe to run again: it updates what changed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("export", type=Path, help="The WXR file (.xml).")
        parser.add_argument(
            "--author-map",
            action="append",
            default=[],
            metavar="OLD=NEW",
            help="Give the posts of WordPress login OLD to the existing user NEW "
            "(repeatable).",
        )
        parser.add_argument(
            "--default-author",
            metavar="LOGIN",
            help="Give posts that name no author to this existing user (by "
            "default: the first superuser). The report says which posts.",
        )
        parser.add_argument(
            "--skip-pings",
            action="store_true",
            help="Leave pingbacks and trackbacks out.",
        )
        parser.add_argument(
            "--media-dir",
            type=Path,
            help="A copy of wp-content/uploads, as a folder or a .zip: the files "
            "posts use are copied into MEDIA_ROOT and their links rewritten.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read and report, write nothing.",
        )

    def handle(self, *args, **options) -> None:
        author_map = {}
        for pair in options["author_map"]:
            old, sep, new = pair.partition("=")
            if not (sep and old.strip() and new.strip()):
                raise CommandError(f"--author-map takes OLD=NEW, not {pair!r}.")
            author_map[old.strip()] = new.strip()
        media_dir = options["media_dir"]
        if media_dir is not None and not (
            media_dir.is_dir() or zipfile.is_zipfile(media_dir)
        ):
            raise CommandError(f"--media-dir {media_dir} is not a folder or a zip.")
        try:
            report = import_wordpress(
                options["export"],
                dry_run=options["dry_run"],
                author_map=author_map,
                default_author=options["default_author"],
                skip_pings=options["skip_pings"],
                media_dir=media_dir,
                progress=self.show_progress if self.stdout.isatty() else None,
            )
        except ExportError as error:
            raise CommandError(f"{error} Nothing was imported.") from None
        for line in report.lines():
            self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")

    def show_progress(self, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        self.stdout.write(f"\rReading items: {done}/{total}", ending=end)
        self.stdout.flush()
