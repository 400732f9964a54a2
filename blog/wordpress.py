"""Reads WordPress exports (WXR) into Inkwell.

Three parts, top to bottom:

1. Reading: `read_export()` streams a WXR file (versions 1.0 to 1.2, the `wp`
   namespace as http:// or https://) with defusedxml, one channel child at a
   time, so memory stays flat however big the export is. DTDs are refused:
   WordPress never writes one, and they carry the XXE and entity-bomb attacks.
2. Content: `convert_content()` turns WordPress's stored post text into the
   HTML WordPress would have shown (`wpautop` paragraphs, `[caption]` and
   `[gallery]`), which `blog.markup` then sanitises like any other body.
3. Writing: `WordPressImport` creates or updates users, categories, tags,
   posts, comments and redirects in bulk, inside one transaction.

Imported objects carry no WordPress id column, so a second run finds them
through natural keys: users by login, categories and tags by slug, posts by
the `/?p=ID` redirect recorded for each of them (a post keeps its Inkwell slug
once imported), comments by post, date and author name.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import functools
import html
import ipaddress
import re
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import defusedxml
import defusedxml.ElementTree as SafeET
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.redirects.models import Redirect
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.html import escape, strip_tags
from django.utils.text import slugify
from django_comments import get_model as get_comment_model
from django_comments_xtd.models import XtdComment, max_thread_level_for_content_type
from taggit.models import Tag, TaggedItem

from blog.models import Category, Post

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")
BATCH_SIZE = 500
EXAMPLES_PER_NOTE = 5

WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/$")
EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/excerpt/$")
NAMESPACE_PREFIXES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}


class ExportError(Exception):
    """The file cannot be imported; the message says why, for the operator."""


# 1. Reading ------------------------------------------------------------------


@dataclasses.dataclass
class Author:
    login: str
    wp_id: int | None = None
    email: str = ""
    display_name: str = ""
    first_name: str = ""
    last_name: str = ""


@dataclasses.dataclass
class Term:
    taxonomy: str  # "category" or "post_tag"
    nicename: str
    name: str
    parent: str = ""
    description: str = ""


@dataclasses.dataclass
class WPComment:
    wp_id: int
    parent: int
    author: str
    email: str
    url: str
    ip: str
    date_gmt: str
    date: str
    content: str
    approved: str
    type: str
    user_id: int


@dataclasses.dataclass
class Item:
    wp_id: int
    post_type: str
    title: str = ""
    link: str = ""
    creator: str = ""
    content: str = ""
    excerpt: str = ""
    status: str = ""
    name: str = ""
    date: str = ""
    date_gmt: str = ""
    pub_date: str = ""
    comment_status: str = ""
    password: str = ""
    sticky: bool = False
    parent: int = 0
    menu_order: int = 0
    attachment_url: str = ""
    terms: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    meta: dict[str, str] = dataclasses.field(default_factory=dict)
    comments: list[WPComment] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Channel:
    version: str
    title: str = ""
    link: str = ""


@functools.lru_cache(maxsize=512)
def _local_name(tag: str) -> str:
    """`{namespace}name` as `prefix:name`, whichever WXR namespace spelling."""
    if not tag.startswith("{"):
        return tag
    uri, _, name = tag[1:].partition("}")
    if WP_NAMESPACE.match(uri):
        return f"wp:{name}"
    if EXCERPT_NAMESPACE.match(uri):
        return f"excerpt:{name}"
    return f"{NAMESPACE_PREFIXES.get(uri, uri)}:{name}"


def _texts(element) -> dict[str, str]:
    """First text of each child, keyed by prefixed name; CDATA or plain alike."""
    found: dict[str, str] = {}
    for child in element:
        found.setdefault(_local_name(child.tag), (child.text or "").strip("\r\n"))
    return found


def _int(value: str | None) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return 0


def _parse_author(element) -> Author:
    values = _texts(element)
    return Author(
        login=values.get("wp:author_login", "").strip(),
        wp_id=_int(values.get("wp:author_id")) or None,
        email=values.get("wp:author_email", "").strip(),
        display_name=values.get("wp:author_display_name", "").strip(),
        first_name=values.get("wp:author_first_name", "").strip(),
        last_name=values.get("wp:author_last_name", "").strip(),
    )


def _parse_term(element, taxonomy: str) -> Term:
    values = _texts(element)
    if taxonomy == "category":
        return Term(
            taxonomy="category",
            nicename=values.get("wp:category_nicename", "").strip(),
            name=values.get("wp:cat_name", "").strip(),
            parent=values.get("wp:category_parent", "").strip(),
            description=values.get("wp:category_description", "").strip(),
        )
    return Term(
        taxonomy="post_tag",
        nicename=values.get("wp:tag_slug", "").strip(),
        name=values.get("wp:tag_name", "").strip(),
        description=values.get("wp:tag_description", "").strip(),
    )


def _parse_comment(element) -> WPComment:
    values = _texts(element)
    return WPComment(
        wp_id=_int(values.get("wp:comment_id")),
        parent=_int(values.get("wp:comment_parent")),
        author=values.get("wp:comment_author", ""),
        email=values.get("wp:comment_author_email", "").strip(),
        url=values.get("wp:comment_author_url", "").strip(),
        ip=values.get("wp:comment_author_IP", "").strip(),
        date_gmt=values.get("wp:comment_date_gmt", "").strip(),
        date=values.get("wp:comment_date", "").strip(),
        content=values.get("wp:comment_content", ""),
        approved=values.get("wp:comment_approved", "1").strip(),
        type=values.get("wp:comment_type", "").strip(),
        user_id=_int(values.get("wp:comment_user_id")),
    )


def _parse_item(element, with_comments: bool) -> Item:
    values = _texts(element)
    item = Item(
        wp_id=_int(values.get("wp:post_id")),
        post_type=values.get("wp:post_type", "post").strip() or "post",
        title=values.get("title", ""),
        link=values.get("link", "").strip(),
        creator=values.get("dc:creator", "").strip(),
        content=values.get("content:encoded", ""),
        excerpt=values.get("excerpt:encoded", ""),
        status=values.get("wp:status", "publish").strip(),
        name=values.get("wp:post_name", "").strip(),
        date=values.get("wp:post_date", "").strip(),
        date_gmt=values.get("wp:post_date_gmt", "").strip(),
        pub_date=values.get("pubDate", "").strip(),
        comment_status=values.get("wp:comment_status", "open").strip(),
        password=values.get("wp:post_password", ""),
        sticky=values.get("wp:is_sticky", "0").strip() == "1",
        parent=_int(values.get("wp:post_parent")),
        menu_order=_int(values.get("wp:menu_order")),
        attachment_url=values.get("wp:attachment_url", "").strip(),
    )
    for child in element:
        name = _local_name(child.tag)
        if name == "category":
            domain = child.get("domain") or "category"
            item.terms.append(
                (
                    "post_tag" if domain == "tag" else domain,  # WXR 1.0: "tag"
                    (child.get("nicename") or "").strip(),
                    (child.text or "").strip(),
                )
            )
        elif name == "wp:postmeta":
            meta = _texts(child)
            item.meta.setdefault(
                meta.get("wp:meta_key", ""), meta.get("wp:meta_value", "")
            )
        elif name == "wp:comment" and with_comments:
            item.comments.append(_parse_comment(child))
    return item


def read_export(path: Path | str, *, with_comments: bool = True) -> Iterator:
    """Yield a `Channel`, then `Author`, `Term` and `Item` records in file order.

    Each channel child is dropped as soon as it is read. Raises `ExportError`
    for anything that is not a well-formed WXR 1.0-1.2 file.
    """
    try:
        events = SafeET.iterparse(str(path), events=("start", "end"), forbid_dtd=True)
        depth, channel, version = 0, None, None
        for event, element in events:
            if event == "start":
                depth += 1
                if depth == 1 and element.tag != "rss":
                    raise ExportError(
                        f"This is not a WordPress export: the document is "
                        f"<{_local_name(element.tag)}>, not <rss>."
                    )
                if depth == 2 and element.tag == "channel":
                    channel = element
                continue
            depth -= 1
            if depth != 2 or channel is None:
                continue
            name = _local_name(element.tag)
            if name == "wp:wxr_version":
                version = (element.text or "").strip()
                if version not in SUPPORTED_VERSIONS:
                    raise ExportError(
                        f"Unsupported WXR version {version!r}: Inkwell reads "
                        f"WordPress exports in versions "
                        f"{', '.join(SUPPORTED_VERSIONS)}."
                    )
                texts = _texts(channel)
                yield Channel(
                    version=version,
                    title=texts.get("title", ""),
                    link=texts.get("link", ""),
                )
            elif name in {"wp:author", "wp:category", "wp:tag", "item"}:
                if version is None:
                    raise _missing_version()
                if name == "wp:author":
                    yield _parse_author(element)
                elif name == "wp:category":
                    yield _parse_term(element, "category")
                elif name == "wp:tag":
                    yield _parse_term(element, "post_tag")
                else:
                    yield _parse_item(element, with_comments)
            # Keep only what is being built: the channel's title and link
            # are read from its first children when the version arrives.
            if version is not None:
                element.clear()
                channel.remove(element)
        if version is None:
            raise _missing_version()
    except SafeET.ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        reason = str(error).split(":")[0]
        raise ExportError(
            f"The file is not well-formed XML at line {line}, column {column} "
            f"({reason}). It may be truncated or damaged; export it again."
        ) from None
    except defusedxml.DTDForbidden:
        raise ExportError(
            "The file declares a DTD (<!DOCTYPE ...>). WordPress exports never "
            "do, and DTDs carry XML attacks (external entities, entity bombs): "
            "refused."
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise ExportError(
            "The file declares XML entities or external references. WordPress "
            "exports never do, and they carry XML attacks: refused."
        ) from None
    except OSError as error:
        raise ExportError(f"Cannot read {path}: {error.strerror or error}") from None


def _missing_version() -> ExportError:
    return ExportError(
        "No <wp:wxr_version> before the content: this is not a WordPress export "
        "(Tools > Export in WordPress writes one), or it was edited by hand."
    )


# 2. Content ------------------------------------------------------------------

BLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul"
    r"|ol|li|pre|form|map|area|blockquote|address|math|style|p|h[1-6]|hr"
    r"|fieldset|legend|section|article|aside|hgroup|header|footer|nav|figure"
    r"|figcaption|details|menu|summary)"
)
HTML_SPLIT = re.compile(
    r"(<(?:(?=!--|!\[CDATA\[)(?:!--(?:-(?!->)|[^-])*(?:-->)?"
    r"|!\[CDATA\[(?:\](?!\]>)|[^\]])*(?:\]\]>)?)|[^>]*>?))"
)


def _newlines_in_tags(text: str) -> str:
    parts = HTML_SPLIT.split(text)
    for index in range(1, len(parts), 2):
        parts[index] = parts[index].replace("\n", " <!-- wpnl --> ")
    return "".join(parts)


def wpautop(text: str) -> str:
    """WordPress's `wpautop()`: blank lines make paragraphs, newlines `<br>`.

    A port of wp-includes/formatting.php (WordPress 6.x), step for step, so
    that classic-editor posts keep the paragraphs their readers saw. `<pre>`
    blocks and newlines inside tags are left alone.
    """
    if not text.strip():
        return ""
    text += "\n"
    pre_tags: dict[str, str] = {}
    if "<pre" in text:
        parts = text.split("</pre>")
        last = parts.pop()
        text = ""
        for index, part in enumerate(parts):
            start = part.find("<pre")
            if start == -1:  # malformed HTML
                text += part
                continue
            name = f"<pre wp-pre-tag-{index}></pre>"
            pre_tags[name] = part[start:] + "</pre>"
            text += part[:start] + name
        text += last
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text)
    text = re.sub(rf"(<{BLOCKS}[\s/>])", r"\n\n\1", text)
    text = re.sub(rf"(</{BLOCKS}>)", r"\1\n\n", text)
    text = re.sub(r"(<hr\s*?/?>)", r"\1\n\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _newlines_in_tags(text)
    if "<option" in text:
        text = re.sub(r"\s*<option", "<option", text)
        text = re.sub(r"</option>\s*", "</option>", text)
    if "</object>" in text:
        text = re.sub(r"(<object[^>]*>)\s*", r"\1", text)
        text = re.sub(r"\s*</object>", "</object>", text)
        text = re.sub(r"\s*(</?(?:param|embed)[^>]*>)\s*", r"\1", text)
    if "<source" in text or "<track" in text:
        text = re.sub(r"([<\[](?:audio|video)[^>\]]*[>\]])\s*", r"\1", text)
        text = re.sub(r"\s*([<\[]/(?:audio|video)[>\]])", r"\1", text)
        text = re.sub(r"\s*(<(?:source|track)[^>]*>)\s*", r"\1", text)
    if "<figcaption" in text:
        text = re.sub(r"\s*(<figcaption[^>]*>)", r"\1", text)
        text = re.sub(r"</figcaption>\s*", "</figcaption>", text)
    text = re.sub(r"\n\n+", "\n\n", text)
    pieces = [piece for piece in re.split(r"\n\s*\n", text) if piece]
    text = "".join(f"<p>{piece.strip(chr(10))}</p>\n" for piece in pieces)
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(r"<p>([^<]+)</(div|address|form)>", r"<p>\1</p></\2>", text)
    text = re.sub(rf"<p>\s*(</?{BLOCKS}[^>]*>)\s*</p>", r"\1", text)
    text = re.sub(r"<p>(<li.+?)</p>", r"\1", text)
    text = re.sub(r"<p><blockquote([^>]*)>", r"<blockquote\1><p>", text, flags=re.I)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = re.sub(rf"<p>\s*(</?{BLOCKS}[^>]*>)", r"\1", text)
    text = re.sub(rf"(</?{BLOCKS}[^>]*>)\s*</p>", r"\1", text)
    text = re.sub(
        r"<(script|style|svg).*?</\1>",
        lambda match: match.group(0).replace("\n", "<WPPreserveNewline />"),
        text,
        flags=re.S,
    )
    text = text.replace("<br>", "<br />").replace("<br/>", "<br />")
    text = re.sub(r"(?<!<br />)\s*\n", "<br />\n", text)
    text = text.replace("<WPPreserveNewline />", "\n")
    text = re.sub(rf"(</?{BLOCKS}[^>]*>)\s*<br />", r"\1", text)
    text = re.sub(
        r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text
    )
    text = re.sub(r"\n</p>$", "</p>", text)
    for name, original in pre_tags.items():
        text = text.replace(name, original)
    if "<!-- wpnl -->" in text:
        text = text.replace(" <!-- wpnl --> ", "\n").replace("<!-- wpnl -->", "\n")
    return text


SHORTCODE = re.compile(
    r"\[(\[?)(caption|wp_caption|gallery)(?![\w-])"  # [[escaped, the name
    r"([^\]/]*(?:/(?!\])[^\]/]*)*?)"  # attributes
    r"(?:(/)\]|\](?:([^\[]*(?:\[(?!/\2\])[^\[]*)*)\[/\2\])?)"  # self-closed or body
    r"(\]?)"
)
SHORTCODE_ATTRIBUTE = re.compile(
    r"""([\w-]+)\s*=\s*"([^"]*)"(?:\s|$)|([\w-]+)\s*=\s*'([^']*)'(?:\s|$)"""
    r"""|([\w-]+)\s*=\s*([^\s'"]+)(?:\s|$)|"([^"]*)"(?:\s|$)|'([^']*)'(?:\s|$)"""
    r"""|(\S+)(?:\s|$)"""
)
CAPTIONED_IMAGE = re.compile(
    r"((?:<a [^>]+>\s*)?<img [^>]+>(?:\s*</a>)?)(.*)", re.I | re.S
)
BLOCK_COMMENT = re.compile(
    r"<!--\s*/?wp:.*?-->|<!--(?:more|noteaser|nextpage)[^>]*-->", re.S
)


def shortcode_attributes(text: str) -> dict[str, str]:
    """WordPress's `shortcode_parse_atts()`, keyed attributes only."""
    attributes: dict[str, str] = {}
    text = text.replace("\xa0", " ").replace("\u200b", " ")
    for match in SHORTCODE_ATTRIBUTE.finditer(text):
        groups = match.groups()
        for key, value in (
            (groups[0], groups[1]),
            (groups[2], groups[3]),
            (groups[4], groups[5]),
        ):
            if key:
                attributes[key.lower()] = value
    return attributes


@dataclasses.dataclass
class Attachment:
    url: str
    title: str = ""
    alt: str = ""
    parent: int = 0
    menu_order: int = 0
    wp_id: int = 0


def _caption(attributes: dict[str, str], body: str) -> str:
    caption = attributes.get("caption", "")
    if not caption:
        match = CAPTIONED_IMAGE.match(body.strip())
        if match:
            body, caption = match.group(1), match.group(2).strip()
    if not caption:
        return body
    return f"<figure>{body.strip()}<figcaption>{caption}</figcaption></figure>"


def _gallery(
    attributes: dict[str, str], post_id: int, attachments: dict[int, Attachment]
) -> str:
    ids = attributes.get("ids") or attributes.get("include") or ""
    if ids:
        chosen = [attachments[i] for i in map(_int, ids.split(",")) if i in attachments]
    else:
        # No ids: WordPress shows the images attached to the post itself.
        chosen = sorted(
            (a for a in attachments.values() if a.parent == post_id),
            key=lambda a: (a.menu_order, a.wp_id),
        )
    if not chosen:
        return ""
    items = "".join(
        f'<li><a href="{escape(a.url)}"><img src="{escape(a.url)}" '
        f'alt="{escape(a.alt or a.title)}"></a></li>'
        for a in chosen
    )
    return f"<ul>{items}</ul>"


def expand_shortcodes(
    text: str, post_id: int = 0, attachments: dict[int, Attachment] | None = None
) -> str:
    """`[caption]` becomes a figure, `[gallery]` a list of images.

    Other shortcodes stay as written, so nothing the author wrote disappears;
    `[[gallery]]` (WordPress's escape) shows as `[gallery]`.
    """
    attachments = attachments or {}

    def replace(match: re.Match) -> str:
        if match.group(1) == "[" and match.group(6) == "]":
            return match.group(0)[1:-1]
        attributes = shortcode_attributes(match.group(3))
        body = match.group(5) or ""
        if match.group(2) == "gallery":
            html_ = _gallery(attributes, post_id, attachments)
        else:
            html_ = _caption(attributes, body)
        return match.group(1) + html_ + match.group(6)

    return SHORTCODE.sub(replace, text)


def convert_content(
    text: str,
    post_id: int = 0,
    attachments: dict[int, Attachment] | None = None,
    rewrite_url: Callable[[str], str] | None = None,
) -> str:
    """A post's stored WordPress text as the HTML WordPress would show.

    Block-editor posts (`<!-- wp:... -->`) are HTML already; WordPress skips
    `wpautop` for them and so do we. The result is stored as the post body:
    `blog.markup` passes HTML through and sanitises it on every render.
    """
    is_blocks = "<!-- wp:" in text
    text = BLOCK_COMMENT.sub("", text)
    text = expand_shortcodes(text, post_id, attachments)
    # A URL alone on its line is an embed in WordPress (a video, a tweet);
    # we fetch nothing from other sites, so readers get a link to it.
    text = EMBED_LINE.sub(r'\1<a href="\2">\2</a>\3', text)
    if not is_blocks:
        text = wpautop(text)
    if rewrite_url is not None:
        text = URL.sub(lambda match: rewrite_url(match.group(0)), text)
    return text.strip()


URL = re.compile(r"""(?:https?:)?//[^\s"'<>()\[\]]+""")
EMBED_LINE = re.compile(r"""^([ \t]*)(https?://[^\s<>"]+)([ \t]*)$""", re.M)


def plain(text: str) -> str:
    """HTML or entity-laden WordPress text (titles, names) as plain text."""
    return " ".join(html.unescape(strip_tags(text or "")).split())


# 3. Writing ------------------------------------------------------------------


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

    def lines(self) -> list[str]:
        kinds = [
            "authors",
            "categories",
            "tags",
            "posts",
            "comments",
            "redirects",
            "media files",
        ]
        kinds += sorted(set(self.counts) - set(kinds))
        rows = [f"{'':14}" + "".join(f"{column:>11}" for column in self.COLUMNS)]
        for kind in kinds:
            counts = self.counts.get(kind, Counter())
            rows.append(
                f"{kind:14}" + "".join(f"{counts[c]:>11}" for c in self.COLUMNS)
            )
        if self.note_counts:
            rows.append("")
            rows.append("Skipped or changed, and why:")
            for reason, number in sorted(self.note_counts.items()):
                rows.append(f"  {number:>6}  {reason}")
                examples = self.notes.get(reason, [])
                for example in examples:
                    rows.append(f"          - {example}")
                if number > len(examples) > 0:
                    rows.append(f"          … and {number - len(examples)} more")
        return rows


LOGIN_INVALID = re.compile(r"[^\w .@+-]")


def clean_login(login: str) -> str:
    """A login as WordPress's importer reads it (`sanitize_user(..., strict)`).

    Exports contain strays such as `>themereviewteam`: WordPress strips what a
    login cannot hold and finds the author; so do we.
    """
    return LOGIN_INVALID.sub("", strip_tags(login or "")).strip()


STATES = {
    "1": "public",
    "0": "held",
    "spam": "spam",
    "trash": "trash",
    "post-trashed": "trash",
}
PING_TYPES = {"pingback", "trackback"}
ZERO_DATE = "0000-00-00 00:00:00"


def _gmt(value: str) -> datetime.datetime | None:
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
    except ValueError:
        return None


def _local(value: str) -> datetime.datetime | None:
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        naive = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _rfc822(value: str) -> datetime.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def clean_slug(raw: str, fallback: str, max_length: int = 200) -> str:
    """A URL-safe slug from a WordPress one (which may be %-encoded Unicode)."""
    slug = slugify(unquote(raw or ""))[:max_length].strip("-")
    return slug or fallback


def _path(url: str) -> str:
    """The site-relative part of an absolute WordPress URL."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def record_redirects(pairs: dict[str, str]) -> tuple[int, int, int]:
    """`blog.redirects.add_redirect` for many pairs at once, same guarantees.

    A page that is live again stops redirecting (no loops), redirects that
    ended at an old path follow it to the new one (no chains). Returns the
    numbers created, updated and unchanged; takes a handful of queries
    however many pairs there are, where `add_redirect` costs four per pair.
    """
    limit = Redirect._meta.get_field("old_path").max_length
    pairs = {
        old: new
        for old, new in pairs.items()
        if old != new and len(old) <= limit and len(new) <= limit
    }
    if not pairs:
        return 0, 0, 0
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
    created = len(pairs) - len(existing)
    return created, len(changed), len(existing) - len(changed)


def uploads_path(url: str) -> str | None:
    """Where a WordPress media URL lives inside wp-content/uploads, if it does."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if "/wp-content/uploads/" in path:
        return path.split("/wp-content/uploads/", 1)[1]
    if (parts.hostname or "").endswith(".files.wordpress.com"):
        return path.lstrip("/")
    return None


class MediaFiles:
    """Copies the uploads that posts use from `--media-dir` into our storage.

    URLs are rewritten while posts are converted; the files are copied only
    once the database transaction has committed, so a failed or dry run
    leaves no stray files behind.
    """

    def __init__(self, root: Path, report: Report) -> None:
        self.root = Path(root).resolve()
        self.report = report
        self.wanted: dict[str, Path] = {}
        self.missing: set[str] = set()

    def rewrite(self, url: str) -> str:
        name = self.name_for(url)
        return default_storage.url(name) if name else url

    def name_for(self, url: str) -> str | None:
        """The storage name the file behind `url` is copied to, if we have it."""
        relative = uploads_path(url)
        if not relative:
            return None
        source = (self.root / relative).resolve()
        if not source.is_relative_to(self.root) or not source.is_file():
            if url not in self.missing:
                self.missing.add(url)
                self.report.note(
                    "media files not found under --media-dir: links kept as they were",
                    url,
                )
                self.report.count("media files", "skipped")
            return None
        name = f"wordpress/{source.relative_to(self.root).as_posix()}"
        self.wanted[name] = source
        return name

    def copy(self) -> None:
        for name, source in sorted(self.wanted.items()):
            if default_storage.exists(name):
                if default_storage.size(name) == source.stat().st_size:
                    self.report.count("media files", "unchanged")
                    continue
                default_storage.delete(name)
                outcome = "updated"
            else:
                outcome = "created"
            with source.open("rb") as handle:
                default_storage.save(name, handle)
            self.report.count("media files", outcome)


@dataclasses.dataclass
class Scan:
    """What the first pass over the file learns before anything is written."""

    channel: Channel | None = None
    authors: dict[str, Author] = dataclasses.field(default_factory=dict)
    terms: dict[tuple[str, str], Term] = dataclasses.field(default_factory=dict)
    attachments: dict[int, Attachment] = dataclasses.field(default_factory=dict)
    creators: list[str] = dataclasses.field(default_factory=list)
    items: int = 0


SKIPPED_TYPES = {
    "page": ("pages", "pages skipped: Inkwell has no pages"),
    "attachment": (
        "attachments",
        "attachment items skipped: their files stay linked from the posts",
    ),
    "nav_menu_item": ("menu items", "menu items skipped: Inkwell builds its own menus"),
}


class WordPressImport:
    """One import of one export file; `run()` returns a `Report`."""

    def __init__(
        self,
        path: Path | str,
        *,
        author_map: dict[str, str] | None = None,
        skip_pings: bool = False,
        media_dir: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.author_map = author_map or {}
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
        self.comment_model = get_comment_model()
        self.max_level = max_thread_level_for_content_type(self.post_type)

    def run(self, *, dry_run: bool = False) -> Report:
        scan = self.scan()
        mapped_users = self._mapped_users()
        with transaction.atomic():
            self._import_authors(scan, mapped_users)
            self._import_categories(scan)
            self._import_tags(scan)
            self._import_items(scan)
            if dry_run:
                transaction.set_rollback(True)
        if self.media and not dry_run:
            self.media.copy()
        return self.report

    # The first pass -----------------------------------------------------------

    def scan(self) -> Scan:
        """Read the whole file once: fail on bad XML before writing anything."""
        scan = Scan()
        creators: dict[str, None] = {}
        for record in read_export(self.path, with_comments=False):
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
                elif record.post_type == "post":
                    creators.setdefault(clean_login(record.creator), None)
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
                "--author-map names users that do not exist here: "
                f"{', '.join(unknown)}."
            )
        return {clean_login(old): found[new] for old, new in self.author_map.items()}

    def _import_authors(self, scan: Scan, mapped_users: dict[str, object]) -> None:
        User = get_user_model()
        authors = dict(scan.authors)
        for login in scan.creators:
            authors.setdefault(login, Author(login=login))
        for login in mapped_users:
            if login not in authors:
                self.report.note("--author-map logins not found in the export", login)
        usernames = {login: self._username(login) for login in authors}
        existing = User.objects.in_bulk(set(usernames.values()), field_name="username")
        new_users = []
        for login, author in authors.items():
            if login in mapped_users:
                user = mapped_users[login]
                self.report.count("authors", "unchanged")
                self.report.note(
                    "authors mapped onto existing users (--author-map)",
                    f"{login} → {user.get_username()}",
                )
            elif usernames[login] in existing:
                user = existing[usernames[login]]
                self.report.count("authors", "unchanged")
            else:
                first, last = author.first_name, author.last_name
                if not (first or last) and author.display_name != login:
                    first = author.display_name
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
                "logins changed to fit Django usernames", f"{login} → {username}"
            )
        return username

    def _import_categories(self, scan: Scan) -> None:
        terms = [t for (taxonomy, _), t in scan.terms.items() if taxonomy == "category"]
        slugs = {t.nicename: clean_slug(t.nicename, "category") for t in terms}
        for term in terms:
            if slugs[term.nicename] != term.nicename:
                self.report.note("category slugs made URL-safe", term.nicename)
        existing = Category.objects.in_bulk(set(slugs.values()), field_name="slug")
        # Parents first, whatever the order in the file.
        by_nicename = {t.nicename: t for t in terms}
        ordered, seen = [], set()

        def visit(term: Term, trail: tuple[str, ...] = ()) -> None:
            if term.nicename in seen or term.nicename in trail:
                return
            parent = by_nicename.get(term.parent)
            if parent is not None:
                visit(parent, (*trail, term.nicename))
            seen.add(term.nicename)
            ordered.append(term)

        for term in terms:
            visit(term)
        for term in ordered:
            slug = slugs[term.nicename]
            parent_slug = slugs.get(term.parent)
            parent = existing.get(parent_slug) if parent_slug else None
            if term.parent and parent is None:
                self.report.note(
                    "categories whose parent is missing made top-level", term.nicename
                )
            name = plain(term.name)[:200] or slug
            description = term.description
            category = existing.get(slug)
            if category is None:
                category = Category.objects.create(
                    name=name, slug=slug, description=description, parent=parent
                )
                existing[slug] = category
                self.report.count("categories", "created")
            elif (category.name, category.description, category.parent_id) != (
                name,
                description,
                parent.pk if parent else None,
            ):
                category.name, category.description = name, description
                category.parent = parent
                category.save()
                self.report.count("categories", "updated")
            else:
                self.report.count("categories", "unchanged")
            self.categories[term.nicename] = category.pk

    def _import_tags(self, scan: Scan) -> None:
        terms = [t for (taxonomy, _), t in scan.terms.items() if taxonomy == "post_tag"]
        by_slug = {tag.slug: tag for tag in Tag.objects.all()}
        by_name = {tag.name.lower(): tag for tag in by_slug.values()}
        new_tags, counted = [], set()
        for term in terms:
            slug = clean_slug(term.nicename, "tag", max_length=100)
            name = (plain(term.name) or slug)[:100]
            tag = by_slug.get(slug)
            if tag is None and name.lower() in by_name:
                tag = by_name[name.lower()]
                if tag.slug != slug:
                    self.report.note(
                        "tags merged into an existing tag of the same name",
                        f"{term.nicename} → {tag.slug}",
                    )
            if tag is None:
                tag = Tag(name=name, slug=slug)
                new_tags.append(tag)
                by_slug[slug] = by_name[name.lower()] = tag
                self.report.count("tags", "created")
            elif id(tag) not in counted:
                self.report.count("tags", "unchanged")
            counted.add(id(tag))
            self.tags[term.nicename] = tag
        Tag.objects.bulk_create(new_tags)
        self.tags = {nicename: tag.pk for nicename, tag in self.tags.items()}

    # Items --------------------------------------------------------------------

    def _import_items(self, scan: Scan) -> None:
        batch: list[Item] = []
        done = 0
        for record in read_export(self.path):
            if not isinstance(record, Item):
                continue
            done += 1
            if self.progress and (done % 100 == 0 or done == scan.items):
                self.progress(done, scan.items)
            if record.post_type == "post":
                batch.append(record)
                if len(batch) >= BATCH_SIZE:
                    self._import_posts(batch, scan)
                    batch = []
                continue
            kind, reason = SKIPPED_TYPES.get(
                record.post_type,
                ("other items", f"items of type {record.post_type!r} skipped"),
            )
            self.report.count(kind, "skipped")
            self.report.note(reason, plain(record.title) or f"#{record.wp_id}")
            if record.comments:
                self.report.count("comments", "skipped", len(record.comments))
                for comment in record.comments:
                    self.report.note(
                        "comments on skipped items (pages and others) skipped",
                        f"#{comment.wp_id} on {plain(record.title) or record.wp_id}",
                    )
        if batch:
            self._import_posts(batch, scan)
        if self.progress:
            self.progress(scan.items, scan.items)

    def _import_posts(self, items: list[Item], scan: Scan) -> None:
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
        plans: list[tuple[Item, Post, list[int]]] = []
        now = timezone.now()
        fields = [
            "title", "author_id", "category_id", "body", "excerpt", "status",
            "published_at", "allow_comments", "featured_image", "featured_image_alt",
        ]  # fmt: skip
        for item in items:
            values = self._post_values(item, scan)
            if values is None:
                continue
            tag_ids = values.pop("tag_ids")
            post = existing.get(item.wp_id)
            if post is None:
                post = Post(slug=self._free_slug(item, taken), **values)
                new_posts.append(post)
                self.report.count("posts", "created")
            else:
                old_url = post.get_absolute_url()
                before = [getattr(post, f) for f in fields]
                for name, value in values.items():
                    setattr(post, name, value)
                if before != [getattr(post, f) for f in fields]:
                    post.updated_at = now
                    changed_posts.append(post)
                    if post.get_absolute_url() != old_url:
                        moved[old_url] = post
            plans.append((item, post, tag_ids))
        Post.objects.bulk_create(new_posts)
        Post.objects.bulk_update(changed_posts, [*fields, "updated_at"])
        retagged = self._set_tags(plans, {p.pk for p in new_posts})
        changed = {p.pk for p in changed_posts} | retagged
        for item, post, _ in plans:
            if item.wp_id in existing:
                self.report.count(
                    "posts", "updated" if post.pk in changed else "unchanged"
                )
        self._record_redirects(plans, moved)
        self._import_comments(plans)

    def _existing_posts(self, items: list[Item]) -> dict[int, Post]:
        """Posts imported before, found through their `/?p=ID` redirects."""
        markers = {f"/?p={item.wp_id}": item.wp_id for item in items}
        slugs: dict[int, str] = {}
        rows = Redirect.objects.filter(
            site_id=settings.SITE_ID, old_path__in=list(markers)
        ).values_list("old_path", "new_path")
        for old_path, new_path in rows:
            try:
                match = resolve(urlsplit(new_path).path)
            except Resolver404:
                continue
            if match.view_name == "blog:post":
                slugs[markers[old_path]] = match.kwargs["slug"]
        posts = Post.objects.in_bulk(set(slugs.values()), field_name="slug")
        return {wp_id: posts[slug] for wp_id, slug in slugs.items() if slug in posts}

    def _post_values(self, item: Item, scan: Scan) -> dict | None:
        label = plain(item.title) or f"#{item.wp_id}"
        status = item.status
        if status in {"trash", "auto-draft", "inherit"}:
            self.report.count("posts", "skipped")
            self.report.note(f"posts with status {status!r} skipped", label)
            return None
        if item.password:
            new_status = Post.Status.DRAFT
            self.report.note(
                "password-protected posts imported as drafts (Inkwell has no "
                "post passwords)",
                label,
            )
        elif status in {"publish", "future"}:
            new_status = Post.Status.PUBLISHED
        elif status in {"draft", "pending", "private"}:
            new_status = Post.Status.DRAFT
            if status != "draft":
                self.report.note(f"{status} posts imported as drafts", label)
        else:
            new_status = Post.Status.DRAFT
            self.report.note(
                f"posts with unknown status {status!r} imported as drafts", label
            )
        published_at = (
            _gmt(item.date_gmt) or _local(item.date) or _rfc822(item.pub_date)
        )
        if published_at is None and new_status == Post.Status.PUBLISHED:
            published_at = timezone.now()
            self.report.note(
                "published posts without a valid date published now", label
            )
        if item.sticky:
            self.report.note(
                "sticky posts imported as ordinary posts (Inkwell has no sticky posts)",
                label,
            )
        title = plain(item.title)
        if title != item.title.strip() and "<" in item.title:
            self.report.note("HTML removed from titles", label)
        if not title:
            title = "Untitled"
            self.report.note("posts without a title named “Untitled”", f"#{item.wp_id}")
        if len(title) > 200:
            title = title[:199] + "…"
            self.report.note("titles longer than 200 characters shortened", label)
        categories = [n for taxonomy, n, _ in item.terms if taxonomy == "category"]
        categories = list(dict.fromkeys(n for n in categories if n in self.categories))
        if len(categories) > 1:
            self.report.note(
                "posts in several categories filed under the first one", label
            )
        tag_ids = list(
            dict.fromkeys(
                self.tags[n]
                for taxonomy, n, _ in item.terms
                if taxonomy == "post_tag" and n in self.tags
            )
        )
        creator = clean_login(item.creator)
        author = self.users.get(creator) or next(iter(self.users.values()), None)
        if author is None:
            raise ExportError(
                f"Post #{item.wp_id} ({label}) has no author, and the export "
                "lists none."
            )
        if creator not in self.users:
            self.report.note(
                "posts without a known author given to the first author", label
            )
        return {
            **self._featured_image(item, scan, title),
            "title": title,
            "author_id": author.pk,
            "category_id": self.categories[categories[0]] if categories else None,
            "body": convert_content(
                item.content,
                item.wp_id,
                scan.attachments,
                self.media.rewrite if self.media else None,
            ),
            "excerpt": plain(item.excerpt),
            "status": new_status,
            "published_at": published_at,
            "allow_comments": item.comment_status == "open",
            "tag_ids": tag_ids,
        }

    def _featured_image(self, item: Item, scan: Scan, title: str) -> dict:
        """The post's featured image, when --media-dir holds its file."""
        image = scan.attachments.get(_int(item.meta.get("_thumbnail_id")))
        if image is None:
            return {}
        name = self.media.name_for(image.url) if self.media else None
        if name is None:
            self.report.note(
                "featured images left out: their files are not under --media-dir",
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

    def _free_slug(self, item: Item, taken: set[str]) -> str:
        """The post's WordPress slug, URL-safe and not used by another post.

        `taken`: the slugs of this batch that other posts already use.
        """
        slug = self._wanted_slug(item)
        if item.name and slug != item.name:
            self.report.note("post slugs made URL-safe", f"{item.name} → {slug}")
        candidate, number = slug, 1
        while (
            candidate in self.used_slugs
            or candidate in taken
            or (candidate != slug and Post.objects.filter(slug=candidate).exists())
        ):
            number += 1
            candidate = f"{slug[:180]}-{number}"
        if candidate != slug:
            self.report.note(
                "slugs already used by another post: a number added",
                f"{slug} → {candidate}",
            )
        self.used_slugs.add(candidate)
        return candidate

    def _set_tags(
        self, plans: list[tuple[Item, Post, list[int]]], new_ids: set[int]
    ) -> set[int]:
        """Give each post exactly its tags; return the existing posts retagged."""
        old_ids = [post.pk for _, post, _ in plans if post.pk not in new_ids]
        current: dict[int, dict[int, int]] = defaultdict(dict)
        rows = TaggedItem.objects.filter(
            content_type=self.post_type, object_id__in=old_ids
        ).values_list("pk", "object_id", "tag_id")
        for pk, object_id, tag_id in rows:
            current[object_id][tag_id] = pk
        to_add, to_remove, retagged = [], [], set()
        for _, post, tag_ids in plans:
            have = current.get(post.pk, {})
            missing = [t for t in tag_ids if t not in have]
            extra = [pk for t, pk in have.items() if t not in tag_ids]
            to_add += [
                TaggedItem(content_type=self.post_type, object_id=post.pk, tag_id=t)
                for t in missing
            ]
            to_remove += extra
            if (missing or extra) and post.pk not in new_ids:
                retagged.add(post.pk)
        TaggedItem.objects.bulk_create(to_add)
        TaggedItem.objects.filter(pk__in=to_remove).delete()
        return retagged

    def _record_redirects(
        self, plans: list[tuple[Item, Post, list[int]]], moved: dict[str, Post]
    ) -> None:
        pairs = {old_url: post.get_absolute_url() for old_url, post in moved.items()}
        limit = Redirect._meta.get_field("old_path").max_length
        for item, post, _ in plans:
            url = post.get_absolute_url()
            pairs[f"/?p={item.wp_id}"] = url
            old = _path(item.link) if item.link else "/"
            if len(old) > limit:
                self.report.count("redirects", "skipped")
                self.report.note(
                    f"old addresses longer than {limit} characters not redirected", old
                )
            elif old not in {"/", url}:
                pairs[old] = url
        created, updated, unchanged = record_redirects(pairs)
        self.report.count("redirects", "created", created)
        self.report.count("redirects", "updated", updated)
        self.report.count("redirects", "unchanged", unchanged)

    # Comments -----------------------------------------------------------------

    def _import_comments(self, plans: list[tuple[Item, Post, list[int]]]) -> None:
        """Create or update each post's comments, then renumber its threads.

        Comments already here are recognised by post, date and author name.
        Thread data is computed here for whole posts at once (`thread_data`),
        rather than by `XtdComment.save()`, which costs queries per comment.
        """
        Comment = self.comment_model
        by_post: dict[str, list[dict]] = defaultdict(list)
        known = [str(post.pk) for _, post, _ in plans]
        rows = (
            Comment.objects.filter(content_type=self.post_type, object_pk__in=known)
            .order_by("pk")
            .values("pk", "object_pk", "parent_id", *THREAD_FIELDS, *COMMENT_FIELDS)
        )
        for row in rows:
            by_post[row["object_pk"]].append(row)

        new_rows: list[dict] = []
        updates: list = []
        threads: list[tuple[list[dict], dict[int, dict | None]]] = []
        for item, post, _ in plans:
            rows = by_post.get(str(post.pk), [])
            if not item.comments and not rows:
                continue
            by_key: dict[tuple, list[dict]] = defaultdict(list)
            for row in rows:
                by_key[(row["submit_date"], row["user_name"])].append(row)
            native = {id(row) for row in rows}
            wp_rows: dict[int, dict] = {}
            wp_parents: dict[int, int] = {}
            for wp in item.comments:
                values = self._comment_values(wp, post, item)
                if values is None:
                    continue
                candidates = by_key.get((values["submit_date"], values["user_name"]))
                if candidates:
                    row = candidates.pop(0)
                    native.discard(id(row))
                    if any(row[name] != value for name, value in values.items()):
                        row.update(values)
                        updates.append(Comment(pk=row["pk"], **values))
                        self.report.count("comments", "updated")
                    else:
                        self.report.count("comments", "unchanged")
                else:
                    row = {"pk": None, "object_pk": str(post.pk), **values}
                    new_rows.append(row)
                    rows.append(row)
                    self.report.count("comments", "created")
                wp_rows[wp.wp_id] = row
                wp_parents[wp.wp_id] = wp.parent
            parents: dict[int, dict | None] = {}
            for wp_id, row in wp_rows.items():
                parent = wp_rows.get(wp_parents[wp_id])
                if wp_parents[wp_id] and parent is None:
                    self.report.note(
                        "replies to a comment missing from the export made top-level",
                        f"#{wp_id} on {post.title}",
                    )
                parents[id(row)] = parent
            # Comments made here, not in WordPress, keep their own parents.
            by_pk = {row["pk"]: row for row in rows if row["pk"] is not None}
            for row in rows:
                if id(row) in native and row["parent_id"] != row["pk"]:
                    parents[id(row)] = by_pk.get(row["parent_id"])
                elif id(row) in native:
                    parents[id(row)] = None
            threads.append((rows, parents))

        self._insert_comments(new_rows)
        Comment.objects.bulk_update(updates, list(COMMENT_FIELDS), batch_size=500)

        xtd_updates = []
        for rows, parents in threads:
            nodes = [
                (
                    row["pk"],
                    row["submit_date"],
                    parents[id(row)]["pk"] if parents[id(row)] else None,
                )
                for row in rows
            ]
            data, reattached = thread_data(nodes, self.max_level)
            for row in rows:
                if row["pk"] in reattached:
                    self.report.note(
                        f"replies deeper than level {self.max_level} attached at "
                        f"level {self.max_level}, under the nearest allowed ancestor",
                        f"{row['user_name']}, {row['submit_date']:%Y-%m-%d %H:%M}",
                    )
                computed = data[row["pk"]]
                if row.get("thread_id") is None:
                    row.update(computed)
                elif any(row[name] != value for name, value in computed.items()):
                    xtd_updates.append(XtdComment(pk=row["pk"], **computed))
        self._insert_thread_rows(new_rows)
        XtdComment.objects.bulk_update(xtd_updates, list(THREAD_FIELDS), batch_size=500)

    def _comment_values(self, wp: WPComment, post: Post, item: Item) -> dict | None:
        label = f"#{wp.wp_id} on {post.title}"
        kind = wp.type or "comment"
        if kind not in {"comment", *PING_TYPES}:
            self.report.count("comments", "skipped")
            self.report.note(f"comments of type {kind!r} skipped", label)
            return None
        if kind in PING_TYPES and self.skip_pings:
            self.report.count("comments", "skipped")
            self.report.note("pingbacks and trackbacks skipped (--skip-pings)", label)
            return None
        state = STATES.get(wp.approved)
        if state is None:
            state = "held"
            self.report.note(
                f"comments with unknown approval {wp.approved!r} held for moderation",
                label,
            )
        submit_date = _gmt(wp.date_gmt) or _local(wp.date)
        if submit_date is None:
            submit_date = post.published_at or timezone.now()
            self.report.note("comments without a valid date given the post's", label)
        user_name = plain(wp.author)[:50]
        ip_address = None
        if wp.ip:
            try:
                ip_address = str(ipaddress.ip_address(wp.ip))
            except ValueError:
                self.report.note("invalid IP addresses dropped", label)
        user = self.users_by_wp_id.get(wp.user_id) if wp.user_id else None
        return {
            "submit_date": submit_date,
            "user_name": user_name,
            "user_email": wp.email[:254],
            "user_url": wp.url[:200],
            "ip_address": ip_address,
            "comment": wp.content,
            "user_id": user.pk if user else None,
            "state": state,
            "reason": kind if kind in PING_TYPES else "",
            "is_public": state == "public",
            "is_removed": state in {"spam", "trash"},
        }

    def _insert_comments(self, rows: list[dict]) -> None:
        """Insert the django_comments rows; the xtd and Inkwell rows come later."""
        base = XtdComment._meta.get_field("comment_ptr").related_model
        objects = [
            base(
                content_type=self.post_type,
                object_pk=row["object_pk"],
                site_id=settings.SITE_ID,
                **{
                    name: row[name] for name in COMMENT_FIELDS if name not in OUR_FIELDS
                },
            )
            for row in rows
        ]
        base.objects.bulk_create(objects, batch_size=1000)
        for obj, row in zip(objects, rows, strict=True):
            row["pk"] = obj.pk

    def _insert_thread_rows(self, rows: list[dict]) -> None:
        """The XtdComment and Inkwell Comment rows of new comments.

        Django's bulk_create refuses models with parents (multi-table
        inheritance), so each table gets its rows by one `executemany`.
        """
        _insert_rows(
            XtdComment,
            [
                {
                    "comment_ptr_id": row["pk"],
                    "followup": False,
                    **{n: row[n] for n in THREAD_FIELDS},
                }
                for row in rows
            ],
        )
        _insert_rows(
            self.comment_model,
            [
                {
                    "xtdcomment_ptr_id": row["pk"],
                    "submission_key": "",  # not sent through our form
                    **{n: row[n] for n in OUR_FIELDS},
                }
                for row in rows
            ],
        )


THREAD_FIELDS = ("thread_id", "parent_id", "level", "order", "nested_count")
OUR_FIELDS = ("state", "reason")
COMMENT_FIELDS = (
    "submit_date", "user_name", "user_email", "user_url", "ip_address", "comment",
    "user_id", "state", "reason", "is_public", "is_removed",
)  # fmt: skip


def _insert_rows(model, rows: list[dict]) -> None:
    """INSERT rows into `model`'s own table only, in batches."""
    if not rows:
        return
    fields = model._meta.local_concrete_fields
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )
    params = [
        [field.get_db_prep_save(row[field.attname], connection) for field in fields]
        for row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), 1000):
            cursor.executemany(sql, params[start : start + 1000])


def thread_data(
    nodes: Iterable[tuple[int, datetime.datetime, int | None]], max_level: int
) -> tuple[dict[int, dict], set[int]]:
    """django-comments-xtd's thread fields for one object's comments.

    `nodes` are (pk, submit date, parent pk or None). The result equals what
    `XtdComment.save()` produces when the comments are saved in date order:
    each thread is numbered depth-first from 1 (`order`), a reply comes after
    its elder siblings, `nested_count` counts all descendants. A reply to a
    comment at `max_level` is attached to that comment's parent instead
    (xtd would refuse it); those pks are returned as the second value.
    """
    nodes = sorted(nodes, key=lambda node: (node[1], node[0]))
    known = {pk for pk, _, _ in nodes}
    parent_of = {
        pk: parent if parent in known and parent != pk else None
        for pk, _, parent in nodes
    }
    level: dict[int, int] = {}
    placed_under: dict[int, int | None] = {}
    children: dict[int, list[int]] = defaultdict(list)
    roots: list[int] = []
    waiting: dict[int, list[int]] = defaultdict(list)
    reattached: set[int] = set()

    def place(first: int) -> None:
        stack = [first]
        while stack:
            pk = stack.pop()
            parent = parent_of[pk]
            if parent is not None and level[parent] >= max_level:
                reattached.add(pk)
                parent = placed_under[parent]
            placed_under[pk] = parent
            if parent is None:
                roots.append(pk)
                level[pk] = 0
            else:
                children[parent].append(pk)
                level[pk] = level[parent] + 1
            # Replies dated before their parent waited for it.
            stack.extend(reversed(waiting.pop(pk, [])))

    for pk, _, _ in nodes:
        parent = parent_of[pk]
        if parent is None or parent in level:
            place(pk)
        else:
            waiting[parent].append(pk)
    while waiting:  # only a loop of parents is left: break it
        parent = next(iter(waiting))
        pk = waiting[parent].pop(0)
        if not waiting[parent]:
            del waiting[parent]
        parent_of[pk] = None
        place(pk)

    data: dict[int, dict] = {}
    for root in roots:
        preorder, stack = [], [root]
        while stack:
            pk = stack.pop()
            preorder.append(pk)
            stack.extend(reversed(children[pk]))
        nested: dict[int, int] = {}
        for pk in reversed(preorder):
            nested[pk] = sum(nested[child] + 1 for child in children[pk])
        for number, pk in enumerate(preorder, start=1):
            data[pk] = {
                "thread_id": root,
                "parent_id": placed_under[pk] or pk,
                "level": level[pk],
                "order": number,
                "nested_count": nested[pk],
            }
    return data, reattached
