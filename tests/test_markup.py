"""The one Markdown renderer: rendered, highlighted, and sanitised."""

import pytest

from blog import markup
from tests.factories import make_post


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<svg onload="alert(1)"></svg>',
        '<iframe src="https://evil.example"></iframe>',
        "![x](javascript:alert(1))",
        '<p style="background:url(javascript:alert(1))">x</p>',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    ],
)
def test_renderer_strips_script_handlers_and_javascript_urls(source):
    html = markup.markdownify(source).lower()
    assert "<script" not in html
    assert "onerror" not in html
    assert "onload" not in html
    assert "javascript:" not in html
    assert "<iframe" not in html
    assert "style=" not in html
    assert "data:" not in html


def test_headings_get_ids_and_code_is_highlighted():
    html = markup.markdownify("## Hello World\n\n```python\nx = 1\n```\n")
    assert '<h2 id="hello-world">Hello World</h2>' in html
    assert 'class="highlight"' in html
    assert '<span class="n">x</span>' in html


def test_ordinary_markdown_renders():
    html = markup.markdownify(
        "Some *emphasis*, a [link](https://example.com).\n\n- a\n- b"
    )
    assert "<em>emphasis</em>" in html
    assert '<a href="https://example.com" rel="noopener">link</a>' in html
    assert "<ul>\n<li>a</li>" in html


def test_broken_markdown_never_raises():
    for source in [
        "```\nunclosed",
        "[a](",
        "<div><p>",
        "\x00\x01",
        "#" * 5000,
        "* " * 3000,
    ]:
        assert isinstance(markup.markdownify(source), str)


def test_comment_markdown_is_a_smaller_subset_with_nofollow_links():
    html = markup.render_comment(
        "# Big\n\n**bold** [site](https://example.com) ![img](https://x/y.png)"
    )
    assert "<h1" not in html
    assert "<img" not in html
    assert "<strong>bold</strong>" in html
    assert 'rel="nofollow ugc noopener"' in html


def test_plain_summary_breaks_list_items_and_paragraphs_apart():
    source = (
        "## Stretches\n\nEvery morning:\n\n- ten slow rounds\n"
        "- Child's pose, thirty seconds\n- Cat–cow\n\nThen rest"
    )
    assert markup.plain_summary(source) == (
        "Every morning: ten slow rounds. Child's pose, thirty seconds. Cat–cow. "
        "Then rest"
    )


def test_plain_text_keeps_headings_apart_and_sentences_as_written():
    source = '# Why stretch?\n\n## Morning\n\nSay "done!"\n\n1. one\n2. two.'
    assert markup.plain_text(source) == 'Why stretch? Morning. Say "done!" one. two.'


@pytest.mark.django_db
def test_automatic_excerpt_on_the_home_page_breaks_at_blocks(client):
    make_post(title="Routine", body="- ten slow rounds\n- Child’s pose, thirty seconds")
    page = client.get("/").content.decode()
    assert "ten slow rounds. Child’s pose, thirty seconds" in page


def test_footnote_numbers_and_back_links_are_not_words_of_the_text():
    source = "Warm up gently.[^1]\n\n## Start\n\nMove slowly.\n\n[^1]: Five minutes."
    assert markup.plain_summary(source) == "Warm up gently. Move slowly. Five minutes."
    assert "↩" not in markup.plain_text(source)


def test_plain_summary_is_text_without_markup_or_headings():
    assert markup.plain_summary("## Title\n\nSome **bold** & text", words=3) == (
        "Some bold & …"
    )


def test_code_blocks_can_be_scrolled_by_keyboard_and_bad_links_leave_only_text():
    """What the browser checks ask of any text, ours or imported: a code
    block wider than the page is reachable by Tab (axe: scrollable region),
    and a link whose address was refused is plain text, not an <a> without
    href (the Nu checker)."""
    html = markup.markdownify("```\nwide code\n```\n\n[typo](hhttps://example.org)")
    assert '<pre tabindex="0">' in html
    assert "<a" not in html
    assert "typo" in html
    comment = markup.render_comment("[x](javascript:alert(1))\n\n```\ncode\n```")
    assert "<a" not in comment
    assert '<pre tabindex="0">' in comment
    imported = markup.render_comment(
        '<a href="ftp://old">old</a> <pre>x</pre>', "wordpress"
    )
    assert "<a" not in imported and "old" in imported
    kept = markup.render_comment(
        '<abbr title="HyperText">HTML</abbr> <a href="https://x.org">x</a>',
        "wordpress",
    )
    assert '<abbr title="HyperText">HTML</abbr>' in kept
    assert '<a href="https://x.org" rel="nofollow ugc noopener">x</a>' in kept
