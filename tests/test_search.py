"""Search finds published posts, best match first, with safe highlighted snippets."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from blog.models import Post
from tests.factories import make_post, set_site_identity
from tests.test_public_pages import CHROME_QUERIES

pytestmark = pytest.mark.django_db

# Each test runs on both backends; where PostgreSQL's full-text search and
# the SQLite fallback rightly differ, the test says what each must do.
full_text = connection.vendor == "postgresql"


def result_titles(client, query: str) -> list[str]:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return [post.title for post in response.context["page"]]


@pytest.fixture
def original_article(db) -> Post:
    call_command("loaddata", "original_article", verbosity=0)
    return Post.objects.get(slug="back-spasm-symptoms-you-should-know")


def test_spasm_finds_the_original_article_first(client, original_article):
    make_post(title="Gardening notes", body="A spasm of activity in the garden.")
    make_post(title="Unrelated", body="Nothing to see.")
    titles = result_titles(client, "spasm")
    assert titles[0] == original_article.title
    assert "Unrelated" not in titles


def test_words_anywhere_in_the_post_find_it_titles_rank_first(client, original_article):
    assert result_titles(client, "stiff spine") == [original_article.title]
    assert result_titles(client, "spasms") == [original_article.title]
    make_post(title="Spines", body="On hedgehogs.")
    make_post(title="Cactus care", body="Mind the spines.")
    assert result_titles(client, "spine")[0] == "Spines"


def test_websearch_syntax_on_postgresql(client, original_article):
    phrase = result_titles(client, '"stiff spine"')
    excluded = result_titles(client, "spasm -upper")
    if full_text:  # a quoted phrase, and a word the post must not contain
        assert phrase == []
        assert excluded == []
    else:  # the fallback reads the same query as plain words, all required
        assert phrase == [original_article.title]
        assert excluded == [original_article.title]
        assert result_titles(client, "spasm zeppelin") == []


def test_posts_written_without_save_are_found(client):
    post = make_post(title="Before", body="Plain words.")
    Post.objects.filter(pk=post.pk).update(body="Now about zeppelins.")
    assert result_titles(client, "zeppelin") == ["Before"]
    Post.objects.bulk_create(
        [
            Post(
                title="Imported",
                slug="imported",
                author=post.author,
                body="Airships galore.",
                status=Post.Status.PUBLISHED,
                published_at=post.published_at,
            )
        ]
    )
    assert result_titles(client, "airship") == ["Imported"]


def test_every_word_is_needed_and_titles_rank_first(client):
    make_post(title="A body mention", body="Talking about Zeppelins and airships.")
    make_post(title="Zeppelins", body="Large airships.")
    make_post(title="Only one word", body="Zeppelins alone.")
    assert result_titles(client, "zeppelins airships") == [
        "Zeppelins",
        "A body mention",
    ]
    assert result_titles(client, "ZEPPELINS AIRSHIPS") == [
        "Zeppelins",
        "A body mention",
    ]


def test_only_published_posts_are_found(client):
    make_post(title="Public zebra")
    make_post(title="Draft zebra", status=Post.Status.DRAFT)
    make_post(title="Future zebra", published_at=timezone.now() + timedelta(days=1))
    assert result_titles(client, "zebra") == ["Public zebra"]


def test_snippets_mark_the_match_and_escape_the_text(client):
    make_post(
        title="Escaping",
        body="Before <script>alert(1)</script> the walrus <b>arrives</b> here.",
    )
    page = client.get("/search/", {"q": "walrus"}).content.decode()
    snippet = page.split('class="search-result__snippet" dir="auto">')[1]
    snippet = snippet.split("</p>")[0]
    assert "<mark>walrus</mark>" in snippet
    assert "<script>" not in page.split("<main")[1]
    assert "<b>" not in snippet


def snippet_of(client, query: str) -> str:
    page = client.get("/search/", {"q": query}).content.decode()
    return page.split('class="search-result__snippet" dir="auto">')[1].split("</p>")[0]


def test_snippets_do_not_glue_a_heading_or_list_item_to_the_next_block(client):
    make_post(
        title="Routine",
        body="## Morning routine\n\nTen minutes of walrus stretches.\n\n"
        "- ten slow rounds\n- Child's pose, thirty seconds",
    )
    snippet = snippet_of(client, "walrus")
    assert "Morning routine. Ten minutes of <mark>walrus</mark>" in snippet
    assert "stretches. ten slow rounds. Child&#x27;s pose, thirty seconds" in snippet


def test_snippets_are_cut_from_the_text_readers_see_not_the_markdown(client):
    # Imported posts carry entities and HTML in their Markdown.
    make_post(
        title="Chips",
        body="# Fish &amp; chips &lt;3\n\n> Eat *walrus* & <b>chips</b>: 3 > 2, "
        "[item #5](https://example.com/5).",
    )
    snippet = snippet_of(client, "walrus")
    assert snippet.startswith("Fish &amp; chips &lt;3. Eat <mark>walrus</mark>")
    assert "&amp; chips: 3 &gt; 2, item #5." in snippet
    assert "&amp;amp;" not in snippet and "&lt;b&gt;" not in snippet
    assert "*" not in snippet and "example.com" not in snippet


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "x" * 5000,
        '"""',
        "-",
        "!!! ??? &&& ||",
        "the",
        "zz' OR 1=1 --",
        "\x00",
    ],
)
def test_odd_queries_give_a_sensible_page(client, query):
    make_post(title="Something")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert b"Search" in response.content


def test_long_queries_are_cut_with_a_note(client):
    response = client.get("/search/", {"q": "word " * 100})
    assert len(response.context["query"]) <= 200
    assert "only its first 200 characters" in response.content.decode()


def test_results_are_paginated_and_keep_the_query(client, settings):
    set_site_identity(posts_per_page=2)
    for number in range(5):
        make_post(title=f"Walrus {number}")
    first = client.get("/search/", {"q": "walrus"}).content.decode()
    assert first.count('class="post-summary search-result"') == 2
    assert 'href="?q=walrus&amp;page=2"' in first
    assert len(result_titles_on(client, "walrus", 3)) == 1
    assert client.get("/search/", {"q": "walrus", "page": 9}).status_code == 404


def test_a_query_matching_more_than_readers_page_through_is_bounded(
    client, settings, monkeypatch
):
    """Past MAX_RESULTS matches the search ranks the newest only and says
    "more than", so its cost stays the same however big the blog grows."""
    monkeypatch.setattr("blog.search.MAX_RESULTS", 3)
    set_site_identity(posts_per_page=2)
    now = timezone.now()
    for number in range(5):
        make_post(title=f"Walrus {number}", published_at=now - timedelta(hours=number))
    first = client.get("/search/", {"q": "walrus"}).content.decode()
    assert "More than 3 posts found" in first
    shown = result_titles_on(client, "walrus", 1) + result_titles_on(
        client, "walrus", 2
    )
    assert sorted(shown) == ["Walrus 0", "Walrus 1", "Walrus 2"]
    assert client.get("/search/", {"q": "walrus", "page": 3}).status_code == 404


def result_titles_on(client, query: str, page: int) -> list[str]:
    response = client.get("/search/", {"q": query, "page": page})
    return [post.title for post in response.context["page"]]


def test_every_page_has_a_labelled_search_box(client):
    page = client.get("/").content.decode()
    assert 'role="search"' in page
    assert '<label class="visually-hidden" for="site-search-q">' in page
    assert 'action="/search/"' in page


@pytest.mark.parametrize("posts", [1, 25])
def test_search_page_query_count_is_fixed(client, django_assert_num_queries, posts):
    for number in range(posts):
        make_post(title=f"Walrus {number}", tags=("a", "b"))
    # The newest matches (at most MAX_RESULTS ids), counting them, then
    # fetching the page with authors and categories, the few pages that
    # match (and on a cold cache the site's identity and menus); on
    # PostgreSQL the snippets of the page shown.
    with django_assert_num_queries(4 + full_text + CHROME_QUERIES):
        assert client.get("/search/", {"q": "walrus"}).status_code == 200


def test_a_search_asked_again_reads_only_the_page_shown_and_sees_new_posts(
    client, settings, django_assert_num_queries
):
    settings.INKWELL_PAGE_CACHE = False
    make_post(title="Walrus one")
    assert result_titles(client, "walrus") == ["Walrus one"]
    # The posts of the page and the matching pages; the ranking is kept
    # under the site version (on PostgreSQL, the snippets too).
    with django_assert_num_queries(2 + full_text):
        assert client.get("/search/", {"q": "walrus"}).status_code == 200
    make_post(title="Walrus two")
    assert sorted(result_titles(client, "walrus")) == ["Walrus one", "Walrus two"]
