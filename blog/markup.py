"""Turns Markdown into safe HTML.

One renderer serves the public pages, the feeds and the admin preview
(MARKDOWNX_MARKDOWNIFY_FUNCTION), so what an author previews is what readers get.
Whatever Markdown lets through (it passes raw HTML on), the nh3 allow-list
below decides what reaches a page: no script, no event handler, no
`javascript:` URL.

The output depends only on the source text, so it is memoised per process
(the HTML, and the plain text made from it): fixtures and imports that bypass
`save()` render correctly, and a page never pays twice for the same text.
"""

import logging
import re
from functools import lru_cache
from html.parser import HTMLParser

import markdown
import nh3
from django.utils.html import escape
from django.utils.text import Truncator

logger = logging.getLogger(__name__)

URL_SCHEMES = {"http", "https", "mailto"}

POST_TAGS = {
    "a", "abbr", "audio", "b", "blockquote", "br", "code", "dd", "del", "div", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul", "video",
}  # fmt: skip
POST_ATTRIBUTES = {
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    # Imported [video] and [audio] of files held here (blog/wordpress/content.py);
    # CSP's default-src 'self' keeps other sites' files out.
    "audio": {"src", "controls", "preload"},
    "video": {"src", "controls", "preload", "width", "height"},
    # Footnotes (the Markdown `footnotes` extension): the reference, the note
    # and the link back carry ids and classes.
    "sup": {"id"},
    "li": {"id"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    # Pygments marks tokens with classes; headings carry ids for anchors.
    "a": {"href", "title", "class"},
    "code": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "span": {"class"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
POST_EXTENSIONS = [
    "fenced_code",
    "codehilite",
    "tables",
    "sane_lists",
    "toc",
    "footnotes",
]
POST_EXTENSION_CONFIGS = {
    "codehilite": {"css_class": "highlight", "guess_lang": False},
    "toc": {"permalink": False},
}

COMMENT_TAGS = {
    "a", "blockquote", "br", "code", "em", "li", "ol", "p", "pre", "strong", "ul",
}  # fmt: skip
COMMENT_ATTRIBUTES = {"a": {"href"}}
COMMENT_LINK_REL = "nofollow ugc noopener"

# What WordPress lets commenters write ($allowedtags, wp-includes/kses.php),
# for comments imported from it: they are its HTML, not Markdown.
WORDPRESS_COMMENT_TAGS = {
    "a", "abbr", "acronym", "b", "blockquote", "br", "cite", "code", "del", "em",
    "i", "p", "q", "s", "strike", "strong",
}  # fmt: skip
WORDPRESS_COMMENT_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "acronym": {"title"},
    "blockquote": {"cite"},
    "del": {"datetime"},
    "q": {"cite"},
}


# A link the sanitiser left without its address (a scheme it does not allow,
# a typo such as hhttps://): its text stays, the empty <a> goes.
_LINK_WITHOUT_HREF = re.compile(r"<a(?=[\s>])(?![^>]*\shref=)[^>]*>(.*?)</a>", re.S)


def sanitise(html: str, **allowed) -> str:
    """nh3 with our allow-list, and two things the browser checks ask of any
    text, ours or imported: a code block that may scroll sideways can be
    reached by the keyboard (tabindex), and no link is left without href."""
    cleaned = nh3.clean(
        html, set_tag_attribute_values={"pre": {"tabindex": "0"}}, **allowed
    )
    return _LINK_WITHOUT_HREF.sub(r"\1", cleaned)


def _fallback(source: str) -> str:
    paragraphs = (escape(part) for part in source.split("\n\n") if part.strip())
    return "".join(f"<p>{part}</p>" for part in paragraphs)


@lru_cache(maxsize=2048)
def markdownify(source: str) -> str:
    """Render an author's Markdown (a post body) to sanitised HTML."""
    try:
        rendered = markdown.markdown(
            source or "",
            extensions=POST_EXTENSIONS,
            extension_configs=POST_EXTENSION_CONFIGS,
            output_format="html",
        )
    except Exception:  # a renderer bug must not take the page down
        logger.exception("Markdown rendering failed; showing the text as written")
        rendered = _fallback(source)
    return sanitise(
        rendered,
        tags=POST_TAGS,
        attributes=POST_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
    )


@lru_cache(maxsize=8192)
def render_comment(source: str, markup: str = "markdown") -> str:
    """Render a reader's comment: emphasis, links, code, lists and quotes only.

    `markup` "wordpress": a comment imported from WordPress, which is HTML;
    shown as WordPress shows it (`wpautop` paragraphs and line breaks, the
    tags WordPress allows in comments), through the same sanitiser.
    """
    if markup == "wordpress":
        return _render_wordpress_comment(source)
    try:
        rendered = markdown.markdown(
            source or "", extensions=["fenced_code", "sane_lists"]
        )
    except Exception:
        logger.exception("Comment rendering failed; showing the text as written")
        rendered = _fallback(source)
    return sanitise(
        rendered,
        tags=COMMENT_TAGS,
        attributes=COMMENT_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=COMMENT_LINK_REL,
    )


def _render_wordpress_comment(source: str) -> str:
    # Imported here: blog.wordpress writes posts, so it imports blog.models,
    # which imports this module.
    from blog.wordpress.content import wpautop

    return sanitise(
        wpautop(source or ""),
        tags=WORDPRESS_COMMENT_TAGS,
        attributes=WORDPRESS_COMMENT_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=COMMENT_LINK_REL,
    )


class _TextBlocks(HTMLParser):
    """The text of rendered HTML, one string per block (paragraph, list
    item, heading, cell…), spaces tidied; headings left out if asked."""

    BLOCKS = {
        "address", "blockquote", "caption", "dd", "div", "dl", "dt", "figcaption",
        "figure", "hr", "li", "ol", "p", "pre", "table", "td", "th", "tr", "ul",
        "h1", "h2", "h3", "h4", "h5", "h6",
    }  # fmt: skip
    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self, *, headings: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.headings = headings
        self.blocks: list[str] = []
        self.words: list[str] = []
        self.in_heading = 0
        # Inside a footnote's number in the text or its way back (↩): links,
        # not words ("gently.1 Move slowly" in a summary).
        self.skipped: str | None = None
        self.skipped_depth = 0

    def flush(self) -> None:
        text = " ".join("".join(self.words).split())
        if text:
            self.blocks.append(text)
        self.words = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if self.skipped is not None:
            self.skipped_depth += tag == self.skipped
            return
        attributes = dict(attrs)
        if (tag == "sup" and (attributes.get("id") or "").startswith("fnref")) or (
            tag == "a" and "footnote-backref" in (attributes.get("class") or "")
        ):
            self.skipped, self.skipped_depth = tag, 1
            return
        if tag in self.BLOCKS:
            self.flush()
        if tag in self.HEADINGS:
            self.in_heading += 1
        elif tag == "br":
            self.words.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skipped is not None:
            if tag == self.skipped:
                self.skipped_depth -= 1
                if not self.skipped_depth:
                    self.skipped = None
            return
        if tag in self.BLOCKS:
            self.flush()
        if tag in self.HEADINGS:
            self.in_heading = max(0, self.in_heading - 1)

    def handle_data(self, data: str) -> None:
        if self.skipped is None and (self.headings or not self.in_heading):
            self.words.append(data)


# A block that ends in one of these reads well before the next one.
ENDS_A_SENTENCE = re.compile(r"[.!?…:;,。！？；：，、؟؛،۔][\"”’'»)\]」』）]*$")  # noqa: RUF001
# A block ending in Chinese or Japanese gets their full stop, not ours.
ENDS_IN_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]$")


def _joined(blocks: list[str]) -> str:
    """Blocks as running text: each one but the last that does not end a
    sentence gets a full stop, so list items and headings do not run into
    what follows."""
    ended = [
        b
        if ENDS_A_SENTENCE.search(b)
        else f"{b}。"
        if ENDS_IN_CJK.search(b)
        else f"{b}."
        for b in blocks[:-1]
    ]
    return " ".join([*ended, *blocks[-1:]])


def text_blocks(source: str, *, headings: bool = True) -> list[str]:
    """The text of each block of a Markdown text, as readers see it."""
    parser = _TextBlocks(headings=headings)
    parser.feed(markdownify(source))
    parser.close()
    parser.flush()
    return parser.blocks


@lru_cache(maxsize=2048)
def plain_text(source: str) -> str:
    """The words of a Markdown text, without markup, broken at block
    boundaries (for search and its snippets)."""
    return _joined(text_blocks(source))


@lru_cache(maxsize=2048)
def plain_summary(source: str, words: int = 50) -> str:
    """The opening words of the text, headings left out (they read as noise),
    broken at block boundaries."""
    text = _joined(text_blocks(source, headings=False))
    return Truncator(text).words(words, truncate=" …")
