"""Refresh the translation catalogues from the code, then compile them; or,
with --check, say what they lack."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from blog import catalogues
from blog.catalogues import IGNORED


class Command(BaseCommand):
    help = (
        "Bring locale/*/LC_MESSAGES/django.po and djangojs.po up to date with "
        "the strings marked in the templates, the Python code and static/js "
        "(new ones come in untranslated, gone ones are dropped), then compile "
        "the .mo files the site reads. --locale adds a language. --check "
        "changes nothing and lists what each catalogue lacks."
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
        parser.add_argument(
            "--check",
            action="store_true",
            help=(
                "Change nothing; list the strings each catalogue does not "
                "translate (missing, empty, fuzzy, a plural form short, a "
                "placeholder wrong) and the .mo files not compiled from their "
                ".po, and fail if there are any."
            ),
        )

    def handle(
        self, *args, locale: list[str], no_compile: bool, check: bool, **options
    ) -> None:
        if check:
            self.report_gaps()
            return
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

    def report_gaps(self) -> None:
        incomplete = 0
        for po, found in catalogues.check():
            if found:
                incomplete += 1
                self.stdout.write(self.style.ERROR(str(po)))
                for problem in found:
                    self.stdout.write(problem + "\n")
        if incomplete:
            raise CommandError(
                f"{incomplete} catalogue(s) incomplete: translate what is listed "
                "(run update_catalogues first for the new strings), then "
                "compilemessages."
            )
        self.stdout.write("Every catalogue translates every string the code marks.")
