"""Finds published posts (and the few best pages) for a reader's query, best
match first, with snippets. A query that matches more than MAX_RESULTS posts
is ranked among the newest of them only, and the reader is told so.

On PostgreSQL: full-text search over the stored, weighted `Post.search_vector`
(title A, excerpt B, body C; kept current by a trigger, migration 0003),
ranked with SearchRank, queried in websearch syntax ("quoted phrases", -not,
or); snippets are cut by PostgreSQL's ts_headline, which knows the query's
stems. On SQLite: every word must appear in the title, excerpt or body
(case-insensitive); title matches rank above excerpt matches above body
matches; snippets are cut in Python.

Chinese, Japanese and Korean are written without spaces between words, and
neither PostgreSQL's parser nor its configurations segment them (a whole run
of characters is one "word"), so a query with such characters is matched as
substrings on either database: the SQLite way, every word of the query in
the title, excerpt or body, ranked the same, bounded the same, its snippet
cut in Python by characters.

Either way a snippet is cut from the text as readers see it (the rendered
Markdown as plain text, broken at block boundaries: `markup.plain_text`),
never from the Markdown source, for the page of results shown only.
Snippets are HTML: the text is escaped and only our own <mark> is added.
A password-protected post is matched by its title only and shows no snippet
of its text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from blog import markup, pagecache
from blog.models import Page, Post

MAX_QUERY_LENGTH = 200
# Readers page through no more than this: a query matching every post of a
# big blog ranks the newest MAX_RESULTS matches only, and says "more than".
MAX_RESULTS = 500
# Pages are listed above the posts found, the best few only.
MAX_PAGES = 5
MAX_WORDS = 20
SNIPPET_WORDS = 30
CONFIG = "english"
# Ideographs, kana and hangul: scripts whose words no stemmer splits.
UNSEGMENTED = re.compile(
    "[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]"
)
SNIPPET_CHARS = 80

# Private-use characters mark the matches in PostgreSQL's headline, so the
# text around them can be escaped before the <mark> tags go in.
START, STOP = "\ue000", "\ue001"
# One query for the snippets of a page of results, in their order.
HEADLINES_SQL = """
SELECT ts_headline(%s::regconfig, t.text, websearch_to_tsquery(%s::regconfig, %s), %s)
FROM unnest(%s::text[]) WITH ORDINALITY AS t(text, n)
ORDER BY t.n
"""


def clean_query(raw: str) -> tuple[str, bool]:
    """The query as searched (spaces tidied, capped) and whether it was cut."""
    # Control and private-use characters mean nothing to search (and NUL
    # cannot even reach PostgreSQL).
    query = " ".join("".join(c for c in raw if c.isprintable() or c.isspace()).split())
    return query[:MAX_QUERY_LENGTH].strip(), len(query) > MAX_QUERY_LENGTH


def query_words(query: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"\w+", query.lower())))[:MAX_WORDS]


def full_text(query: str) -> bool:
    """Whether PostgreSQL's full-text search can find `query`'s words."""
    return connection.vendor == "postgresql" and not UNSEGMENTED.search(query)


def matching_posts(query: str, posts: QuerySet | None = None) -> QuerySet:
    """Published posts that match `query` (among `posts`, if given), best
    first."""
    if posts is None:
        posts = Post.objects.published()
    posts = posts.select_related("author", "category")
    if full_text(query):
        search_query = SearchQuery(query, search_type="websearch", config=CONFIG)
        return (
            posts.filter(search_vector=search_query)
            .annotate(rank=SearchRank(F("search_vector"), search_query))
            .order_by("-rank", "-published_at", "-pk")
        )
    words = query_words(query)
    if not words:
        return posts.none()
    for word in words:
        # A protected post is found by its title only (as the PostgreSQL
        # vector, migration 0004): its text is for readers with the password.
        posts = posts.filter(
            Q(title__icontains=word)
            | Q(password="") & (Q(excerpt__icontains=word) | Q(body__icontains=word))
        )
    rank = sum(
        (
            Case(
                When(title__icontains=word, then=Value(4)),
                When(excerpt__icontains=word, then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            )
            for word in words
        ),
        start=Value(0),
    )
    return posts.annotate(rank=rank).order_by("-rank", "-published_at", "-pk")


def ranked_matches(query: str) -> tuple[list[int], bool]:
    """The ids of `matching_posts`, best first, ranked among the newest
    MAX_RESULTS matches only (so the cost of a search does not grow with the
    blog), and whether there were more. Kept under the site version: a
    search asked again costs no query until a post changes."""

    def build() -> tuple[list[int], bool]:
        found = matching_posts(query)
        newest = list(
            found.order_by("-published_at", "-pk").values_list("pk", flat=True)[
                : MAX_RESULTS + 1
            ]
        )
        # Ranked by primary key lookups: SQLite read every published post
        # to find these when the publication condition led.
        among = Post.objects.published_among(newest[:MAX_RESULTS])
        ranked = matching_posts(query, among).values_list("pk", flat=True)
        return list(ranked), len(newest) > MAX_RESULTS

    return pagecache.cached("search", query, pagecache.version(), build=build)


def posts_in_order(ids: Iterable[int]) -> list[Post]:
    """The published posts of `ids`, in that order (one query)."""
    ids = list(ids)
    posts = (
        Post.objects.published_among(ids)
        .select_related("author", "category")
        .defer(*Post.UNLISTED_FIELDS)
    )
    found = {post.pk: post for post in posts}
    return [found[pk] for pk in ids if pk in found]


def matching_pages(query: str) -> list[Page]:
    """The few published pages that match `query`, best first (one query).

    Blogs have a handful of pages, so their text is searched as it is
    stored, without an index of its own: on PostgreSQL with the same
    websearch query as posts, on SQLite every word in the title or body.
    """
    pages = Page.objects.published().only("title", "path", "body")
    if full_text(query):
        search_query = SearchQuery(query, search_type="websearch", config=CONFIG)
        vector = SearchVector("title", weight="A", config=CONFIG) + SearchVector(
            "body", weight="C", config=CONFIG
        )
        pages = (
            pages.annotate(vector=vector, rank=SearchRank(vector, search_query))
            .filter(vector=search_query)
            .order_by("-rank", "menu_order", "pk")
        )
    else:
        words = query_words(query)
        if not words:
            return []
        for word in words:
            pages = pages.filter(Q(title__icontains=word) | Q(body__icontains=word))
        pages = pages.order_by("menu_order", "title", "pk")
    found = list(pages[:MAX_PAGES])
    add_snippets(found, query)
    return found


def add_snippets(found: Iterable[Post | Page], query: str) -> None:
    """Give each post or page a `snippet`: escaped text with the matches in
    <mark>, cut from its text as readers see it."""
    found = list(found)
    for item in found:
        if item.is_protected:
            item.snippet = item.summary
    shown = [item for item in found if not item.is_protected]
    texts = [markup.plain_text(item.body) for item in shown]
    if full_text(query):
        snippets = [_marked(headline) for headline in headlines(texts, query)]
    else:
        words = query_words(query)
        snippets = [python_snippet(text, words) for text in texts]
    for item, snippet in zip(shown, snippets, strict=True):
        item.snippet = snippet


def headlines(texts: list[str], query: str) -> list[str]:
    """PostgreSQL's headline of each text for `query`, matches between
    START and STOP (one query, none without texts)."""
    if not texts:
        return []
    options = (
        f"StartSel={START}, StopSel={STOP}, "
        f"MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}"
    )
    with connection.cursor() as cursor:
        cursor.execute(HEADLINES_SQL, [CONFIG, CONFIG, query, options, texts])
        return [row[0] for row in cursor.fetchall()]


def _marked(headline: str) -> SafeString:
    text = escape(" ".join(headline.split()))
    text = text.replace(START, "<mark>").replace(STOP, "</mark>")
    return mark_safe(text)  # escaped above; only our <mark> is added


def python_snippet(text: str, words: list[str]) -> SafeString:
    """About SNIPPET_WORDS words of `text` around the first match, marked."""
    tokens = text.split()
    if not words:
        return mark_safe(escape(" ".join(tokens[:SNIPPET_WORDS])))
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    if UNSEGMENTED.search(text):
        return characters_snippet(" ".join(tokens), pattern)
    first = next((i for i, token in enumerate(tokens) if pattern.search(token)), 0)
    start = max(0, first - SNIPPET_WORDS // 3)
    window = " ".join(tokens[start : start + SNIPPET_WORDS])
    prefix = "… " if start > 0 else ""
    suffix = " …" if start + SNIPPET_WORDS < len(tokens) else ""
    return marked(window, pattern, prefix, suffix)


def characters_snippet(text: str, pattern: re.Pattern) -> SafeString:
    """About SNIPPET_CHARS characters of `text` around the first match, for
    scripts without spaces between words (a Chinese paragraph is one
    "word"), marked."""
    first = pattern.search(text)
    start = max(0, first.start() - SNIPPET_CHARS // 3) if first else 0
    window = text[start : start + SNIPPET_CHARS]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + SNIPPET_CHARS < len(text) else ""
    return marked(window, pattern, prefix, suffix)


def marked(window: str, pattern: re.Pattern, prefix: str, suffix: str) -> SafeString:
    """`window` escaped, each match of `pattern` in <mark>, between `prefix`
    and `suffix` (ellipses: safe as they are)."""
    pieces, end = [], 0
    for match in pattern.finditer(window):
        pieces += [escape(window[end : match.start()]), "<mark>"]
        pieces += [escape(match.group()), "</mark>"]
        end = match.end()
    pieces.append(escape(window[end:]))
    return mark_safe(prefix + "".join(pieces) + suffix)  # every piece escaped
