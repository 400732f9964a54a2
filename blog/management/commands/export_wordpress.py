"""python manage.py export_wordpress [FILE]: moves the blog back out."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from blog.wordpress import write_export


class Command(BaseCommand):
    help = (
        "Writes everything Inkwell holds as a WordPress export (WXR 1.2): "
        "authors, categories, tags, posts, pages, comments with their threads "
        "and states, and former post addresses as _wp_old_slug. WordPress's "
        "Tools > Import > WordPress reads it, as does import_wordpress."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "output",
            nargs="?",
            type=Path,
            help="The file to write (.xml); without it, standard output.",
        )

    def handle(self, *args, **options) -> None:
        output = options["output"]
        if output is None:
            write_export(_Unended(self.stdout))
            return
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                counts = write_export(out)
            partial.replace(output)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Cannot write {output}: {error.strerror}") from None
        summary = ", ".join(f"{number} {kind}" for kind, number in counts.items())
        self.stdout.write(f"Wrote {output}: {summary or 'nothing to export'}.")


class _Unended:
    """The command's stdout, written as is (OutputWrapper adds newlines)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write(text, ending="")
