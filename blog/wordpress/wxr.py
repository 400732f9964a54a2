"""Reading WordPress exports (WXR 1.0 to 1.2) into plain records.

`read_export()` streams the file with defusedxml (DTDs refused: they carry
XXE and entity bombs) in flat memory, `wp` namespace http:// or https://.
Three faults of real exports are repaired as WordPress's importer tolerates
them (`Repairs`): undeclared namespace prefixes (WordPress.com's
`<atom:link>`) bound on the root, control characters XML 1.0 forbids
dropped, non-UTF-8 bytes in a UTF-8 file read as Windows-1252.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from xml.parsers.expat.errors import codes as expat_codes

import defusedxml
import defusedxml.ElementTree as SafeET
from django.utils.translation import gettext

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")
XML_ERROR_UNBOUND_PREFIX = expat_codes["unbound prefix"]
XML_ERROR_INVALID_TOKEN = expat_codes["not well-formed (invalid token)"]

WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/$")
EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/excerpt/$")
NAMESPACE_PREFIXES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}


class ExportError(Exception):
    """The file cannot be imported; the message says why, for the operator."""


class UnboundPrefix(ExportError):
    """A namespace prefix is used but never declared (`Repairs` binds it)."""

    def __init__(self, message: str, prefixes: set[str]) -> None:
        super().__init__(message)
        self.prefixes = prefixes


# What the usual undeclared prefixes of WordPress and WordPress.com exports
# mean; any other undeclared prefix is bound to a name of its own.
KNOWN_PREFIXES = {
    "atom": "http://www.w3.org/2005/Atom",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
    "slash": "http://purl.org/rss/1.0/modules/slash/",
    "georss": "http://www.georss.org/georss",
    "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "media": "http://search.yahoo.com/mrss/",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "googleplay": "http://www.google.com/schemas/play-podcasts/1.0",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
}
# Bytes XML 1.0 forbids in any document (tab, newline and return are allowed).
# In UTF-8 they never occur inside a multi-byte character.
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
ROOT_START = re.compile(rb"<!--.*?-->|<\?.*?\?>|<rss(?=[\s>/])", re.S)
DECLARED_PREFIX = re.compile(rb"xmlns:([\w.-]+)\s*=")
USED_PREFIX = re.compile(r"(?:<|\s)([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*")


@dataclasses.dataclass
class Repairs:
    """What reading the file had to repair; kept across the import's passes."""

    prefixes: dict[str, str] = dataclasses.field(default_factory=dict)
    control_characters: int = 0
    # Bytes that are not UTF-8 in a file that says it is (a Latin-1 "é" pasted
    # into a post): read as Windows-1252, which they nearly always are.
    fix_encoding: bool = False
    misencoded_bytes: int = 0


class MisencodedBytes(ExportError):
    """A UTF-8 file holds bytes that are not UTF-8 (`Repairs` decodes them)."""


_decoded = threading.local()  # bytes _as_windows_1252() decoded, per thread


def _as_windows_1252(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start : error.end]
    _decoded.count = getattr(_decoded, "count", 0) + len(bad)
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("inkwell-cp1252", _as_windows_1252)


class _RepairingReader(io.RawIOBase):
    """The export's bytes, with `repairs.prefixes` declared on `<rss>` and
    forbidden control characters dropped (counted in `repairs`)."""

    CHUNK = 1 << 16

    def __init__(self, path: Path | str, repairs: Repairs, count: bool) -> None:
        self.file = open(path, "rb")  # noqa: SIM115 (closed by close())
        self.repairs = repairs
        self.count = count
        self.pending = b""
        self.head_done = not repairs.prefixes
        self.decoder = (
            codecs.getincrementaldecoder("utf-8")("inkwell-cp1252")
            if repairs.fix_encoding
            else None
        )

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.file.close()
        super().close()

    def _clean(self, data: bytes, final: bool = False) -> bytes:
        cleaned = data.translate(None, CONTROL_BYTES)
        if self.count:
            self.repairs.control_characters += len(data) - len(cleaned)
        if self.decoder is not None:
            before = getattr(_decoded, "count", 0)
            repaired = self.decoder.decode(cleaned, final=final).encode("utf-8")
            if self.count:
                self.repairs.misencoded_bytes += getattr(_decoded, "count", 0) - before
            return repaired
        return cleaned

    def _head(self) -> bytes:
        data = self.file.read(self.CHUNK)
        while len(data) < (1 << 22):
            for match in ROOT_START.finditer(data):
                if match.group(0).startswith(b"<rss"):
                    declared = set(DECLARED_PREFIX.findall(data[match.end() :]))
                    extra = b"".join(
                        b' xmlns:%s="%s"' % (name.encode(), uri.encode())
                        for name, uri in self.repairs.prefixes.items()
                        if name.encode() not in declared
                    )
                    return data[: match.end()] + extra + data[match.end() :]
            more = self.file.read(self.CHUNK)
            if not more:
                break
            data += more
        return data

    def readinto(self, buffer) -> int:
        if not self.head_done:
            self.head_done = True
            self.pending = self._clean(self._head())
        while not self.pending:
            data = self.file.read(self.CHUNK)
            if not data:
                if self.decoder is None:
                    return 0
                self.pending = self._clean(b"", final=True)
                self.decoder = None
                if not self.pending:
                    return 0
                break
            self.pending = self._clean(data)
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def _line_bytes(path: Path | str, line: int) -> bytes:
    with open(path, "rb") as handle:
        for number, text in enumerate(handle, start=1):
            if number == line:
                return text
    return b""


def _declares_utf8(path: Path | str) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(200)
    match = re.match(rb"""\s*<\?xml[^>]*encoding\s*=\s*["']([\w.-]+)""", head)
    return match is None or match.group(1).lower() in {b"utf-8", b"utf8"}


def _undeclared_prefixes(path: Path | str, line: int, known: set[str]) -> set[str]:
    """The prefixes used around `line` (the tag expat stopped at) that no
    declaration binds."""
    found: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if number < line:
                continue
            found.update(USED_PREFIX.findall(text))
            if ">" in text or number > line + 20:
                break
    return found - known - {"xml", "xmlns"}


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
    taxonomy: str  # "category", "post_tag", or a <wp:term>'s ("nav_menu", ...)
    nicename: str
    name: str
    parent: str = ""
    description: str = ""
    wp_id: int | None = None


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
    meta: dict[str, str] = dataclasses.field(default_factory=dict)


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
    # The first value of each custom field; `postmeta` has every pair, in
    # file order (a key such as `_wp_old_slug` may come several times).
    meta: dict[str, str] = dataclasses.field(default_factory=dict)
    postmeta: list[tuple[str, str]] = dataclasses.field(default_factory=list)
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


# Each term element's taxonomy (None: its own <wp:term_taxonomy>), then the
# children holding its slug, name, parent and description.
TERM_ELEMENTS = {
    "wp:category": (
        "category", "wp:category_nicename", "wp:cat_name", "wp:category_parent",
        "wp:category_description",
    ),
    "wp:tag": ("post_tag", "wp:tag_slug", "wp:tag_name", "", "wp:tag_description"),
    "wp:term": (  # any other taxonomy (menus: "nav_menu")
        None, "wp:term_slug", "wp:term_name", "wp:term_parent",
        "wp:term_description",
    ),
}  # fmt: skip


def _parse_term(element, kind: str) -> Term:
    values = _texts(element)
    taxonomy, *keys = TERM_ELEMENTS[kind]
    slug, name, parent, description = (values.get(k, "").strip() for k in keys)
    return Term(
        taxonomy=taxonomy or values.get("wp:term_taxonomy", "").strip(),
        nicename=slug,
        name=name,
        parent=parent,
        description=description,
        wp_id=as_int(values.get("wp:term_id")) or None,
    )


def _parse_comment(element) -> WPComment:
    values = _texts(element)
    meta: dict[str, str] = {}
    for child in element:
        if _local_name(child.tag) == "wp:commentmeta":
            pair = _texts(child)
            meta.setdefault(pair.get("wp:meta_key", ""), pair.get("wp:meta_value", ""))
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
        # Missing, WordPress reads it as "" and stores the comment unapproved.
        approved=values.get("wp:comment_approved", "").strip(),
        type=values.get("wp:comment_type", "").strip(),
        user_id=as_int(values.get("wp:comment_user_id")),
        meta=meta,
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
            key, value = meta.get("wp:meta_key", ""), meta.get("wp:meta_value", "")
            item.meta.setdefault(key, value)
            item.postmeta.append((key, value))
        elif name == "wp:comment" and with_comments:
            item.comments.append(_parse_comment(child))
    return item


def read_export(
    path: Path | str,
    *,
    with_comments: bool = True,
    repairs: Repairs | None = None,
    count_repairs: bool = False,
) -> Iterator:
    """Yield a `Channel`, then `Author`, `Term` and `Item` records in file
    order; `ExportError` for what is not well-formed WXR 1.0-1.2 (subclasses
    for what `Repairs` can mend on a second read). `count_repairs`: count the
    characters repaired into `repairs`."""
    repairs = repairs if repairs is not None else Repairs()
    source = None
    try:
        source = _RepairingReader(path, repairs, count_repairs)
        events = SafeET.iterparse(source, events=("start", "end"), forbid_dtd=True)
        depth, channel, version = 0, None, None
        for event, element in events:
            if event == "start":
                depth += 1
                if depth == 1 and element.tag != "rss":
                    raise ExportError(
                        gettext(
                            "This is not a WordPress export: the document is "
                            "<%(element)s>, not <rss>."
                        )
                        % {"element": _local_name(element.tag)}
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
                        gettext(
                            "Unsupported WXR version %(version)s: Inkwell reads "
                            "WordPress exports in versions %(versions)s."
                        )
                        % {
                            "version": repr(version),
                            "versions": ", ".join(SUPPORTED_VERSIONS),
                        }
                    )
                texts = _texts(channel)
                yield Channel(
                    version=version,
                    title=texts.get("title", ""),
                    link=texts.get("link", ""),
                )
            elif name in {"wp:author", "wp:category", "wp:tag", "wp:term", "item"}:
                if version is None:
                    raise _missing_version()
                if name == "wp:author":
                    yield _parse_author(element)
                elif name == "item":
                    yield _parse_item(element, with_comments)
                else:
                    yield _parse_term(element, name)
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
        if (
            error.code == XML_ERROR_INVALID_TOKEN
            and not repairs.fix_encoding
            and _declares_utf8(path)
        ):
            try:
                _line_bytes(path, line).decode("utf-8")
            except UnicodeDecodeError:
                raise MisencodedBytes(
                    f"The file holds bytes that are not UTF-8 at line {line}."
                ) from None
        if error.code == XML_ERROR_UNBOUND_PREFIX:
            known = _declared_on_root(path) | set(repairs.prefixes)
            prefixes = _undeclared_prefixes(path, line, known)
            if prefixes:
                raise UnboundPrefix(
                    f"The file uses the namespace prefix "
                    f"{', '.join(sorted(prefixes))} at line {line} without "
                    f"declaring it.",
                    prefixes,
                ) from None
        raise ExportError(
            gettext(
                "The file is not well-formed XML at line %(line)s, column "
                "%(column)s (%(reason)s). It may be truncated or damaged; export "
                "it again."
            )
            % {"line": line, "column": column, "reason": reason}
        ) from None
    except defusedxml.DTDForbidden:
        raise ExportError(
            gettext(
                "The file declares a DTD (<!DOCTYPE ...>). WordPress exports never "
                "do, and DTDs carry XML attacks (external entities, entity bombs): "
                "refused."
            )
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise ExportError(
            gettext(
                "The file declares XML entities or external references. WordPress "
                "exports never do, and they carry XML attacks: refused."
            )
        ) from None
    except OSError as error:
        raise ExportError(
            gettext("Cannot read %(path)s: %(error)s")
            % {"path": path, "error": error.strerror or error}
        ) from None
    finally:
        if source is not None:
            source.close()


def _declared_on_root(path: Path | str) -> set[str]:
    """The prefixes the file itself declares (on `<rss>` or anywhere in its
    first 4 MB, where the root element's declarations are)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 22)
    return {name.decode("ascii", "replace") for name in DECLARED_PREFIX.findall(head)}


def bind_prefixes(repairs: Repairs, prefixes: set[str]) -> None:
    """Bind undeclared `prefixes`: the usual ones to what they mean, others to
    a name of their own (nothing reads them)."""
    for prefix in sorted(prefixes):
        repairs.prefixes.setdefault(
            prefix, KNOWN_PREFIXES.get(prefix, f"urn:inkwell:undeclared:{prefix}")
        )


def _missing_version() -> ExportError:
    return ExportError(
        gettext(
            "No <wp:wxr_version> before the content: this is not a WordPress "
            "export (Tools > Export in WordPress writes one), or it was edited by "
            "hand."
        )
    )
