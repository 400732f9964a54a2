"""What the post page adds for reading: the reading time and a table of
contents built from the heading ids blog/markup.py already gives (the
Markdown `toc` extension). Both depend only on the rendered HTML, so they
are memoised per process like the rendering itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from django.utils.html import strip_tags

WORDS_PER_MINUTE = 230
# A table of contents only where it helps: a long post with sections.
TOC_MIN_HEADINGS = 3
TOC_MIN_WORDS = 250

_HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)</h\1>', re.DOTALL)


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@lru_cache(maxsize=2048)
def word_count(body_html: str) -> int:
    return len(html.unescape(strip_tags(body_html)).split())


def reading_minutes(body_html: str) -> int:
    """Minutes an adult reads the text in, at least one."""
    return max(1, round(word_count(body_html) / WORDS_PER_MINUTE))


@lru_cache(maxsize=2048)
def contents(body_html: str) -> tuple[Heading, ...]:
    """The sections (h2, h3 with ids) of a long post; () for a short one."""
    headings = tuple(
        Heading(int(level), ident, " ".join(html.unescape(strip_tags(text)).split()))
        for level, ident, text in _HEADING.findall(body_html)
    )
    if len(headings) < TOC_MIN_HEADINGS or word_count(body_html) < TOC_MIN_WORDS:
        return ()
    return headings
