"""Writing a WordPress export into Inkwell: users, categories, tags, posts
and redirects, in bulk, inside one transaction.

The comments of each batch of posts are written by whoever listens to
`posts_written` (the comments app does, in `CommentsConfig.ready()`): the blog
app never imports the comments app.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import itertools
import posixpath
import re
import zipfile
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.redirects.models import Redirect
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.dispatch import Signal
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_noop, ngettext
from taggit.models import Tag, TaggedItem

from blog.models import (
    PICTURE_EXTENSIONS,
    Category,
    MediaFile,
    Post,
    WordPressTag,
    picture_descriptions,
)
from blog.redirects import decoded_path, normalise_path
from blog.wordpress.content import Attachment, convert_content, plain
from blog.wordpress.wxr import (
    Author,
    Channel,
    ExportError,
    Item,
    MisencodedBytes,
    Repairs,
    Term,
    UnboundPrefix,
    as_int,
    bind_prefixes,
    read_export,
)

BATCH_SIZE = 500
EXAMPLES_PER_NOTE = 5
# The kinds of things counted, in the order the report shows them.
KINDS = (
    "authors", "categories", "tags", "posts", "pages", "comments", "redirects",
    "menus", "menu items", "media files",
)  # fmt: skip
# WordPress's post statuses (for posts and pages alike); the others: skipped.
STATUSES = {
    "publish": Post.Status.PUBLISHED,
    "future": Post.Status.PUBLISHED,  # a publish time ahead: scheduled
    "private": Post.Status.PRIVATE,
    "draft": Post.Status.DRAFT,
    "pending": Post.Status.DRAFT,
}
SKIPPED_STATUSES = {"trash", "auto-draft", "inherit"}


class Report:
    """What an import did: counts per kind and the reason for every change."""

    COLUMNS = ("created", "updated", "unchanged", "skipped")

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.notes: dict[str, list[str]] = defaultdict(list)
        self.note_counts: Counter = Counter()

    def count(self, kind: str, outcome: str, number: int = 1) -> None:
        self.counts[kind][outcome] += number

    def note(self, reason: str, example: str = "") -> None:
        self.note_counts[reason] += 1
        if example and len(self.notes[reason]) < EXAMPLES_PER_NOTE:
            self.notes[reason].append(example)

    def rows(self) -> list[tuple[str, list[int]]]:
        """Each kind counted (`KINDS` first) with its number per column."""
        kinds = [*KINDS, *sorted(set(self.counts) - set(KINDS))]
        return [(k, [self.counts[k][c] for c in self.COLUMNS]) for k in kinds]

    def as_dict(self) -> dict:
        """The report as JSON holds it (the admin keeps it with the import)."""
        return {
            "columns": list(self.COLUMNS),
            "counts": [[kind, numbers] for kind, numbers in self.rows()],
            "notes": [
                [reason, number, self.notes.get(reason, [])]
                for reason, number in sorted(self.note_counts.items())
            ],
        }

    def lines(self) -> list[str]:
        rows = [f"{'':14}" + "".join(f"{column:>11}" for column in self.COLUMNS)]
        for kind, numbers in self.rows():
            rows.append(f"{kind:14}" + "".join(f"{n:>11}" for n in numbers))
        if self.note_counts:
            rows += ["", "Skipped or changed, and why:"]
            for reason, number, examples in self.as_dict()["notes"]:
                rows.append(f"  {number:>6}  {reason}")
                rows += [f"          - {example}" for example in examples]
                if number > len(examples) > 0:
                    rows.append(f"          … and {number - len(examples)} more")
        return rows


LOGIN_INVALID = re.compile(r"[^\w .@+-]")


def clean_login(login: str) -> str:
    """A login as WordPress's importer reads it (`sanitize_user(..., strict)`):
    strays such as `>themereviewteam` stripped."""
    return LOGIN_INVALID.sub("", strip_tags(login or "")).strip()


def wordpress_date(gmt: str, local: str = "", rfc822: str = ""):
    """The first valid of a WordPress GMT date, its local date (the site's
    time zone) and an RFC 822 date (`pubDate`), else None."""
    for value, zone in (
        (gmt, datetime.UTC),
        (local, zoneinfo.ZoneInfo(settings.TIME_ZONE)),
    ):
        if value and not value.startswith("0000-00-00"):
            try:
                return datetime.datetime.fromisoformat(value).replace(tzinfo=zone)
            except ValueError:
                pass
    try:
        return email.utils.parsedate_to_datetime(rfc822) if rfc822 else None
    except (TypeError, ValueError):
        return None


def clean_slug(raw: str, fallback: str, max_length: int = 200) -> str:
    """A slug from a WordPress one, in the alphabet it was written in
    (`%e7%bd%91` decoded to `网`); `max_length` counts the escaped form, as an
    address holds it (a redirect's path has room for 200)."""
    slug = slugify(unquote(raw or ""), allow_unicode=True).strip("-")
    while len(quote(slug)) > max_length:
        slug = slug[:-1]
    return slug.strip("-") or fallback


def numbered(text: str, room: int, suffix: str = "-{}") -> Iterator[str]:
    """`text`, then `text-2`, `text-3`... each cut to `room` characters."""
    yield text
    for number in itertools.count(2):
        end = suffix.format(number)
        yield text[: room - len(end)] + end


def free_slug(slug: str, taken, max_length: int = 200) -> str:
    """`slug`, or `slug-2`, `slug-3`... whichever `taken` does not hold."""
    return next(s for s in numbered(slug, max_length) if s not in taken)


def free_name(name: str, taken, max_length: int = 100) -> str:
    """`name`, or `name (2)`... whichever `taken` (casefolded) does not hold."""
    names = numbered(name, max_length, " ({})")
    return next(n for n in names if n.casefold() not in taken)


def set_fields(obj, **values) -> bool:
    """Give `obj` `values`; whether that changed any."""
    changed = any(getattr(obj, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(obj, name, value)
    return changed


def parents_first(items: Iterable, key: Callable, parent: Callable) -> list:
    """`items` with each one's `parent` (an item or None) before it, whatever
    their order; a loop of parents is broken where it closes."""
    ordered, seen = [], set()

    def visit(item) -> None:
        if key(item) not in seen:
            seen.add(key(item))
            if parent(item) is not None:
                visit(parent(item))
            ordered.append(item)

    for item in items:
        visit(item)
    return ordered


def _path(url: str) -> str:
    """The site-relative part of an absolute WordPress URL."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def redirect_old(
    report: Report, pairs: dict[str, str], old: str, url: str, taken=None
) -> None:
    """Add `old` → `url` to `pairs`, unless `old` is the site's root, `url`
    or `taken(old)`, or too long for a redirect (skipped, noted)."""
    limit = Redirect._meta.get_field("old_path").max_length
    if len(old) > limit:
        report.count("redirects", "skipped")
        report.note(
            gettext("old addresses longer than %(limit)s characters not redirected")
            % {"limit": limit},
            old,
        )
    elif old not in {"/", url} and not (taken and taken(old)):
        pairs[old] = url


def record_redirects(pairs: dict[str, str], report: Report) -> None:
    """`blog.redirects.add_redirect` for many pairs at once, in a handful of
    queries, with its guarantees: a page live again stops redirecting (no
    loops), redirects to an old path follow it to the new one (no chains)."""
    limit = Redirect._meta.get_field("old_path").max_length
    pairs = {normalise_path(old): normalise_path(new) for old, new in pairs.items()}
    pairs = {
        old: new
        for old, new in pairs.items()
        if old != new and len(old) <= limit and len(new) <= limit
    }
    if not pairs:
        return
    site_redirects = Redirect.objects.filter(site_id=settings.SITE_ID)
    site_redirects.filter(old_path__in=set(pairs.values())).delete()
    for redirect in site_redirects.filter(new_path__in=list(pairs)):
        redirect.new_path = pairs[redirect.new_path]
        redirect.save(update_fields=["new_path"])
    existing = {r.old_path: r for r in site_redirects.filter(old_path__in=list(pairs))}
    changed = []
    for old, redirect in existing.items():
        if redirect.new_path != pairs[old]:
            redirect.new_path = pairs[old]
            changed.append(redirect)
    Redirect.objects.bulk_update(changed, ["new_path"])
    Redirect.objects.bulk_create(
        Redirect(site_id=settings.SITE_ID, old_path=old, new_path=new)
        for old, new in pairs.items()
        if old not in existing
    )
    report.count("redirects", "created", len(pairs) - len(existing))
    report.count("redirects", "updated", len(changed))
    report.count("redirects", "unchanged", len(existing) - len(changed))


def uploads_path(url: str) -> str | None:
    """Where a WordPress media URL lives inside wp-content/uploads, if it does."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if "/wp-content/uploads/" in path:
        return path.split("/wp-content/uploads/", 1)[1]
    if (parts.hostname or "").endswith(".files.wordpress.com"):
        return path.lstrip("/")
    return None


def uploads_member(name: str) -> str | None:
    """Where a file in a zip of the uploads (`x/wp-content/uploads/2019/a.jpg`,
    `uploads/2019/a.jpg`, `2019/a.jpg`) lives in them; None for a name that
    is absolute or climbs out (`../`)."""
    if "/wp-content/uploads/" in f"/{name}":
        name = f"/{name}".split("/wp-content/uploads/", 1)[1]
    elif name.startswith("uploads/"):
        name = name.removeprefix("uploads/")
    name = posixpath.normpath(name)
    if name.startswith(("/", "../")) or name in {".", ".."} or "\\" in name:
        return None
    return name


def original_upload(relative: str) -> str:
    """The file WordPress made `relative` from: photo-300x200.jpg and
    photo-scaled.jpg are copies of photo.jpg."""
    return re.sub(r"-(?:\d+x\d+|scaled)(\.\w+)$", r"\1", relative)


class MediaFiles:
    """Copies the uploads that posts use from `--media-dir` (a folder or a
    zip of wp-content/uploads) into our storage, once the transaction has
    committed: a failed or dry run leaves no stray files."""

    def __init__(self, root: Path, report: Report) -> None:
        self.root = Path(root).resolve()
        self.report = report
        self.wanted: dict[str, tuple[int, Callable]] = {}  # name: size, opener
        self.missing: set[str] = set()
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, zipfile.ZipInfo] = {}
        # The media library's descriptions of what is copied (storage name ->
        # text): WordPress's alt text of the attachment (by its file, which
        # the resized copies posts show share), else the post's own.
        self.attachment_alts: dict[str, str] = {}
        self.descriptions: dict[str, str] = {}
        if self.root.is_file():
            self.zip = zipfile.ZipFile(self.root)
            for info in self.zip.infolist():
                member = None if info.is_dir() else uploads_member(info.filename)
                if member:
                    self.members.setdefault(member, info)

    def describe(self, attachments: Iterable[Attachment]) -> None:
        """Note WordPress's alt text of its attachments (`_wp_attachment_image_alt`)."""
        for attachment in attachments:
            relative = uploads_path(attachment.url) if attachment.alt else None
            if relative:
                self.attachment_alts[original_upload(relative)] = attachment.alt

    def note_pictures(self, html: str) -> None:
        """Note the alt text the pictures copied for a converted post show."""
        for name, alt in picture_descriptions(html).items():
            self.descriptions.setdefault(name, alt)

    def rewrite(self, url: str) -> str:
        name = self.name_for(url)
        return default_storage.url(name) if name else url

    def name_for(self, url: str) -> str | None:
        """The storage name the file behind `url` is copied to, if we have it."""
        relative = uploads_path(url)
        found = self._find(relative) if relative else None
        if found is None:
            if relative and url not in self.missing:
                self.missing.add(url)
                self.report.note(
                    gettext(
                        "media files not found under --media-dir: links kept as "
                        "they were"
                    ),
                    url,
                )
                self.report.count("media files", "skipped")
            return None
        member, size, opener = found
        name = f"wordpress/{member}"
        self.wanted[name] = size, opener
        alt = self.attachment_alts.get(original_upload(relative))
        if alt:
            self.descriptions[name] = alt
        return name

    def _find(self, relative: str) -> tuple[str, int, Callable] | None:
        """The file's name inside the uploads, its size and its opener."""
        if self.zip is not None:
            member = uploads_member(relative)
            info = self.members.get(member) if member else None
            return info and (member, info.file_size, lambda: self.zip.open(info))
        source = (self.root / relative).resolve()
        if not source.is_relative_to(self.root) or not source.is_file():
            return None
        name = source.relative_to(self.root).as_posix()
        return name, source.stat().st_size, lambda: source.open("rb")

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def copy(self) -> None:
        for name, (size, opener) in sorted(self.wanted.items()):
            if default_storage.exists(name):
                if default_storage.size(name) == size:
                    self.report.count("media files", "unchanged")
                    if name.rpartition(".")[2].lower() in PICTURE_EXTENSIONS:
                        MediaFile.objects.register(name, size=size)
                    continue
                default_storage.delete(name)
                outcome = "updated"
            else:
                outcome = "created"
            with opener() as handle:
                stored = default_storage.save(name, File(handle, name=name))
            if stored.rpartition(".")[2].lower() in PICTURE_EXTENSIONS:
                MediaFile.objects.register(stored, size=size)
                if stored != name and name in self.descriptions:
                    self.descriptions[stored] = self.descriptions[name]
            self.report.count("media files", outcome)
        MediaFile.objects.describe(self.descriptions)


@dataclasses.dataclass
class Scan:
    """What the first pass over the file learns before anything is written."""

    channel: Channel | None = None
    authors: dict[str, Author] = dataclasses.field(default_factory=dict)
    terms: dict[tuple[str, str], Term] = dataclasses.field(default_factory=dict)
    attachments: dict[int, Attachment] = dataclasses.field(default_factory=dict)
    creators: list[str] = dataclasses.field(default_factory=list)
    items: int = 0
    unattributed: int = 0  # posts without an author


SKIPPED_TYPES = {
    "attachment": (
        "attachments",
        gettext_noop(
            "attachment items skipped: their files stay linked from the posts"
        ),
    ),
    "revision": (
        "revisions",
        gettext_noop(
            "revisions in the export not imported: Inkwell keeps a post's "
            "revisions from its next edit here"
        ),
    ),
}
# Post meta that the import reads itself, or WordPress's editing state
# (who edits now, pings to send): not kept as custom fields.
CONSUMED_META = {"_wp_old_slug", "_thumbnail_id", "_edit_lock", "_edit_last"}


@dataclasses.dataclass
class Plan:
    """One post of a batch: its item, its row, the tags and other categories
    it should have."""

    item: Item
    post: Post
    tag_ids: list[int]
    category_ids: list[int]


posts_written = Signal()
"""Sent for each batch of posts written, inside the import's transaction,
with `run` (the `WordPressImport`) and `posts`, (`Item`, saved `Post`) pairs;
for pages, (`Item`, `Page`) pairs and the pages' `content_type`. An exception
rolls the whole import back."""


def _same_term(
    by_slug: dict[str, Category], slug: str, name: str, wp_id: int | None
) -> Category | None:
    """The category here that an imported one is: the same name at its slug,
    or at the slug with a number that an earlier import gave it."""
    for candidate in numbered(slug, 200):
        category = by_slug.get(candidate)
        if category is None or (
            category.name.casefold() == name.casefold()
            and (wp_id is None or category.wordpress_id in (None, wp_id))
        ):
            return category


class WordPressImport:
    """One import of one export file; `run()` returns a `Report`."""

    def __init__(
        self,
        path: Path | str,
        *,
        author_map: dict[str, str] | None = None,
        default_author: str | None = None,
        skip_pings: bool = False,
        media_dir: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.author_map = author_map or {}
        self.default_author = default_author
        self.default_user = None
        self.repairs = Repairs()
        self.seen_post_ids: set[int] = set()
        # Whatever listeners of posts_written keep from one batch to the next.
        self.state: dict = {}
        self.skip_pings = skip_pings
        self.progress = progress
        self.report = Report()
        self.media = MediaFiles(media_dir, self.report) if media_dir else None
        self.users: dict[str, object] = {}
        self.users_by_wp_id: dict[int, object] = {}
        self.categories: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.used_slugs: set[str] = set()
        self.post_type = ContentType.objects.get_for_model(Post)

    def run(self, *, dry_run: bool = False) -> Report:
        scan = self.scan()
        if self.media:
            self.media.describe(scan.attachments.values())
        mapped_users = self._mapped_users()
        self.default_user = self._default_user(scan)
        with transaction.atomic():
            self._import_authors(scan, mapped_users)
            self._import_categories(scan)
            self._import_tags(scan)
            self._import_items(scan)
            if dry_run:
                transaction.set_rollback(True)
        try:
            if self.media and not dry_run:
                self.media.copy()
        finally:
            if self.media:
                self.media.close()
        return self.report

    # The first pass -----------------------------------------------------------

    def scan(self) -> Scan:
        """Read the whole file once, failing on bad XML before writing
        anything; read it again for each fault `wxr.Repairs` mends."""
        for _ in range(100):
            try:
                scan = self._scan()
            except UnboundPrefix as error:
                bind_prefixes(self.repairs, error.prefixes)
                continue
            except MisencodedBytes:
                self.repairs.fix_encoding = True
                continue
            if self.repairs.prefixes:
                self.report.note(
                    gettext(
                        "namespace prefixes used without a declaration (as "
                        "WordPress.com exports do): bound to their usual meaning"
                    ),
                    ", ".join(sorted(self.repairs.prefixes)),
                )
            for number, reason in (
                (
                    self.repairs.misencoded_bytes,
                    gettext(
                        "bytes that are not UTF-8 read as Windows-1252 (é, ü, “…”)"
                    ),
                ),
                (
                    self.repairs.control_characters,
                    gettext(
                        "control characters that XML forbids removed from the file"
                    ),
                ),
            ):
                if number:
                    characters = ngettext(
                        "%(count)s character", "%(count)s characters", number
                    )
                    self.report.note(reason, characters % {"count": number})
            return scan
        raise ExportError(
            gettext("The file uses too many undeclared namespace prefixes.")
        )

    def _scan(self) -> Scan:
        scan = Scan()
        creators: dict[str, None] = {}
        self.repairs.control_characters = self.repairs.misencoded_bytes = 0
        records = read_export(
            self.path, with_comments=False, repairs=self.repairs, count_repairs=True
        )
        for record in records:
            if isinstance(record, Channel):
                scan.channel = record
            elif isinstance(record, Author):
                record.login = clean_login(record.login)
                if record.login:
                    scan.authors.setdefault(record.login, record)
            elif isinstance(record, Term):
                if record.nicename:
                    scan.terms.setdefault((record.taxonomy, record.nicename), record)
            else:
                scan.items += 1
                if record.post_type == "attachment":
                    scan.attachments[record.wp_id] = Attachment(
                        url=record.attachment_url or record.link,
                        title=plain(record.title),
                        alt=plain(record.meta.get("_wp_attachment_image_alt", "")),
                        parent=record.parent,
                        menu_order=record.menu_order,
                        wp_id=record.wp_id,
                    )
                elif record.post_type == "page":
                    creators.setdefault(clean_login(record.creator), None)
                elif record.post_type == "post":
                    creators.setdefault(clean_login(record.creator), None)
                    if not clean_login(record.creator):
                        scan.unattributed += 1
                    for taxonomy, nicename, name in record.terms:
                        if taxonomy in {"category", "post_tag"} and nicename:
                            scan.terms.setdefault(
                                (taxonomy, nicename),
                                Term(taxonomy=taxonomy, nicename=nicename, name=name),
                            )
        scan.creators = [login for login in creators if login]
        return scan

    # Authors, categories, tags ------------------------------------------------

    def _mapped_users(self) -> dict[str, object]:
        wanted = set(self.author_map.values())
        found = get_user_model().objects.in_bulk(wanted, field_name="username")
        unknown = sorted(wanted - set(found))
        if unknown:
            raise ExportError(
                gettext("--author-map names users that do not exist here: %(users)s.")
                % {"users": ", ".join(unknown)}
            )
        return {clean_login(old): found[new] for old, new in self.author_map.items()}

    def _default_user(self, scan: Scan):
        """Who gets the posts that name no author: `--default-author`, else
        the first superuser (None: the export's first author, see
        `_post_values`)."""
        User = get_user_model()
        if self.default_author:
            user = User.objects.filter(username=self.default_author).first()
            if user is None:
                raise ExportError(
                    gettext(
                        "--default-author names a user that does not exist here: "
                        "%(user)s."
                    )
                    % {"user": self.default_author}
                )
            return user
        if not scan.unattributed:
            return None
        return (
            User.objects.filter(is_superuser=True, is_active=True)
            .order_by("pk")
            .first()
        )

    def _import_authors(self, scan: Scan, mapped_users: dict[str, object]) -> None:
        User = get_user_model()
        authors = dict(scan.authors)
        for login in scan.creators:
            authors.setdefault(login, Author(login=login))
        for login in mapped_users:
            if login not in authors:
                self.report.note(
                    gettext("--author-map logins not found in the export"), login
                )
        usernames = {login: self._username(login) for login in authors}
        existing = User.objects.in_bulk(set(usernames.values()), field_name="username")
        new_users = []
        for login, author in authors.items():
            if login in mapped_users:
                user = mapped_users[login]
                self.report.count("authors", "unchanged")
                self.report.note(
                    gettext("authors mapped onto existing users (--author-map)"),
                    f"{login} → {user.get_username()}",
                )
            elif usernames[login] in existing:
                user = existing[usernames[login]]
                self.report.count("authors", "unchanged")
            else:
                first, last = author.first_name, author.last_name
                shown = plain(author.display_name)
                if shown and shown != login and shown != f"{first} {last}".strip():
                    # Pages show first and last name: the name WordPress
                    # showed goes there whole.
                    if first or last:
                        self.report.note(
                            gettext(
                                "authors shown by their WordPress display name, not "
                                "their first and last names"
                            ),
                            gettext("%(login)s: %(shown)s (was %(first)s %(last)s)")
                            % {
                                "login": login,
                                "shown": shown,
                                "first": first,
                                "last": last,
                            },
                        )
                    first, last = shown, ""
                user = User(
                    username=usernames[login],
                    email=author.email[:254],
                    first_name=plain(first)[:150],
                    last_name=plain(last)[:150],
                )
                user.set_unusable_password()
                new_users.append(user)
                existing[user.username] = user
                self.report.count("authors", "created")
            self.users[login] = user
            if author.wp_id:
                self.users_by_wp_id[author.wp_id] = user
        User.objects.bulk_create(new_users)

    def _username(self, login: str) -> str:
        username = login.replace(" ", "_")[:150]
        if username != login:
            self.report.note(
                gettext("logins changed to fit Django usernames"),
                f"{login} → {username}",
            )
        return username

    def _import_categories(self, scan: Scan) -> None:
        """Each category found by its WordPress id, else by its slug and name
        (never merged with another name: the imported one gets a number)."""
        terms = [t for (taxonomy, _), t in scan.terms.items() if taxonomy == "category"]
        slugs = {t.nicename: clean_slug(t.nicename, "category") for t in terms}
        for term in terms:
            if slugs[term.nicename] != unquote(term.nicename):
                self.report.note(
                    gettext("category slugs made URL-safe"),
                    f"{term.nicename} → {slugs[term.nicename]}",
                )
        # Blogs have tens or hundreds of categories: all of them in one query.
        by_slug = {c.slug: c for c in Category.objects.all()}
        by_wp_id = {c.wordpress_id: c for c in by_slug.values() if c.wordpress_id}
        by_nicename = {t.nicename: t for t in terms}
        for term in parents_first(
            terms, lambda t: t.nicename, lambda t: by_nicename.get(t.parent)
        ):
            slug = slugs[term.nicename]
            parent_id = self.categories.get(term.parent) if term.parent else None
            if term.parent and parent_id is None:
                self.report.note(
                    gettext("categories whose parent is missing made top-level"),
                    term.nicename,
                )
            name = plain(term.name)[:200] or slug
            values = {
                "name": name,
                "description": term.description,
                "parent_id": parent_id,
            }
            category = by_wp_id.get(term.wp_id) if term.wp_id else None
            if category is None:
                category = _same_term(by_slug, slug, name, term.wp_id)
            if category is None:
                free = free_slug(slug, by_slug)
                if free != slug:
                    self.report.note(
                        gettext(
                            "categories whose slug another category uses: a number "
                            "added"
                        ),
                        f"{name}: {slug} → {free}",
                    )
                category = Category.objects.create(
                    slug=free, wordpress_id=term.wp_id, **values
                )
                by_slug[category.slug] = category
                self.report.count("categories", "created")
            elif set_fields(
                category, wordpress_id=term.wp_id or category.wordpress_id, **values
            ):
                category.save()
                self.report.count("categories", "updated")
            else:
                self.report.count("categories", "unchanged")
            if term.wp_id:
                by_wp_id[term.wp_id] = category
            self.categories[term.nicename] = category.pk

    def _import_tags(self, scan: Scan) -> None:
        """Each tag found by its WordPress id, else by its name; two WordPress
        tags are never merged (the imported one's name and slug get numbers)."""
        terms = [t for (taxonomy, _), t in scan.terms.items() if taxonomy == "post_tag"]
        by_slug = {tag.slug: tag for tag in Tag.objects.all()}
        by_name = {tag.name.casefold(): tag for tag in by_slug.values()}
        by_pk = {tag.pk: tag for tag in by_slug.values()}
        by_wp_id = {
            wp_id: by_pk[tag_id]
            for tag_id, wp_id in WordPressTag.objects.values_list("tag", "wordpress_id")
        }
        wp_id_of = {id(tag): wp_id for wp_id, tag in by_wp_id.items()}
        new_tags, renamed, new_origins, counted = [], [], [], set()
        for term in terms:
            slug = clean_slug(term.nicename, "tag", max_length=100)
            name = (plain(term.name) or slug)[:100]
            tag = by_wp_id.get(term.wp_id) if term.wp_id else None
            if tag is None:
                tag = by_name.get(name.casefold())
                if tag is not None and term.wp_id and id(tag) in wp_id_of:
                    tag = None  # another WordPress tag of the same name
                if tag is not None and tag.slug != slug:
                    self.report.note(
                        gettext("tags merged into an existing tag of the same name"),
                        f"{term.nicename} → {tag.slug}",
                    )
            if tag is None:
                free = free_slug(slug, by_slug, max_length=100)
                if free != slug:
                    self.report.note(
                        gettext("tags whose slug another tag uses: a number added"),
                        f"{name}: {slug} → {free}",
                    )
                shown = free_name(name, by_name)
                if shown != name:
                    self.report.note(
                        gettext(
                            "tags named as another WordPress tag: a number added to "
                            "the name"
                        ),
                        f"{name} → {shown}",
                    )
                tag = Tag(name=shown, slug=free)
                new_tags.append(tag)
                by_slug[free] = by_name[shown.casefold()] = tag
                self.report.count("tags", "created")
            elif id(tag) not in counted:
                wanted = name if name.casefold() == tag.name.casefold() else None
                if wanted is None and name.casefold() not in by_name:
                    wanted = name  # renamed in WordPress, and the name is free
                if wanted is not None and wanted != tag.name:
                    del by_name[tag.name.casefold()]
                    tag.name = wanted
                    by_name[wanted.casefold()] = tag
                    renamed.append(tag)
                    self.report.count("tags", "updated")
                else:
                    self.report.count("tags", "unchanged")
            counted.add(id(tag))
            self.tags[term.nicename] = tag
            if term.wp_id and term.wp_id not in by_wp_id and id(tag) not in wp_id_of:
                by_wp_id[term.wp_id], wp_id_of[id(tag)] = tag, term.wp_id
                new_origins.append((tag, term.wp_id))
        Tag.objects.bulk_create(new_tags)
        Tag.objects.bulk_update(renamed, ["name"])
        WordPressTag.objects.bulk_create(
            WordPressTag(tag=tag, wordpress_id=wp_id) for tag, wp_id in new_origins
        )
        self.tags = {nicename: tag.pk for nicename, tag in self.tags.items()}

    # Items --------------------------------------------------------------------

    def _import_items(self, scan: Scan) -> None:
        # Pages and menus are written once the posts are (blog/wordpress/
        # pages.py): menus link to both, and a blog has few of either.
        from blog.wordpress import pages

        kept: dict[str, list[Item]] = {"post": [], "page": [], "nav_menu_item": []}
        records = read_export(self.path, repairs=self.repairs)
        items = (record for record in records if isinstance(record, Item))
        for done, record in enumerate(items, start=1):
            if self.progress and (done % 100 == 0 or done == scan.items):
                self.progress(done, scan.items)
            if record.post_type in kept:
                kept[record.post_type].append(record)
                if len(kept["post"]) >= BATCH_SIZE:
                    self._import_posts(kept["post"], scan)
                    kept["post"] = []
                continue
            if record.post_type in SKIPPED_TYPES:
                kind, reason = SKIPPED_TYPES[record.post_type]
                reason = gettext(reason)
            else:
                kind = "other items"
                reason = gettext("items of type %(type)s skipped") % {
                    "type": repr(record.post_type)
                }
            self.report.count(kind, "skipped")
            self.report.note(reason, plain(record.title) or f"#{record.wp_id}")
            if record.comments:
                self.report.count("comments", "skipped", len(record.comments))
                for comment in record.comments:
                    self.report.note(
                        gettext("comments on skipped items (pages and others) skipped"),
                        gettext("#%(id)s on %(title)s")
                        % {
                            "id": comment.wp_id,
                            "title": plain(record.title) or record.wp_id,
                        },
                    )
        if kept["post"]:
            self._import_posts(kept["post"], scan)
        written = pages.write_pages(self, kept["page"], scan)
        pages.write_menus(self, kept["nav_menu_item"], scan, written)
        if self.progress:
            self.progress(scan.items, scan.items)

    def _import_posts(self, items: list[Item], scan: Scan) -> None:
        items = self._unseen(items)
        existing = self._existing_posts(items)
        taken = set(
            Post.objects.filter(
                slug__in=[
                    self._wanted_slug(item)
                    for item in items
                    if item.wp_id not in existing
                ]
            ).values_list("slug", flat=True)
        )
        new_posts, changed_posts, moved = [], [], {}
        plans: list[Plan] = []
        now = timezone.now()
        fields = [
            "title", "author_id", "category_id", "body", "excerpt", "status",
            "published_at", "allow_comments", "featured_image", "featured_image_alt",
            "sticky", "password", "wordpress_id", "wordpress_data", "slug",
        ]  # fmt: skip
        for item in items:
            post = existing.get(item.wp_id)
            values = self._post_values(item, scan, post)
            if values is None:
                continue
            tag_ids = values.pop("tag_ids")
            category_ids = values.pop("category_ids")
            if post is None:
                post = Post(slug=self._free_slug(item, taken), **values)
                new_posts.append(post)
                self.report.count("posts", "created")
            else:
                old_url = post.get_absolute_url()
                slug = self._renamed_slug(item, post)
                if set_fields(post, slug=slug, **values):
                    post.updated_at = now
                    changed_posts.append(post)
                    if post.get_absolute_url() != old_url:
                        moved[old_url] = post
            plans.append(Plan(item, post, tag_ids, category_ids))
        Post.objects.bulk_create(new_posts)
        Post.objects.bulk_update(changed_posts, [*fields, "updated_at"])
        new_ids = {p.pk for p in new_posts}
        retagged = _set_links(
            plans,
            new_ids,
            TaggedItem,
            "object_id",
            "tag_id",
            "tag_ids",
            content_type=self.post_type,
        ) | _set_links(  # WordPress's second and later categories
            plans,
            new_ids,
            Post.categories.through,
            "post_id",
            "category_id",
            "category_ids",
        )
        changed = {p.pk for p in changed_posts} | retagged
        for plan in plans:
            if plan.item.wp_id in existing:
                self.report.count(
                    "posts", "updated" if plan.post.pk in changed else "unchanged"
                )
        self._record_redirects(plans, moved)
        self._write_comments([(plan.item, plan.post) for plan in plans])

    def _unseen(self, items: list[Item]) -> list[Item]:
        """The items whose post ID this import has not met yet (a file may
        hold an item twice; WordPress keeps the first)."""
        kept = []
        for item in items:
            if item.wp_id and item.wp_id in self.seen_post_ids:
                self.report.count("posts", "skipped")
                self.report.note(
                    gettext("items with a post ID met earlier in the file skipped"),
                    f"#{item.wp_id} ({plain(item.title)})",
                )
                continue
            self.seen_post_ids.add(item.wp_id)
            kept.append(item)
        return kept

    def _existing_posts(self, items: list[Item]) -> dict[int, Post]:
        """Posts imported before, found by their WordPress id; those of
        imports older than that id, by their `/?p=ID` redirects."""
        ids = [item.wp_id for item in items if item.wp_id]
        found = Post.objects.in_bulk(ids, field_name="wordpress_id")
        markers = {f"/?p={wp_id}": wp_id for wp_id in ids if wp_id not in found}
        slugs: dict[int, str] = {}
        rows = Redirect.objects.filter(
            site_id=settings.SITE_ID, old_path__in=list(markers)
        ).values_list("old_path", "new_path")
        for old_path, new_path in rows:
            try:
                match = resolve(decoded_path(new_path))
            except Resolver404:
                continue
            if match.view_name == "blog:post":
                slugs[markers[old_path]] = match.kwargs["slug"]
        posts = Post.objects.filter(wordpress_id=None).in_bulk(
            set(slugs.values()), field_name="slug"
        )
        found.update(
            (wp_id, posts[slug]) for wp_id, slug in slugs.items() if slug in posts
        )
        return found

    def _post_values(self, item: Item, scan: Scan, post: Post | None) -> dict | None:
        """The post's fields from `item` (`post`: the one imported before)."""
        label = plain(item.title) or f"#{item.wp_id}"
        status = item.status
        if status in SKIPPED_STATUSES:
            self.report.count("posts", "skipped")
            self.report.note(
                gettext("posts with status %(status)s skipped")
                % {"status": repr(status)},
                label,
            )
            if item.comments:
                self.report.count("comments", "skipped", len(item.comments))
                self.report.note(
                    gettext("comments on posts with status %(status)s skipped")
                    % {"status": repr(status)},
                    gettext("%(count)s on %(title)s")
                    % {"count": len(item.comments), "title": label},
                )
            return None
        new_status = STATUSES.get(status, Post.Status.DRAFT)
        if status == "pending":
            self.report.note(gettext("pending posts imported as drafts"), label)
        elif status not in STATUSES:
            self.report.note(
                gettext("posts with unknown status %(status)s imported as drafts")
                % {"status": repr(status)},
                label,
            )
        password = item.password[:255]
        if password and new_status == Post.Status.PRIVATE:
            password = ""
            self.report.note(
                gettext(
                    "passwords of private posts dropped (a private post is for its "
                    "editors only)"
                ),
                label,
            )
        published_at = wordpress_date(item.date_gmt, item.date, item.pub_date)
        if published_at is None and post is not None:
            published_at = post.published_at  # dated when first imported
        if published_at is None and new_status in Post.DATED_STATUSES:
            published_at = timezone.now()
            self.report.note(
                gettext("published posts without a valid date published now"), label
            )
        title = plain(item.title)
        if title != item.title.strip() and "<" in item.title:
            self.report.note(gettext("HTML removed from titles"), label)
        if not title:
            title = "Untitled"
            self.report.note(
                gettext("posts without a title named “Untitled”"), f"#{item.wp_id}"
            )
        if len(title) > 200:
            title = title[:199] + "…"
            self.report.note(
                gettext("titles longer than 200 characters shortened"), label
            )
        category_ids = _term_ids(item, "category", self.categories)
        tag_ids = _term_ids(item, "post_tag", self.tags)
        body = convert_content(
            item.content,
            item.wp_id,
            scan.attachments,
            self.media.rewrite if self.media else None,
            note=lambda reason, example: self.report.note(
                reason,
                gettext("%(what)s in %(title)s") % {"what": example, "title": label},
            ),
        )
        if self.media:
            self.media.note_pictures(body)
        return {
            **self._featured_image(item, scan, title),
            "title": title,
            "author_id": self._author(item, label).pk,
            "category_id": category_ids[0] if category_ids else None,
            "body": body,
            "excerpt": plain(item.excerpt),
            "status": new_status,
            "published_at": published_at,
            "allow_comments": item.comment_status == "open",
            "sticky": item.sticky,
            "password": password,
            "wordpress_id": item.wp_id or None,
            "wordpress_data": self._wordpress_data(item, label),
            "tag_ids": tag_ids,
            "category_ids": category_ids[1:],
        }

    def _author(self, item: Item, label: str):
        creator = clean_login(item.creator)
        if creator in self.users:
            return self.users[creator]
        author = self.default_user
        if author is not None:
            if self.default_author:
                reason = gettext(
                    "posts without an author given to %(user)s (--default-author)"
                )
            else:
                reason = gettext(
                    "posts without an author given to %(user)s (the first superuser)"
                )
            self.report.note(reason % {"user": author.get_username()}, label)
            return author
        author = next(iter(self.users.values()), None)
        if author is None:
            raise ExportError(
                gettext(
                    "Post #%(id)s (%(title)s) has no author, the export lists none, "
                    "and there is no superuser to give it to: name an existing user "
                    "with --default-author LOGIN."
                )
                % {"id": item.wp_id, "title": label}
            )
        self.report.note(
            gettext(
                "posts without an author given to the export's first author, "
                "%(user)s (no superuser here)"
            )
            % {"user": author.get_username()},
            label,
        )
        return author

    def _wordpress_data(self, item: Item, label: str) -> dict:
        """What WordPress had for the post that Inkwell does not show: its
        format, its custom fields, its terms of other taxonomies (counted)."""
        data: dict = {}
        formats = [n for taxonomy, n, _ in item.terms if taxonomy == "post_format"]
        if formats:
            data["format"] = formats[0].removeprefix("post-format-")
            self.report.note(
                gettext(
                    "post formats kept with the post (Inkwell shows every post alike)"
                ),
                f"{data['format']}: {label}",
            )
        fields = [[k, v] for k, v in item.postmeta if k and k not in CONSUMED_META]
        if fields:
            data["custom_fields"] = fields
            for key, _ in fields:
                self.report.note(
                    gettext("custom fields kept with the post, not shown"),
                    gettext("%(what)s on %(title)s") % {"what": key, "title": label},
                )
        other: dict[str, list[str]] = {}
        for taxonomy, nicename, name in item.terms:
            if taxonomy not in {"category", "post_tag", "post_format"}:
                other.setdefault(taxonomy, []).append(plain(name) or nicename)
                self.report.note(
                    gettext("terms of other taxonomies kept with the post, not shown"),
                    f"{taxonomy}: {plain(name) or nicename}",
                )
        if other:
            data["terms"] = other
        return data

    def _featured_image(self, item: Item, scan: Scan, title: str) -> dict:
        """The post's featured image, when --media-dir holds its file."""
        image = scan.attachments.get(as_int(item.meta.get("_thumbnail_id")))
        if image is None:
            return {}
        name = self.media.name_for(image.url) if self.media else None
        if name is None:
            self.report.note(
                gettext(
                    "featured images left out: their files are not under --media-dir"
                ),
                plain(item.title) or f"#{item.wp_id}",
            )
            return {}
        return {
            "featured_image": name,
            "featured_image_alt": (image.alt or image.title or title)[:300],
        }

    def _wanted_slug(self, item: Item) -> str:
        # 190 characters keep /yyyy/mm/slug/ within a redirect's 200.
        fallback = clean_slug(plain(item.title), f"post-{item.wp_id}", max_length=190)
        return clean_slug(item.name, fallback, max_length=190)

    def _unused_slug(self, slug: str, used: Callable[[str], bool]) -> str:
        """`slug`, or `slug-2`, `slug-3`... the first this import and `used`
        do not hold."""
        numbers = (f"{slug[:180]}-{number}" for number in itertools.count(2))
        candidates = itertools.chain([slug], numbers)
        found = next(c for c in candidates if c not in self.used_slugs and not used(c))
        self.used_slugs.add(found)
        return found

    def _free_slug(self, item: Item, taken: set[str]) -> str:
        """The post's WordPress slug, URL-safe and not used by another post
        (`taken`: the slugs of this batch that other posts already use)."""
        slug = self._wanted_slug(item)
        if item.name and slug != unquote(item.name):
            self.report.note(
                gettext("post slugs made URL-safe"), f"{item.name} → {slug}"
            )
        candidate = self._unused_slug(
            slug,
            lambda c: (
                c in taken or (c != slug and Post.objects.filter(slug=c).exists())
            ),
        )
        if candidate != slug:
            self.report.note(
                gettext("slugs already used by another post: a number added"),
                f"{slug} → {candidate}",
            )
        return candidate

    def _renamed_slug(self, item: Item, post: Post) -> str:
        """The slug of a post imported before: its new WordPress slug if it
        changed there (the old address then redirects), else the one it has
        (with the number an earlier import may have added)."""
        wanted = self._wanted_slug(item)
        if post.slug == wanted or re.fullmatch(rf"{re.escape(wanted)}-\d+", post.slug):
            self.used_slugs.add(post.slug)
            return post.slug
        others = Post.objects.exclude(pk=post.pk)
        return self._unused_slug(wanted, lambda c: others.filter(slug=c).exists())

    def _record_redirects(self, plans: list[Plan], moved: dict[str, Post]) -> None:
        """From the post's old permalink, its `?p=ID` and its former slugs
        (`_wp_old_slug`, which WordPress redirects) to where it is now."""
        pairs = {old_url: post.get_absolute_url() for old_url, post in moved.items()}
        for plan in plans:
            item, url = plan.item, plan.post.get_absolute_url()
            if item.wp_id:
                pairs[f"/?p={item.wp_id}"] = url
            old_paths = [_path(item.link)] if item.link else []
            old_paths += self._former_paths(item)
            for old in map(normalise_path, old_paths):
                redirect_old(self.report, pairs, old, url)
        record_redirects(pairs, self.report)

    def _former_paths(self, item: Item) -> list[str]:
        """The post's old addresses under its former slugs: its permalink
        with the slug swapped, as WordPress's `wp_old_slug_redirect()` finds
        them."""
        old_slugs = [v.strip() for k, v in item.postmeta if k == "_wp_old_slug"]
        old_slugs = [v for v in dict.fromkeys(old_slugs) if v and v != item.name]
        if not old_slugs:
            return []
        path = _path(item.link) if item.link else ""
        head, _, last = path.rstrip("/").rpartition("/")
        if "?" in path or not item.name or unquote(last) != unquote(item.name):
            self.report.count("redirects", "skipped", len(old_slugs))
            self.report.note(
                gettext(
                    "former slugs (_wp_old_slug) not redirected: the post's old "
                    "address does not end in its slug"
                ),
                plain(item.title) or f"#{item.wp_id}",
            )
            return []
        trailing = "/" if path.endswith("/") else ""
        return [f"{head}/{slug}{trailing}" for slug in old_slugs]

    def _write_comments(self, posts: list[tuple[Item, Post]]) -> None:
        if posts_written.has_listeners(type(self)):
            posts_written.send(sender=type(self), run=self, posts=posts)
            return
        for item, _ in posts:
            if item.comments:
                self.report.count("comments", "skipped", len(item.comments))
                self.report.note(
                    gettext("comments skipped: the comments app is not installed"),
                    plain(item.title) or f"#{item.wp_id}",
                )


def _term_ids(item: Item, taxonomy: str, known: dict[str, int]) -> list[int]:
    """The ids here of the item's terms of `taxonomy`, in order, once each."""
    names = (n for kind, n, _ in item.terms if kind == taxonomy and n in known)
    return list(dict.fromkeys(known[n] for n in names))


def _set_links(
    plans: list[Plan],
    new_ids: set[int],
    through: type[models.Model],
    post_column: str,
    other_column: str,
    wanted: str,
    **fixed,
) -> set[int]:
    """Give each post exactly the rows of `through` (its tags, its other
    categories) that its plan's `wanted` ids name; return the existing posts
    whose rows changed."""
    old_ids = [plan.post.pk for plan in plans if plan.post.pk not in new_ids]
    current: dict[int, dict[int, int]] = defaultdict(dict)
    rows = through.objects.filter(**fixed, **{f"{post_column}__in": old_ids})
    for pk, post_id, other_id in rows.values_list("pk", post_column, other_column):
        current[post_id][other_id] = pk
    to_add, to_remove, changed = [], [], set()
    for plan in plans:
        post, ids = plan.post, getattr(plan, wanted)
        have = current.get(post.pk, {})
        missing = [other for other in ids if other not in have]
        extra = [pk for other, pk in have.items() if other not in ids]
        to_add += [
            through(**fixed, **{post_column: post.pk, other_column: other})
            for other in missing
        ]
        to_remove += extra
        if (missing or extra) and post.pk not in new_ids:
            changed.add(post.pk)
    through.objects.bulk_create(to_add)
    through.objects.filter(pk__in=to_remove).delete()
    return changed
