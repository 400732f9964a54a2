"""Reading WordPress exports (WXR 1.0 to 1.2) into plain records.

`read_export()` streams the file with defusedxml, one channel child at a time,
so memory stays flat however big the export is, and yields a `Channel`, then
`Author`, `Term` and `Item` records in file order. The `wp` namespace may be
spelled http:// or https://. DTDs are refused: WordPress never writes one, and
they carry the XXE and entity-bomb attacks.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")

WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/$")
EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/excerpt/$")
NAMESPACE_PREFIXES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}


class ExportError(Exception):
    """The file cannot be imported; the message says why, for the operator."""


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


def as_int(value: str | None) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return 0


def _parse_author(element) -> Author:
    values = _texts(element)
    return Author(
        login=values.get("wp:author_login", "").strip(),
        wp_id=as_int(values.get("wp:author_id")) or None,
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
        wp_id=as_int(values.get("wp:comment_id")),
        parent=as_int(values.get("wp:comment_parent")),
        author=values.get("wp:comment_author", ""),
        email=values.get("wp:comment_author_email", "").strip(),
        url=values.get("wp:comment_author_url", "").strip(),
        ip=values.get("wp:comment_author_IP", "").strip(),
        date_gmt=values.get("wp:comment_date_gmt", "").strip(),
        date=values.get("wp:comment_date", "").strip(),
        content=values.get("wp:comment_content", ""),
        approved=values.get("wp:comment_approved", "1").strip(),
        type=values.get("wp:comment_type", "").strip(),
        user_id=as_int(values.get("wp:comment_user_id")),
    )


def _parse_item(element, with_comments: bool) -> Item:
    values = _texts(element)
    item = Item(
        wp_id=as_int(values.get("wp:post_id")),
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
        parent=as_int(values.get("wp:post_parent")),
        menu_order=as_int(values.get("wp:menu_order")),
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
