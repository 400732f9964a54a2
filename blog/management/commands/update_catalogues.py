"""Refresh the translation catalogues from the code, then compile them."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

# What is not ours to translate, or not shipped: makemessages would read it.
IGNORED = [
    ".venv",
    "node_modules",
    "staticfiles",
    "media",
    "e2e-artifacts",
    "bench",
    "fixtures",
    "tests",
    ".cache",
]


class Command(BaseCommand):
    help = (
        "Bring locale/*/LC_MESSAGES/django.po and djangojs.po up to date with "
        "the strings marked in the templates, the Python code and static/js "
        "(new ones come in untranslated, gone ones are dropped), then compile "
        "the .mo files the site reads. --locale adds a language."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--locale",
            "-l",
            action="append",
            default=[],
            help="Start a catalogue for this language too (e.g. ja, pt_BR).",
        )
        parser.add_argument(
            "--no-compile",
            action="store_true",
            help="Update the .po files only.",
        )

    def handle(self, *args, locale: list[str], no_compile: bool, **options) -> None:
        verbosity = options["verbosity"]
        for domain in ("django", "djangojs"):
            if locale:
                call_command(
                    "makemessages",
                    locale=locale,
                    domain=domain,
                    ignore_patterns=IGNORED,
                    no_obsolete=True,
                    verbosity=verbosity,
                )
            call_command(
                "makemessages",
                all=True,
                domain=domain,
                ignore_patterns=IGNORED,
                no_obsolete=True,
                verbosity=verbosity,
            )
        if not no_compile:
            call_command(
                "compilemessages", ignore_patterns=IGNORED, verbosity=verbosity
            )
