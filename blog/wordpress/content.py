"""Converting WordPress's stored post text into the HTML WordPress shows.

`convert_content()` applies `wpautop` paragraphs and expands the shortcodes
WordPress and WordPress.com blogs use most: `[caption]`, `[gallery]`, the
code shortcodes of SyntaxHighlighter (`[sourcecode language="…"]`, `[code]`,
`[php]`...: highlighted as Markdown code blocks are), `[gist]`, `[embed]`,
`[video]` and `[audio]`. Other shortcodes stay as written, and are counted.
`blog.markup` then sanitises the result like any other body.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable

from django.utils.html import escape, strip_tags
from django.utils.translation import gettext
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from blog.wordpress.wxr import as_int

Note = Callable[[str, str], None]

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
    """WordPress's `wpautop()` (wp-includes/formatting.php, 6.x) step for
    step: blank lines make paragraphs, newlines `<br>`, `<pre>` and newlines
    inside tags left alone."""
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


def shortcode_pattern(names: str, flags: int = re.I) -> re.Pattern:
    """WordPress's `get_shortcode_regex()` for the names in `names` (a regex
    alternation): groups are [[ escape, name, attributes, self-closing /,
    body, ]] escape."""
    return re.compile(
        rf"\[(\[?)({names})(?![\w-])"
        r"([^\]/]*(?:/(?!\])[^\]/]*)*?)"
        r"(?:(/)\]|\](?:([^\[]*(?:\[(?!/\2\])[^\[]*)*)\[/\2\])?)"
        r"(\]?)",
        flags,
    )


def substitute(pattern: re.Pattern, text: str, expand) -> str:
    """`pattern`'s shortcodes in `text` replaced by `expand(match)` (None:
    left as written); `[[name]]`, WordPress's escape, shows as `[name]`."""

    def replace(match: re.Match) -> str:
        if match.group(1) == "[" and match.group(6) == "]":
            return match.group(0)[1:-1]
        html_ = expand(match)
        if html_ is None:
            return match.group(0)
        return match.group(1) + html_ + match.group(6)

    return pattern.sub(replace, text)


SHORTCODE = shortcode_pattern("caption|wp_caption|gallery", 0)
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
        chosen = [
            attachments[i] for i in map(as_int, ids.split(",")) if i in attachments
        ]
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
    """`[caption]` becomes a figure, `[gallery]` a list of images; other
    shortcodes stay as written, so nothing the author wrote disappears."""
    attachments = attachments or {}

    def expand(match: re.Match) -> str:
        attributes = shortcode_attributes(match.group(3))
        if match.group(2) == "gallery":
            return _gallery(attributes, post_id, attachments)
        return _caption(attributes, match.group(5) or "")

    return substitute(SHORTCODE, text, expand)


# SyntaxHighlighter Evolved's shortcodes (the plugin WordPress.com runs as
# well): the generic ones take language="…", the others are the language.
CODE_SHORTCODES = {
    "sourcecode": "", "source": "", "code": "",
    "as3": "as3", "actionscript3": "as3", "bash": "bash", "shell": "bash",
    "coldfusion": "cfm", "cf": "cfm", "clojure": "clojure", "clj": "clojure",
    "cpp": "cpp", "c": "c", "c-sharp": "csharp", "csharp": "csharp", "css": "css",
    "delphi": "delphi", "pas": "delphi", "pascal": "delphi", "diff": "diff",
    "patch": "diff", "erl": "erlang", "erlang": "erlang", "fsharp": "fsharp",
    "go": "go", "golang": "go", "groovy": "groovy", "haskell": "haskell",
    "java": "java", "jfx": "java", "javafx": "java", "js": "javascript",
    "jscript": "javascript", "javascript": "javascript", "latex": "latex",
    "tex": "latex", "matlab": "matlab", "objc": "objective-c",
    "obj-c": "objective-c", "perl": "perl", "pl": "perl", "php": "php",
    "plain": "text", "text": "text", "ps": "powershell", "powershell": "powershell",
    "py": "python", "python": "python", "r": "r", "splus": "splus",
    "rails": "ruby", "rb": "ruby", "ror": "ruby", "ruby": "ruby", "scala": "scala",
    "sql": "sql", "swift": "swift", "vb": "vbnet", "vbnet": "vbnet", "xml": "xml",
    "xhtml": "html", "xslt": "xslt", "html": "html", "yaml": "yaml", "yml": "yaml",
}  # fmt: skip
CODE_SHORTCODE = shortcode_pattern(
    "|".join(re.escape(name) for name in sorted(CODE_SHORTCODES, key=len, reverse=True))
)
MEDIA_SHORTCODE = shortcode_pattern("gist|embed|video|audio|playlist")
ANY_SHORTCODE = re.compile(r"\[(\[?)([A-Za-z][\w-]*)(?![\w-])([^\]\[]*?)(/?)\](\]?)")
CODE_PLACEHOLDER = re.compile(r"<pre wp-code-(\d+)></pre>")
LINE_BREAK = re.compile(r"<br\s*/?>\n?", re.I)
VIDEO_SOURCES = ("src", "mp4", "m4v", "webm", "ogv", "wmv", "flv", "mov")
AUDIO_SOURCES = ("src", "mp3", "ogg", "oga", "m4a", "wav", "wma", "flac")


def highlight_code(code: str, language: str) -> str:
    """Code as the Markdown renderer's code blocks are (Pygments, `highlight`
    class), so the site's Pygments styles apply."""
    try:
        lexer = get_lexer_by_name(language.strip().lower() or "text", stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    formatter = HtmlFormatter(cssclass="highlight", wrapcode=True)
    return highlight(code, lexer, formatter).strip()


def _code_block(match: re.Match) -> str:
    name = match.group(2).lower()
    attributes = shortcode_attributes(match.group(3))
    language = CODE_SHORTCODES[name] or attributes.get(
        "language", attributes.get("lang", "")
    )
    # The visual editor stores code escaped and with <br /> for newlines.
    code = html.unescape(LINE_BREAK.sub("\n", match.group(5) or ""))
    return highlight_code(code.strip("\r\n"), language)


def _media_link(url: str, text: str = "") -> str:
    return f'<a href="{escape(url)}">{escape(text or url)}</a>'


def _media(
    match: re.Match, rewrite_url: Callable[[str], str] | None, note: Note | None
) -> str:
    name = match.group(2).lower()
    attributes = shortcode_attributes(match.group(3))
    body = (match.group(5) or "").strip()
    if name == "gist":
        target = body or attributes.get("id") or match.group(3).strip()
        if target and not target.startswith(("http://", "https://")):
            target = f"https://gist.github.com/{target}"
        return _media_link(target) if target else ""
    if name == "embed":
        return _media_link(body) if body else ""
    if name == "playlist":
        if note:
            note(
                gettext("audio and video playlists left out (no player here)"),
                "[playlist]",
            )
        return ""
    keys = VIDEO_SOURCES if name == "video" else AUDIO_SOURCES
    url = next((attributes[key] for key in keys if attributes.get(key)), "")
    if not url:
        return ""
    local = rewrite_url(url) if rewrite_url else url
    if local.startswith("/") and not local.startswith("//"):
        # A file we hold: played here (nothing is fetched from other sites).
        return (
            f'<{name} controls preload="metadata" src="{escape(local)}">'
            f"{_media_link(local)}</{name}>"
        )
    return _media_link(url)


def _count_unknown_shortcodes(text: str, note: Note) -> None:
    """Count what looks like a shortcode and is left as written: a name with
    attributes, one closed by `[/name]`, or one self-closed (`[name /]`)."""
    for match in ANY_SHORTCODE.finditer(text):
        escaped, name, attributes, closed = match.group(1, 2, 3, 4)
        if escaped:
            continue
        if "=" in attributes or closed or f"[/{name}]" in text:
            note(gettext("unknown shortcodes left as written"), f"[{name}]")


def convert_content(
    text: str,
    post_id: int = 0,
    attachments: dict[int, Attachment] | None = None,
    rewrite_url: Callable[[str], str] | None = None,
    note: Note | None = None,
) -> str:
    """A post's stored WordPress text as the HTML WordPress would show
    (block-editor posts, HTML already, without `wpautop`, as WordPress does);
    `note(reason, example)` hears of what could not be converted."""
    is_blocks = "<!-- wp:" in text
    text = BLOCK_COMMENT.sub("", text)
    # Code first, and kept out of everything below (paragraphs, embeds, URL
    # rewriting) until the end.
    code_blocks: list[str] = []

    def keep_code(match: re.Match) -> str | None:
        if match.group(5) is None:  # no body: not a code block
            return None
        code_blocks.append(_code_block(match))
        return f"<pre wp-code-{len(code_blocks) - 1}></pre>"

    text = substitute(CODE_SHORTCODE, text, keep_code)
    text = expand_shortcodes(text, post_id, attachments)
    text = substitute(
        MEDIA_SHORTCODE, text, lambda match: _media(match, rewrite_url, note)
    )
    if note is not None:
        _count_unknown_shortcodes(CODE_PLACEHOLDER.sub("", text), note)
    # A URL alone on its line is an embed in WordPress (a video, a tweet);
    # we fetch nothing from other sites, so readers get a link to it.
    text = EMBED_LINE.sub(r'\1<a href="\2">\2</a>\3', text)
    if not is_blocks:
        text = wpautop(text)
    if rewrite_url is not None:
        text = URL.sub(lambda match: rewrite_url(match.group(0)), text)
    text = CODE_PLACEHOLDER.sub(lambda match: code_blocks[int(match.group(1))], text)
    return text.strip()


URL = re.compile(r"""(?:https?:)?//[^\s"'<>()\[\]]+""")
EMBED_LINE = re.compile(r"""^([ \t]*)(https?://[^\s<>"]+)([ \t]*)$""", re.M)


def plain(text: str) -> str:
    """HTML or entity-laden WordPress text (titles, names) as plain text."""
    return " ".join(html.unescape(strip_tags(text or "")).split())
