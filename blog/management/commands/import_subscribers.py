"""`manage.py import_subscribers FILE.csv`: the admin's CSV import of
subscribers, from the shell (blog/subscriptions/csvimport.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from blog.subscriptions import csvimport


class Command(BaseCommand):
    help = (
        "Import subscribers to new posts from a CSV file with the columns email, "
        "consented_at and (optionally) categories. Every line is checked first; "
        "a file with any problem imports nothing. Addresses already here are "
        "left as they are."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")

    def handle(self, *, file: Path, **options) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        try:
            result = csvimport.import_csv(data)
        except csvimport.ImportRefused as refusal:
            raise CommandError(
                "Nothing was imported:\n" + "\n".join(refusal.problems)
            ) from refusal
        self.stdout.write(
            f"Imported: {result.added}. Already here, and left as they were: "
            f"{result.already_here}."
        )
