"""No script injection: every vector in xss_vectors.json goes in through every
input a person controls and comes out inert on every page that shows it.

Each vector calls a marker when it runs: `alert(N)` (or confirm, prompt...),
`window.__xss = N` or `document.title = "XSS" + N`, N being its id in the
file. A page fails the check when, after it has loaded, the browser opened a
dialog, `window.__xss` is set, the title starts with "XSS", a script threw,
or the DOM holds what only an injection puts there: an `on*` attribute, a
`javascript:`/`vbscript:`/HTML `data:` URL, an inline script, a frame, an
object, a `<base>`, a refresh or markup in a feed. The DOM scan also catches
vectors that wait for a click or a hover, which no dialog would reveal.

The site's Content-Security-Policy (no inline script) would stop most of
these vectors even if escaping failed, so the browser contexts here bypass
it: what is checked is the first line of defence, escaping and sanitising.

To stay fast, vectors travel in batches of BATCH: one post holds a batch in
its title, body, excerpt, SEO description and image description, its
category, author and a tag are named with the batch, and it carries one
comment (name, website, text), one tag and one liker per vector. Bulk data
goes in through the ORM (the admin forms store these fields verbatim); the
real admin forms, the comment form, the search box and import_wordpress
carry samples or whole batches. The counts go to e2e-artifacts/xss-report.json.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

import defusedxml.ElementTree as SafeET
import markdown
import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import XtdComment
from playwright.sync_api import Browser, expect
from taggit.models import Tag, TaggedItem

from blog import markup
from blog.models import Category, Post, Revision
from comments import notifications
from comments.models import Comment, DiscussionSettings, PostLike
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_comment, make_post, make_user

VECTORS_FILE = Path(__file__).with_name("xss_vectors.json")
BATCH = 20  # vectors per batch; also the likers and tags a post page names


@dataclass(frozen=True)
class Vector:
    id: int
    category: str
    text: str


VECTORS = [
    Vector(item["id"], item["category"], item["vector"])
    for item in json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
]
BATCHES = [VECTORS[start : start + BATCH] for start in range(0, len(VECTORS), BATCH)]
# Vectors from every category for the real forms (each takes a page or two).
SAMPLE = VECTORS[::40]


def paragraphs(vectors: Iterable[Vector]) -> str:
    """Vectors as a long text (a body, a description, a comment)."""
    return "\n\n".join(vector.text for vector in vectors)


def line(vectors: Iterable[Vector]) -> str:
    """Vectors as a one-line text (a title, a name)."""
    return " ".join(vector.text for vector in vectors)


SCAN = Path(__file__).with_name("xss_scan.js").read_text(encoding="utf-8")


@dataclass
class Ledger:
    """What went in where, what was loaded, and what the browser saw."""

    inputs: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    samples: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    pages: Counter = field(default_factory=Counter)
    dialogs: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    page_seconds: Counter = field(default_factory=Counter)

    def went_in(self, vectors: Iterable[Vector], *inputs: str) -> None:
        ids = {vector.id for vector in vectors}
        for name in inputs:
            self.inputs[name] |= ids

    def sampled(self, vectors: Iterable[Vector], *inputs: str) -> None:
        ids = {vector.id for vector in vectors}
        for name in inputs:
            self.samples[name] |= ids

    def report(self) -> dict:
        pages = sum(self.pages.values())
        complete = sorted(
            name for name, ids in self.inputs.items() if len(ids) == len(VECTORS)
        )
        return {
            "summary": (
                f"{len(VECTORS)} vectors \u00d7 {len(complete)} inputs, {pages} pages "
                f"loaded, {len(self.dialogs)} dialogs"
            ),
            "vectors": len(VECTORS),
            "vectors_by_category": dict(
                sorted(Counter(vector.category for vector in VECTORS).items())
            ),
            "inputs_with_every_vector": complete,
            "vectors_per_input": {
                name: len(ids) for name, ids in sorted(self.inputs.items())
            },
            "real_form_samples": {
                name: len(ids) for name, ids in sorted(self.samples.items())
            },
            "pages_loaded": pages,
            "pages_by_kind": dict(sorted(self.pages.items())),
            "dialogs": len(self.dialogs),
            "findings": self.findings,
            "seconds": {name: round(s, 1) for name, s in self.seconds.items()},
            "seconds_by_page_kind": {
                kind: round(s, 1) for kind, s in sorted(self.page_seconds.items())
            },
        }


LEDGER = Ledger()


@pytest.fixture(scope="module", autouse=True)
def xss_report(request) -> Iterator[Ledger]:
    """Writes e2e-artifacts/xss-report.json and prints the summary line."""
    started = time.monotonic()
    yield LEDGER
    LEDGER.seconds["total"] = time.monotonic() - started
    report = LEDGER.report()
    text = json.dumps(report, indent=2, ensure_ascii=False)
    (ARTIFACTS / "xss-report.json").write_text(text + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\nXSS: {report['summary']}")


class Probe:
    """A browser tab that loads pages and says what ran or was injected.

    Its context bypasses the site's CSP (see the module docstring). Missing
    resources are fine here: the vectors are full of `src=x`.
    """

    def __init__(self, browser: Browser, base_url: str, name: str) -> None:
        self.name = name
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.context = browser.new_context(base_url=base_url, bypass_csp=True)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.where = ""
        self.found: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("request", self._on_request)
        self.started = time.monotonic()

    def _on_dialog(self, dialog) -> None:
        message = f"{dialog.type}({dialog.message!r}) on {self.where}"
        LEDGER.dialogs.append(message)
        self.found.append(message)
        dialog.dismiss()

    def _on_page_error(self, error) -> None:
        self.found.append(f"uncaught exception {error} on {self.where}")

    def _on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in {"data", "blob", "about"} and (
            f"{parts.scheme}://{parts.netloc}" != self.origin
        ):
            self.found.append(f"request to another host: {request.url}")

    def check(self, kind: str, where: str = "") -> None:
        """Scan the page as it is now; `kind` counts it in the report."""
        self.where = where or self.page.url
        self.found.extend(
            f"{finding} on {self.where}" for finding in self.page.evaluate(SCAN, 30)
        )
        LEDGER.pages[kind] += 1

    def visit(self, path: str, kind: str) -> str:
        """Open `path`, check it, and return the body the server sent."""
        started = time.monotonic()
        self.where = path
        response = self.page.goto(path)
        self.check(kind, path)
        LEDGER.page_seconds[kind] += time.monotonic() - started
        return response.text()

    def visit_feed(self, path: str) -> None:
        """Open a feed (Chromium shows it as text), then as a reader shows it."""
        self.show(reader_view(self.visit(path, "feed")), "feed in a reader", path)

    def show(self, html: str, kind: str, where: str) -> None:
        """Load a document that has no URL of its own (an email)."""
        started = time.monotonic()
        self.where = where
        self.page.set_content(html)
        self.check(kind, where)
        LEDGER.page_seconds[kind] += time.monotonic() - started

    def close(self) -> None:
        LEDGER.seconds[self.name] = time.monotonic() - self.started
        LEDGER.findings.extend(self.found)
        try:
            self.page.screenshot(path=ARTIFACTS / f"xss-{self.name}.png")
        finally:
            self.context.close()

    def assert_inert(self) -> None:
        assert not self.found, "Injected script or markup:\n" + "\n".join(self.found)


def reader_view(feed: str) -> str:
    """A feed as a feed reader shows it: the entries' HTML as HTML, titles,
    names and categories as text."""
    root = SafeET.fromstring(feed.encode())
    atom = "{http://www.w3.org/2005/Atom}"
    articles = []
    for item in [*root.iter("item"), *root.iter(f"{atom}entry")]:
        texts = [
            element.text or ""
            for element in item.iter()
            if element.tag.removeprefix(atom) in {"title", "category", "name"}
        ]
        texts += [element.get("term", "") for element in item.iter(f"{atom}category")]
        body = item.findtext("description") or item.findtext(f"{atom}summary") or ""
        articles.append(
            "<article>"
            + "".join(f"<p>{escape(text)}</p>" for text in texts)
            + f"<div>{body}</div></article>"
        )
    title = escape(root.findtext("channel/title") or root.findtext(f"{atom}title"))
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body>{''.join(articles)}</body></html>"
    )


@pytest.fixture
def probe(browser, live_server, request) -> Iterator[Probe]:
    probe = Probe(browser, live_server.url, request.node.name.removeprefix("test_"))
    yield probe
    probe.close()


# Bulk data -------------------------------------------------------------------


@dataclass
class Site:
    posts: list[Post]  # one per batch
    categories: list[Category]  # one per batch, children of `parent`
    parent: Category
    batch_tags: list[Tag]  # one per batch, named with the batch
    authors: list  # one per batch, named with the batch


def insert_comments(rows: list[dict]) -> list[Comment]:
    """Approved top-level comments in three queries (the ORM cannot
    bulk-create the three-table Comment; XtdComment.save() costs a dozen
    queries each)."""
    now = timezone.now()
    post_type = ContentType.objects.get_for_model(Post)
    bases = BaseComment.objects.bulk_create(
        BaseComment(
            content_type=post_type,
            object_pk=str(row["post"].pk),
            site_id=1,
            user_name=row["name"],
            user_email=row.get("email", "reader@example.org"),
            user_url=row.get("url", ""),
            comment=row["body"],
            submit_date=now - timedelta(seconds=len(rows) - number),
            ip_address="192.0.2.10",
        )
        for number, row in enumerate(rows)
    )
    quote_name = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote_name(XtdComment._meta.db_table)} (comment_ptr_id, "
            f"thread_id, parent_id, level, {quote_name('order')}, followup, "
            "nested_count) VALUES (%s, %s, %s, 0, 1, %s, 0)",
            [
                (base.pk, base.pk, base.pk, bool(row.get("followup")))
                for base, row in zip(bases, rows, strict=True)
            ],
        )
        cursor.executemany(
            f"INSERT INTO {quote_name(Comment._meta.db_table)} (xtdcomment_ptr_id, "
            "state, reason) VALUES (%s, 'public', '')",
            [(base.pk,) for base in bases],
        )
    return list(Comment.objects.filter(pk__in=[base.pk for base in bases]))


def build_site() -> Site:
    """Every vector in every field a person fills in, in a few bulk queries.

    SQLite (what `make e2e` uses) does not enforce max_length, so one-line
    fields take a whole batch, as a form without limits would store it.
    """
    now = timezone.now()
    User = get_user_model()
    parent = Category.objects.create(
        name="Vectors", slug="vectors", description=paragraphs(VECTORS)
    )
    categories = Category.objects.bulk_create(
        Category(
            name=line(batch),
            slug=f"vectors-{k}",
            description=paragraphs(batch),
            parent=parent,
        )
        for k, batch in enumerate(BATCHES, 1)
    )
    authors = User.objects.bulk_create(
        User(
            username=f"author{k}",
            first_name=line(batch),
            email=f"author{k}@example.org",
            password="!",
        )
        for k, batch in enumerate(BATCHES, 1)
    )
    likers = User.objects.bulk_create(
        User(
            username=f"liker{vector.id}",
            first_name=vector.text,
            email=f"liker{vector.id}@example.org",
            password="!",
        )
        for vector in VECTORS
    )
    posts = Post.objects.bulk_create(
        Post(
            title=line(batch),
            slug=f"vectors-{k}",
            author=author,
            category=category,
            body=paragraphs(batch),
            excerpt=paragraphs(batch),
            seo_description=line(batch),
            featured_image=f"featured/vectors-{k}.png",
            featured_image_alt=line(batch),
            status=Post.Status.PUBLISHED,
            published_at=now - timedelta(hours=k),
        )
        for k, (batch, author, category) in enumerate(
            zip(BATCHES, authors, categories, strict=True), 1
        )
    )
    post_of = {
        vector.id: post
        for post, batch in zip(posts, BATCHES, strict=True)
        for vector in batch
    }
    tags = Tag.objects.bulk_create(
        Tag(name=vector.text, slug=f"xss-{vector.id}") for vector in VECTORS
    )
    batch_tags = Tag.objects.bulk_create(
        Tag(name=line(batch), slug=f"vectors-{k}") for k, batch in enumerate(BATCHES, 1)
    )
    post_type = ContentType.objects.get_for_model(Post)
    TaggedItem.objects.bulk_create(
        [
            TaggedItem(content_type=post_type, object_id=post_of[vector.id].pk, tag=tag)
            for vector, tag in zip(VECTORS, tags, strict=True)
        ]
        + [
            TaggedItem(content_type=post_type, object_id=post.pk, tag=tag)
            for post, tag in zip(posts, batch_tags, strict=True)
        ]
    )
    PostLike.objects.bulk_create(
        PostLike(post=post_of[vector.id], user=liker)
        for vector, liker in zip(VECTORS, likers, strict=True)
    )
    insert_comments(
        [
            {
                "post": post_of[vector.id],
                "name": vector.text,
                "url": vector.text,
                "body": vector.text,
            }
            for vector in VECTORS
        ]
    )
    return Site(posts, categories, parent, batch_tags, authors)


# The checks ------------------------------------------------------------------


def test_public_pages(probe):
    """Post, home, category, tag, author and search pages, and the feeds."""
    started = time.monotonic()
    site = build_site()
    LEDGER.seconds["bulk data"] = time.monotonic() - started
    LEDGER.went_in(
        VECTORS,
        "post title",
        "post body",
        "post excerpt",
        "post SEO description",
        "featured image description",
        "category name",
        "category description",
        "tag name",
        "author name",
        "comment text",
        "commenter name",
        "commenter website",
        "liker name",
    )

    for post in site.posts:
        probe.visit(post.get_absolute_url(), "post")
    for number in range(1, -(-len(site.posts) // 10) + 1):
        probe.visit(f"/?page={number}", "home")
    probe.visit(site.parent.get_absolute_url(), "category")
    for category, tag, author in zip(
        site.categories, site.batch_tags, site.authors, strict=True
    ):
        probe.visit(category.get_absolute_url(), "category")
        probe.visit(reverse("blog:tag", args=[tag.slug]), "tag")
        probe.visit(reverse("blog:author", args=[author.username]), "author")

    # The site feeds hold the newest 20 posts; category feeds the others.
    for path in ("/feed/", "/feed/atom/"):
        probe.visit_feed(path)
    for category in site.categories[20:]:
        probe.visit_feed(reverse("blog:category_feed", args=[category.slug]))
        probe.visit_feed(reverse("blog:category_feed_atom", args=[category.slug]))
    for post in site.posts:
        probe.visit_feed(reverse("comments:feed", args=[post.pk]))
    probe.visit_feed(reverse("blog:tag_feed", args=[site.batch_tags[0].slug]))
    probe.visit_feed(reverse("blog:author_feed_atom", args=[site.authors[0].username]))

    # The search box takes 200 characters: as many vectors as fit per query.
    queries: list[str] = []
    for vector in VECTORS:
        if queries and len(queries[-1]) + 1 + len(vector.text) <= 200:
            queries[-1] += " " + vector.text
        else:
            queries.append(vector.text)
    for query in queries:
        probe.visit(f"/search/?q={quote(query)}", "search")
    probe.visit("/search/?q=alert", "search")  # results: titles and snippets
    # And once through the search box, as a reader types.
    probe.page.locator("#site-search-q").fill(SAMPLE[2].text)
    probe.page.locator("#site-search-q").press("Enter")
    probe.page.wait_for_url("**/search/?q=*")
    probe.check("search")
    LEDGER.sampled([SAMPLE[2]], "search box")
    LEDGER.went_in(VECTORS, "search query")
    probe.assert_inert()


def sign_in(probe: Probe, username: str) -> None:
    page = probe.page
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_admin(probe):
    """The admin forms store vectors verbatim; the change lists and the
    Markdown preview show them inert."""
    site = build_site()
    make_user(username="editor", is_staff=True, is_superuser=True)
    page = probe.page
    sign_in(probe, "editor")

    # A category and a post through the real forms: one vector in each
    # one-line field, every vector in each long field.
    title_vector, name_vector, tag_vector = (
        next(
            v
            for v in VECTORS[start:]
            if len(v.text) <= 100 and not re.search('[",\n]', v.text)
        )
        for start in (0, len(VECTORS) // 3, 2 * len(VECTORS) // 3)
    )
    page.goto(reverse("admin:blog_category_add"))
    page.locator("#id_name").fill(name_vector.text)
    page.locator("#id_slug").fill("admin-category")
    page.locator("#id_description").fill(paragraphs(VECTORS))
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("was added successfully").wait_for()
    probe.check("admin")

    page.goto(reverse("admin:blog_post_add"))
    page.locator("#id_title").fill(title_vector.text)
    page.locator("#id_slug").fill("admin-post")
    # Typed key by key, as an author would, then the preview is checked.
    with page.expect_response("**/markdownx/markdownify/"):
        page.locator("#id_body").press_sequentially(SAMPLE[1].text, delay=5)
    probe.check("markdown preview")
    with page.expect_response("**/markdownx/markdownify/"):
        page.locator("#id_body").fill(paragraphs(VECTORS))
    probe.check("markdown preview")
    LEDGER.went_in(VECTORS, "markdown preview")
    page.locator("#id_tags").fill(f'"{tag_vector.text}"')
    page.locator("#id_excerpt").fill(paragraphs(VECTORS))
    page.locator("#id_seo_description").fill(title_vector.text)
    page.locator("#id_featured_image_alt").fill(name_vector.text)
    page.locator("#id_status").select_option("published")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("was added successfully").wait_for()
    probe.check("admin")
    LEDGER.sampled(
        [title_vector, name_vector, tag_vector],
        "admin post form",
        "admin category form",
    )
    LEDGER.went_in(
        VECTORS, "admin post form (body, excerpt)", "admin category form (description)"
    )

    post = Post.objects.exclude(pk__in=[p.pk for p in site.posts]).get()
    # Browsers send a textarea's line breaks as CRLF.
    assert post.title == title_vector.text
    assert re.sub("\r\n?", "\n", post.body) == re.sub(
        "\r\n?", "\n", paragraphs(VECTORS)
    )
    category = Category.objects.get(name=name_vector.text)
    assert category.name == name_vector.text
    assert post.tags.get().name == tag_vector.text
    probe.visit(post.get_absolute_url(), "post")
    probe.visit(category.get_absolute_url(), "category")
    probe.visit(reverse("blog:tag", args=[post.tags.get().slug]), "tag")
    probe.visit("/", "home")

    # An author opening a post in the editor: the preview renders the body.
    for bulk_post in (site.posts[0], site.posts[-1]):
        with page.expect_response("**/markdownx/markdownify/"):
            page.goto(reverse("admin:blog_post_change", args=[bulk_post.pk]))
        probe.check("admin post editor")

    # The revisions screens show the old and the new text side by side: the
    # title and every other line edited (a word change), the rest removed.
    post.title = f"{post.title} (edited)"
    post.body = "\n".join(f"{line} (edited)" for line in post.body.splitlines()[::2])
    post.save()
    first = Revision.objects.of(post).last()
    probe.visit(reverse("admin:blog_post_revisions", args=[post.pk]), "admin revisions")
    probe.visit(
        reverse("admin:blog_post_revision", args=[post.pk, first.pk]), "admin revisions"
    )

    changelists = [
        reverse("admin:blog_post_changelist"),
        reverse("admin:blog_category_changelist"),
        reverse("admin:taggit_tag_changelist"),
        reverse("admin:auth_user_changelist"),
    ]
    with contextlib.suppress(NoReverseMatch):  # once comments have an admin
        changelists.append(reverse("admin:comments_comment_changelist"))
    for path in changelists:
        probe.visit(path, "admin change list")
        pages = page.locator(".paginator a[href*='p=']").evaluate_all(
            "links => [...new Set(links.map(link => link.getAttribute('href')))]"
        )
        for query in pages:
            probe.visit(f"{path}{query}", "admin change list")
    probe.visit(
        f"{reverse('admin:blog_post_changelist')}?q={quote(SAMPLE[0].text)}",
        "admin change list",
    )
    probe.assert_inert()


def test_comment_form_and_emails(probe, settings, mailoutbox):
    """Readers' comments through the real form (a sample), the confirmation
    page, the remembered details, and the HTML of every comment email."""
    settings.COMMENTS_XTD_CONFIRM_EMAIL = True
    settings.INKWELL_CONFIRMATION_MAILS_PER_ADDRESS = 1000
    settings.INKWELL_CONFIRMATION_MAILS_PER_IP = 1000
    # One reader posting fast: no rate limit, no "too fast", nothing held.
    settings.INKWELL_COMMENT_RATE_LIMITS = []
    settings.INKWELL_COMMENT_MIN_SECONDS = 0
    DiscussionSettings.objects.update_or_create(
        pk=1,
        defaults={
            "hold_policy": DiscussionSettings.HoldPolicy.NEVER,
            "hold_links": 0,
        },
    )
    page = probe.page
    post = make_post(title="Talk to me", author=make_user(username="writer"))

    for vector in SAMPLE:
        page.goto(post.get_absolute_url())
        page.get_by_role("textbox", name="Name", exact=True).fill(vector.text)
        page.get_by_role("textbox", name="Email", exact=True).fill("reader@example.com")
        page.get_by_role("textbox", name="Website", exact=True).fill(vector.text)
        page.get_by_role("textbox", name="Comment", exact=True).fill(vector.text)
        page.get_by_role("checkbox", name=re.compile("Save my name")).check()
        page.get_by_role("button", name="Post Comment").click()
        page.wait_for_load_state()
        probe.check("comment form answer")
    LEDGER.sampled(
        SAMPLE, "comment form name", "comment form website", "comment form text"
    )

    # Valid names and addresses, so that the comments are saved.
    for vector in SAMPLE:
        page.goto(post.get_absolute_url())  # prefilled from the remembered cookie
        probe.check("post")
        page.get_by_role("textbox", name="Name", exact=True).fill(vector.text[:50])
        page.get_by_role("textbox", name="Email", exact=True).fill("reader@example.com")
        page.get_by_role("textbox", name="Website", exact=True).fill("")
        page.get_by_role("textbox", name="Comment", exact=True).fill(vector.text)
        page.get_by_role("button", name="Post Comment").click()
        page.wait_for_load_state()
        probe.check("comment form answer")
    confirmations = [m for m in mailoutbox if "confirm" in m.subject.lower()]
    assert len(confirmations) >= len(SAMPLE)
    for message in confirmations:
        link = re.search(
            r"https?://\S+/comments/confirm/[^/\s]+/", message.body
        ).group()
        probe.visit(urlsplit(link).path, "comment confirmation")
        page.get_by_role("button", name="Confirm my comment").click()
        page.wait_for_load_state()
        probe.check("post")
    assert Comment.objects.approved().count() >= len(SAMPLE)
    probe.visit(post.get_absolute_url(), "post")
    reply = page.locator(".comment__reply").first
    reply.click()
    expect(page.locator("#reply-title")).to_contain_text("Leave a Reply to")
    probe.check("post")

    # Every kind of comment email, with a batch in the comment, the
    # commenter's name and the post's title.
    mailoutbox.clear()
    for k, batch in enumerate(BATCHES, 1):
        author = make_user(username=f"writer{k}", first_name=line(batch))
        target = make_post(title=line(batch), author=author)
        make_comment(
            post=target,
            name=line(batch),
            email=f"follower{k}@example.org",
            followup=True,
        )
        comment = make_comment(
            post=target,
            name=line(batch),
            email=f"reader{k}@example.org",
            body=paragraphs(batch),
            state=Comment.State.HELD,
        )
        notifications.notify_moderators(comment)
        notifications.send_confirmation_request(comment, "192.0.2.10")
        comment.state = Comment.State.PUBLIC
        notifications.notify_post_author(comment)
        notifications.notify_followers(comment)
        notifications.notify_approved(comment)
    kinds = Counter()
    for message in mailoutbox:
        html = next(body for body, kind in message.alternatives if kind == "text/html")
        probe.show(html, "email", f"email {message.subject!r} to {message.to[0]}")
        kinds[message.subject.split("“")[0].strip()] += 1
        # A held comment's mail lets its moderator act from a page that
        # shows the comment.
        link = re.search(r"https?://[^/\s]+(/comments/moderate/[^/\s]+/)", message.body)
        if link:
            probe.visit(link.group(1), "moderation link page")
    assert len(kinds) == 4 and LEDGER.pages["moderation link page"], kinds
    LEDGER.went_in(
        VECTORS, "email: comment text", "email: commenter name", "email: post title"
    )
    probe.assert_inert()


def wxr(batches: list[list[Vector]]) -> str:
    """A WordPress export with vectors in every field a WordPress user fills."""
    x = xml_escape
    items = []
    for k, batch in enumerate(batches, 1):
        comments = "".join(
            f"""
      <wp:comment>
        <wp:comment_id>{vector.id}</wp:comment_id>
        <wp:comment_author>{x(vector.text)}</wp:comment_author>
        <wp:comment_author_email>reader{vector.id}@example.com</wp:comment_author_email>
        <wp:comment_author_url>{x(vector.text)}</wp:comment_author_url>
        <wp:comment_author_IP>192.0.2.1</wp:comment_author_IP>
        <wp:comment_date>2020-01-02 10:00:{vector.id % 60:02d}</wp:comment_date>
        <wp:comment_date_gmt>2020-01-02 09:00:{vector.id % 60:02d}</wp:comment_date_gmt>
        <wp:comment_content>{x(vector.text)}</wp:comment_content>
        <wp:comment_approved>1</wp:comment_approved>
        <wp:comment_type></wp:comment_type>
        <wp:comment_parent>0</wp:comment_parent>
        <wp:comment_user_id>0</wp:comment_user_id>
      </wp:comment>"""
            for vector in batch
        )
        tags = "".join(
            f'<category domain="post_tag" nicename="wp-tag-{v.id}">'
            f"{x(v.text)}</category>"
            for v in batch
        )
        items.append(
            f"""
  <item>
    <title>{x(line(batch))}</title>
    <link>http://old.example.com/?p={k}</link>
    <dc:creator>author{k}</dc:creator>
    <content:encoded>{x(paragraphs(batch))}</content:encoded>
    <excerpt:encoded>{x(paragraphs(batch))}</excerpt:encoded>
    <wp:post_id>{k}</wp:post_id>
    <wp:post_date>2020-01-01 12:{k:02d}:00</wp:post_date>
    <wp:post_date_gmt>2020-01-01 11:{k:02d}:00</wp:post_date_gmt>
    <wp:comment_status>open</wp:comment_status>
    <wp:post_name>wp-vectors-{k}</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <category domain="category" nicename="wp-category-{k}">{x(line(batch))}</category>
    {tags}{comments}
  </item>"""
        )
    authors = "".join(
        f"""
  <wp:author><wp:author_id>{k}</wp:author_id><wp:author_login>author{k}</wp:author_login>
    <wp:author_email>author{k}@example.com</wp:author_email>
    <wp:author_display_name>{x(line(batch))}</wp:author_display_name>
    <wp:author_first_name>{x(line(batch))}</wp:author_first_name>
  </wp:author>"""
        for k, batch in enumerate(batches, 1)
    )
    categories = "".join(
        f"""
  <wp:category><wp:term_id>{k}</wp:term_id>
    <wp:category_nicename>wp-category-{k}</wp:category_nicename>
    <wp:category_parent></wp:category_parent><wp:cat_name>{x(line(batch))}</wp:cat_name>
    <wp:category_description>{x(paragraphs(batch))}</wp:category_description>
  </wp:category>"""
        for k, batch in enumerate(batches, 1)
    )
    ns = "http://wordpress.org/export/1.2/"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="{ns}excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="{ns}">
<channel>
  <title>Old blog</title>
  <link>http://old.example.com</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  {authors}{categories}{"".join(items)}
</channel>
</rss>
"""


def test_wordpress_import(probe, tmp_path):
    """import_wordpress brings vectors in titles, content, excerpts, terms,
    authors and comments; the imported pages show them inert."""
    export = tmp_path / "vectors.xml"
    export.write_text(wxr(BATCHES), encoding="utf-8")
    call_command("import_wordpress", str(export), verbosity=0)
    posts = list(Post.objects.select_related("category", "author").order_by("pk"))
    assert len(posts) == len(BATCHES)
    assert Comment.objects.approved().count() == len(VECTORS)
    for post in posts:
        probe.visit(post.get_absolute_url(), "post")
        probe.visit(post.category.get_absolute_url(), "category")
        probe.visit(reverse("blog:author", args=[post.author.username]), "author")
    for number in range(1, -(-len(posts) // 10) + 1):
        probe.visit(f"/?page={number}", "home")
    probe.visit_feed("/feed/")
    LEDGER.went_in(
        VECTORS,
        "WordPress: post title",
        "WordPress: post content",
        "WordPress: excerpt",
        "WordPress: category",
        "WordPress: tag",
        "WordPress: author name",
        "WordPress: comment text",
        "WordPress: commenter name",
        "WordPress: commenter website",
    )
    probe.assert_inert()


def unescaped(text: str) -> str:
    """A page that puts `text` raw into the contexts vectors aim at: what a
    template with `|safe`, or a sanitiser that let everything through,
    would do."""
    decoded = {
        html.unescape(text),
        unquote(unquote(text)),
        re.sub(
            r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})",
            lambda m: chr(int(m.group(1) or m.group(2), 16)),
            text,
        ),
    }
    return "\n".join(
        [
            "<!DOCTYPE html><html><head><title>t</title></head><body>",
            text,
            markdown.markdown(
                text,
                extensions=markup.POST_EXTENSIONS,
                extension_configs=markup.POST_EXTENSION_CONFIGS,
            ),
            *decoded,
            f"<input value=\"{text}\"><input value='{text}'>",
            f'<img alt="{text}" src="x"><a href="{text}">x</a>',
            f"<script>var a = \"{text}\";</script><script>var b = '{text}';</script>",
            f'<script type="application/ld+json">{{"name": "{text}"}}</script>',
            "</body></html>",
        ]
    )


# Instead of a dialog per run (a round trip each), every frame's alert,
# confirm and prompt, and the top page's __xss, record into top.__hits.
RECORD_RUNS = """
(() => {
  const record = (value) => top.__hits.push(String(value));
  if (window === top) {
    window.__hits = [];
    Object.defineProperty(window, "__xss", {set: record});
  }
  window.alert = window.confirm = window.prompt = record;
})();
"""


def test_every_vector_runs_when_left_unescaped(browser):
    """The corpus is live, so the checks above can fail: put raw into the
    contexts it aims at, every vector runs (calls its marker) or leaves
    markup the scan reports (handlers that wait for a click or a hover)."""
    context = browser.new_context(bypass_csp=True)
    context.add_init_script(RECORD_RUNS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.dismiss())
    ran: set[int] = set()
    try:
        for start in range(0, len(VECTORS), 120):
            batch = VECTORS[start : start + 120]
            page.set_content(
                f"<!DOCTYPE html><title>Corpus</title><script>{RECORD_RUNS}</script>"
                + "".join(
                    f'<iframe name="v{v.id}" srcdoc="{escape(unescaped(v.text))}">'
                    "</iframe>"
                    for v in batch
                )
            )
            page.wait_for_timeout(200)
            hits = page.evaluate("window.__hits")
            ran.update(int(n) for hit in hits for n in re.findall(r"\d+", hit))
            for frame in page.frames:
                outer = frame
                while outer.parent_frame and outer.parent_frame.parent_frame:
                    outer = outer.parent_frame
                if outer.name.startswith("v") and frame.evaluate(SCAN, 0):
                    ran.add(int(outer.name[1:]))
    finally:
        context.close()
    dead = [v for v in VECTORS if v.id not in ran]
    assert not dead, "Vectors that never run:\n" + "\n".join(
        f"{v.id}: {v.text!r}" for v in dead
    )
