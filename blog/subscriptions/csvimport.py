"""Subscribers from a CSV file of addresses, with the dates they consented.

The file's first line names its columns: `email` and `consented_at`
(required), `categories` (optional: category slugs separated by spaces or
semicolons; none means every post). A consent date is a date
(2024-05-31) or a date and time (2024-05-31 14:05, 2024-05-31T14:05:00Z);
without a time zone, the site's. Every line is checked before anything is
written: a file with any problem is refused whole, each problem named with
its line, and nothing is imported. Addresses already here are left as they
are (someone who unsubscribed is never subscribed again by an import).
Imported subscribers are confirmed: they consented where they came from,
and their consent date is the one in the file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from blog import locale
from blog.models import Category
from blog.subscriptions.models import Subscriber, normalized

REQUIRED = ("email", "consented_at")
SHOWN_PROBLEMS = 20  # a bad file lists this many, then says how many more


class ImportRefused(Exception):
    """The file cannot be imported; `problems` says why, line by line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Row:
    line: int
    email: str
    consented_at: datetime
    categories: list[Category] = field(default_factory=list)


@dataclass(frozen=True)
class Imported:
    added: int
    already_here: int


def consent_date(value: str) -> datetime | None:
    value = value.strip()
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            return None
        moment = datetime.combine(day, time())
    if timezone.is_naive(moment):
        with locale.site_locale():
            moment = timezone.make_aware(moment)
    return moment


def read(text: str) -> list[Row]:
    """Every row of the file, checked; raises ImportRefused."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportRefused(
            [
                _(
                    "The first line must name the columns email and consented_at "
                    "(and categories, if you want them); this file's first line "
                    "is: %(line)s"
                )
                % {"line": ", ".join(reader.fieldnames or []) or _("empty")}
            ]
        )
    reader.fieldnames = header
    by_slug = {category.slug: category for category in Category.objects.all()}
    now = timezone.now()
    rows: list[Row] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if None in record:
            problems.append(
                _("Line %(line)s has more values than the first line has columns.")
                % {"line": line}
            )
            continue
        email = normalized(record.get("email") or "")
        if not email and not any((value or "").strip() for value in record.values()):
            continue  # an empty line
        try:
            validate_email(email)
        except ValidationError:
            problems.append(
                _("Line %(line)s: “%(email)s” is not an email address.")
                % {"line": line, "email": record.get("email") or ""}
            )
            continue
        if email in seen:
            problems.append(
                _("Line %(line)s: %(email)s is on line %(first)s already.")
                % {"line": line, "email": email, "first": seen[email]}
            )
            continue
        seen[email] = line
        consented_at = consent_date(record.get("consented_at") or "")
        if consented_at is None:
            problems.append(
                _(
                    "Line %(line)s: “%(value)s” is not a date (write 2024-05-31, "
                    "or 2024-05-31 14:05)."
                )
                % {"line": line, "value": record.get("consented_at") or ""}
            )
            continue
        if consented_at > now:
            problems.append(
                _("Line %(line)s: the consent date %(value)s is in the future.")
                % {"line": line, "value": record.get("consented_at")}
            )
            continue
        slugs = [s for s in re.split(r"[;\s]+", record.get("categories") or "") if s]
        unknown = [slug for slug in slugs if slug not in by_slug]
        if unknown:
            problems.append(
                _("Line %(line)s: there is no category %(slugs)s.")
                % {"line": line, "slugs": ", ".join(unknown)}
            )
            continue
        rows.append(Row(line, email, consented_at, [by_slug[s] for s in slugs]))
    if not rows and not problems:
        problems.append(_("The file has no addresses in it."))
    if problems:
        more = len(problems) - SHOWN_PROBLEMS
        shown = problems[:SHOWN_PROBLEMS]
        if more > 0:
            shown.append(_("…and %(count)s more.") % {"count": more})
        raise ImportRefused(shown)
    return rows


def ids_by_email(emails: list[str]) -> dict[str, int]:
    """The subscribers among `emails`, asked in slices: SQLite takes a
    bounded number of values in one query."""
    found: dict[str, int] = {}
    for start in range(0, len(emails), 500):
        rows = Subscriber.objects.filter(email__in=emails[start : start + 500])
        found.update(rows.values_list("email", "pk"))
    return found


def import_rows(rows: list[Row]) -> Imported:
    """Write the new subscribers, all or none."""
    with transaction.atomic():
        here = ids_by_email([row.email for row in rows])
        new = [row for row in rows if row.email not in here]
        Subscriber.objects.bulk_create(
            (
                Subscriber(
                    email=row.email,
                    state=Subscriber.State.CONFIRMED,
                    source=Subscriber.Source.IMPORT,
                    confirmed_at=row.consented_at,
                )
                for row in new
            ),
            batch_size=500,
        )
        filed = [row for row in new if row.categories]
        ids = ids_by_email([row.email for row in filed])
        Through = Subscriber.categories.through
        Through.objects.bulk_create(
            (
                Through(subscriber_id=ids[row.email], category_id=category.pk)
                for row in filed
                for category in row.categories
            ),
            batch_size=500,
        )
    return Imported(added=len(new), already_here=len(rows) - len(new))


def import_csv(data: bytes) -> Imported:
    """Read and import a CSV file's bytes (UTF-8, with or without a BOM)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            [_("The file is not UTF-8 text (save it as CSV UTF-8 and try again).")]
        ) from error
    return import_rows(read(text))
