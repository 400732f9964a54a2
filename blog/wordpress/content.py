"""Converting WordPress's stored post text into the HTML WordPress shows.

`convert_content()` applies `wpautop` paragraphs and expands `[caption]` and
`[gallery]`; `blog.markup` then sanitises the result like any other body.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable

from django.utils.html import escape, strip_tags

from blog.wordpress.wxr import as_int

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
