"""The translation catalogues against the code: what the code asks to be
translated today, and what each shipped catalogue (locale/*/LC_MESSAGES)
lacks of it.

The strings are found exactly as `makemessages` finds them (its own file
walk, template conversion and xgettext call, through a subclass that writes
to a folder of its own and leaves the catalogues alone), so a string marked
a minute ago counts before anyone has run `update_catalogues`. Then GNU
gettext's own tools judge each catalogue: msgmerge (what makemessages would
make of it), msgattrib (what is untranslated or fuzzy), msgfmt --check
(placeholders and the number of plural forms).
"""

from __future__ import annotations

import contextlib
import gettext
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.commands import makemessages
from django.utils.functional import cached_property

DOMAINS = ("django", "djangojs")

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


def locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def shipped_catalogues() -> list[Path]:
    """Every .po file we ship, django.po and djangojs.po of each language."""
    return sorted(locale_dir().glob("*/LC_MESSAGES/*.po"))


class _Template(makemessages.BuildFile):
    """A template converted for xgettext into the work folder, not beside
    itself (where makemessages puts it, in the source tree)."""

    @cached_property
    def work_path(self) -> str:
        if not self.is_templatized:
            return self.path
        return os.path.join(self.command.work_dir, f"{os.path.normpath(self.path)}.py")

    def preprocess(self) -> None:
        if self.is_templatized:
            os.makedirs(os.path.dirname(self.work_path), exist_ok=True)
        super().preprocess()

    def postprocess_messages(self, msgs: str) -> str:
        # xgettext names the converted copy: name the template, as
        # makemessages does ("#: templates/base.html:12").
        if not self.is_templatized:
            return msgs
        return msgs.replace(self.work_path, os.path.normpath(self.path))


class _Extract(makemessages.Command):
    """makemessages, stopped once it has the .pot: written into `work_dir`,
    no catalogue touched."""

    build_file_class = _Template

    def __init__(self, work_dir: str) -> None:
        super().__init__()
        self.work_dir = work_dir

    def process_locale_dir(self, locale_dir, files) -> None:
        super().process_locale_dir(self.work_dir, files)

    def build_potfiles(self) -> list[str]:
        self.locale_paths = [self.work_dir]
        return super().build_potfiles()

    def write_po_file(self, potfile, locale) -> None:
        pass

    def remove_potfiles(self) -> None:
        pass


def extract(domain: str, work_dir: str, root: Path | None = None) -> Path:
    """A .pot of every string the code under `root` (the project) marks for
    `domain` today, in `work_dir`, with the places that use each
    ("#: templates/base.html:12")."""
    with contextlib.chdir(root or settings.BASE_DIR):
        call_command(
            _Extract(work_dir),
            all=True,
            domain=domain,
            ignore_patterns=list(IGNORED),
            verbosity=0,
        )
    return Path(work_dir, f"{domain}.pot")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True)


def _entries(po_text: str) -> str:
    """A catalogue's entries without its header (msgid "")."""
    blocks = po_text.strip().split("\n\n")
    return "\n\n".join(
        b for b in blocks if not re.search(r'^msgid ""\nmsgstr', b, re.M)
    )


def problems(po: Path, pot: Path, work_dir: str) -> list[str]:
    """What `po` lacks for the strings in `pot`, each problem with the
    entries concerned, as a translator would look them up; [] if none."""
    found = []
    merged = Path(work_dir, f"{po.parent.parent.name}-{po.name}")
    # What makemessages would make of the catalogue, without its guesses
    # (fuzzy matching) for the new strings.
    result = _run(
        "msgmerge",
        "--quiet",
        "--no-fuzzy-matching",
        "-o",
        str(merged),
        str(po),
        str(pot),
    )
    if result.returncode:
        return [f"msgmerge could not read it:\n{result.stderr}"]
    for option, what in (
        ("--untranslated", "no translation"),
        ("--only-fuzzy", "fuzzy translations (to be checked, then unmarked)"),
    ):
        listed = _run("msgattrib", option, "--no-obsolete", str(merged)).stdout
        if entries := _entries(listed):
            found.append(f"{what}:\n{entries}")
    compiled = Path(work_dir, f"{merged.name}.mo")
    result = _run("msgfmt", "--check", "-o", str(compiled), str(merged))
    if result.returncode:
        found.append(f"msgfmt --check refuses it:\n{result.stderr}")
    else:
        with compiled.open("rb") as mo:
            catalog = gettext.GNUTranslations(mo)._catalog
        # msgfmt counts a plural entry as translated when its first form is.
        if empty := sorted(
            {
                key[0]
                for key, text in catalog.items()
                if isinstance(key, tuple) and not text
            }
        ):
            found.append(
                "plural forms left empty:\n" + "\n".join(f"msgid {m!r}" for m in empty)
            )
    return found


def stale_compilation(po: Path, work_dir: str) -> bool:
    """Whether the .mo beside `po` (what the site reads) says other than
    `po`. Compared by what they hold, not by date: a checkout gives every
    file the time it was written."""
    mo = po.with_suffix(".mo")
    if not mo.exists():
        return True
    fresh = Path(work_dir, f"{po.parent.parent.name}-{po.stem}.fresh.mo")
    subprocess.run(["msgfmt", "-o", str(fresh), str(po)], check=True)
    with fresh.open("rb") as new, mo.open("rb") as shipped:
        return (
            gettext.GNUTranslations(new)._catalog
            != gettext.GNUTranslations(shipped)._catalog
        )


def check() -> Iterator[tuple[Path, list[str]]]:
    """Each shipped catalogue with what it lacks (see `problems`), and
    whether its compiled .mo is behind."""
    with tempfile.TemporaryDirectory() as work_dir:
        pots = {domain: extract(domain, work_dir) for domain in DOMAINS}
        for po in shipped_catalogues():
            found = problems(po, pots[po.stem], work_dir)
            if stale_compilation(po, work_dir):
                found.append(
                    f"{po.with_suffix('.mo').name} is not {po.name} compiled: "
                    "run `python manage.py compilemessages`"
                )
            yield po, found
