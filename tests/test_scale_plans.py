"""Public pages read what they show through indexes, and so does posting a
comment, so their cost does not grow with the size of the blog
(bench/scale.py measures pages at 20,000 posts).

SQLite plans without statistics, the same on a test table of a few rows as
on a blog of twenty thousand posts, so its plans are checked here; on
PostgreSQL, which plans by statistics a test table does not have, the
indexes the plans need are checked instead."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from blog import pagecache, views
from tests.factories import (
    comment_form_data,
    make_category,
    make_post,
    make_user,
    set_site_identity,
)

pytestmark = pytest.mark.django_db


def page_queries(client, url: str, table: str = "blog_post") -> list[str]:
    """The queries of `url` that read `table` (not the next scheduled
    publication, read once per site version)."""
    pagecache.next_publication()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    found = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"]
    ]
    assert found
    return found


def sqlite_plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


def indexed_columns(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [found["columns"] for found in constraints.values() if found["index"]]


def test_the_home_page_reads_its_posts_from_an_index_in_their_order(client, settings):
    """Sticky posts first, then the newest: read from the end of an index in
    that order, ten rows for a page, instead of every published post sorted."""
    assert ["status", "sticky", "published_at", "id"] in indexed_columns("blog_post")
    if connection.vendor != "sqlite":
        return
    settings.INKWELL_PAGE_CACHE = False
    make_post(sticky=True)
    make_post()
    for sql in page_queries(client, "/"):
        assert "TEMP B-TREE" not in sqlite_plan(sql), sql


def test_a_list_of_posts_leaves_out_the_columns_it_never_shows(client, settings):
    settings.INKWELL_PAGE_CACHE = False
    make_post()
    for url in ("/", "/feed/"):
        listing = [sql for sql in page_queries(client, url) if "LIMIT" in sql]
        assert listing
        for sql in listing:
            assert '"search_vector"' not in sql
            assert '"wordpress_data"' not in sql


def test_related_posts_are_ranked_among_a_bounded_set_of_candidates(client, settings):
    """The posts last tagged with each of the post's tags and the last filed
    in its category, each read from the end of an index with a LIMIT, then
    looked up by their primary key: never every post that shares a tag (on
    a blog where every post has one, every post)."""
    settings.INKWELL_PAGE_CACHE = False
    category = make_category()
    post = make_post(category=category, tags=("common", "rare"))
    make_post(category=category, tags=("common",))
    related = [
        sql
        for sql in page_queries(client, post.get_absolute_url())
        if '"shared_tags"' in sql
    ]
    assert len(related) == 1
    assert related[0].count("LIMIT") == 4  # two tags, the category, the four
    if connection.vendor != "sqlite":
        return
    plan = sqlite_plan(related[0])
    steps = plan.split(" | ")
    assert steps[0] == "SEARCH blog_post USING INTEGER PRIMARY KEY (rowid=?)", plan
    assert not [step for step in steps if step.startswith("SCAN")], plan


def test_a_feed_reads_only_the_posts_it_shows(client):
    """Its ETag and Last-Modified come from its newest posts, not from a
    count and a latest change of every post in its scope."""
    category = make_category(slug="backs")
    for _ in range(3):
        make_post(category=category)
    for url in ("/feed/", "/category/backs/feed/"):
        queries = page_queries(client, url)
        # The posts shown, found first (their ids are in the state), then
        # read by id.
        by_id = [sql for sql in queries if re.search(r'"id" IN \([\d, ]+\)\)', sql)]
        assert len(by_id) == 1, queries
        for sql in queries:
            assert "LIMIT" in sql or sql in by_id, sql
            assert "MAX(" not in sql, sql
            assert "COUNT(" not in sql or url != "/feed/", sql


def test_a_feed_of_a_category_or_tag_of_a_few_posts_reads_its_own_index(client):
    """As their pages (bench/scale.py: a category of three old posts among
    20,000), their feeds find their posts through the category's or the
    tag's index, never by walking every published post from the newest."""
    if connection.vendor != "sqlite":
        return
    make_post(category=make_category(slug="rare"), tags=("rare",))
    make_post(tags=("common",))
    for url in ("/category/rare/feed/", "/tag/rare/feed/atom/"):
        for sql in page_queries(client, url):
            assert "published_at<?" not in sqlite_plan(sql), sql


def test_a_listing_counts_no_more_posts_than_fifty_pages_hold(client, settings):
    settings.INKWELL_PAGE_CACHE = False
    make_post(category=make_category(slug="backs"), tags=("spine",))
    for url in ("/", "/category/backs/", "/tag/spine/"):
        counts = [sql for sql in page_queries(client, url) if "COUNT(" in sql]
        assert len(counts) == 1
        assert counts[0].endswith("LIMIT 501) subquery"), counts[0]


def test_the_sitemap_index_finds_latest_changes_and_filled_sections_by_index(
    client,
):
    """Its latest change is the post last updated and the post last
    published, each at the end of an index; the categories and tags it
    counts are those whose first published post an index finds: not a
    maximum, a DISTINCT or a count over every post."""
    assert ["status", "updated_at", "published_at"] in indexed_columns("blog_post")
    assert ["tag_id", "content_type_id", "object_id"] in indexed_columns(
        "taggit_taggeditem"
    )
    if connection.vendor != "sqlite":
        return
    make_post(category=make_category(), tags=("spine",))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/sitemap.xml").status_code == 200
    plans = {q["sql"]: sqlite_plan(q["sql"]) for q in queries.captured_queries}
    latest = next(p for sql, p in plans.items() if 'ORDER BY U0."updated_at"' in sql)
    assert "blog_post_latest_update_idx (status=?)" in latest, latest
    tags = next(p for sql, p in plans.items() if 'FROM "taggit_tag"' in sql)
    assert "blog_taggeditem_by_tag_idx (tag_id=? AND content_type_id=?)" in tags
    categories = next(p for sql, p in plans.items() if "blog_post_categories" in sql)
    assert "SEARCH U0 USING INDEX blog_post_category_id" in categories, categories
    for plan in plans.values():
        assert "SCAN blog_post " not in f"{plan} ", plan


def test_a_search_ranks_and_shows_its_matches_by_primary_key(client, settings):
    """The newest matches are found in publication order, bounded (MAX_RESULTS);
    ranking them and reading the page shown look them up by primary key, never
    every published post again."""
    settings.INKWELL_PAGE_CACHE = False
    for _ in range(3):
        make_post(title="Back spasm")
    queries = page_queries(client, "/search/?q=spasm")
    by_id = [sql for sql in queries if '"blog_post"."id" IN (' in sql]
    assert len(by_id) == 2  # the ranking, the page of posts
    if connection.vendor != "sqlite":
        return
    for sql in by_id:
        plan = sqlite_plan(sql)
        assert plan.startswith("SEARCH blog_post USING INTEGER PRIMARY KEY"), plan


def test_an_author_of_a_few_posts_is_listed_from_their_own_index(client, settings):
    """On a blog where someone else writes nearly everything, an author's
    page and feed read that author's posts only, in publication order."""
    assert ["author_id", "status", "published_at"] in indexed_columns("blog_post")
    if connection.vendor != "sqlite":
        return
    settings.INKWELL_PAGE_CACHE = False
    author = make_user(username="rare")
    make_post(author=author)
    make_post()
    for url in ("/author/rare/", "/author/rare/feed/"):
        for sql in page_queries(client, url):
            plan = sqlite_plan(sql)
            if url.endswith("/feed/") and '"blog_post"."id" IN (' in sql:
                # The feed's posts, once its state has found them.
                assert plan.startswith("SEARCH blog_post USING INTEGER PRIMARY KEY")
                continue
            assert "(author_id=? AND status=? AND published_at<?)" in plan, plan
            assert "TEMP B-TREE" not in plan, plan


def test_a_tags_posts_are_joined_to_its_tagged_items_through_an_index(
    client, settings, monkeypatch
):
    """A tag with more posts than its pages count walks the newest posts and
    looks each one's tagged item up by an index, so ten posts cost ten
    lookups, not every item of the tag: on PostgreSQL the join is on
    object_id::bigint (posts' ids are bigints, taggit's object_id an
    integer), which needs an index of its own."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(
                cursor, "taggit_taggeditem"
            )
        assert "blog_taggeditem_by_post_idx" in constraints
        return
    settings.INKWELL_PAGE_CACHE = False
    monkeypatch.setattr(views, "COUNTED_PAGES", 1)
    set_site_identity(posts_per_page=1)
    make_post(tags=("spine",))
    make_post(tags=("spine",))
    listing = [sql for sql in page_queries(client, "/tag/spine/") if "LIMIT 1" in sql]
    plan = sqlite_plan(listing[0])
    assert "taggit_taggeditem USING COVERING INDEX" in plan, plan
    assert "(content_type_id=? AND object_id=? AND tag_id=?)" in plan, plan


def test_a_category_or_tag_of_a_few_posts_is_listed_from_its_own_index(
    client, settings
):
    """On a big blog, a category or a tag of a few posts is counted and
    listed through its own index, not by walking every published post from
    the newest until a page is full (bench/scale.py: a category of three
    old posts among 20,000 took 48 ms of queries, then 0.7 ms)."""
    if connection.vendor != "sqlite":
        return
    settings.INKWELL_PAGE_CACHE = False
    make_post(category=make_category(slug="rare"), tags=("rare",))
    make_post(tags=("common",))
    for url, index in (
        ("/category/rare/", "blog_post_category_id"),
        ("/tag/rare/", "blog_taggeditem_by_tag_idx"),
    ):
        for sql in page_queries(client, url):
            plan = sqlite_plan(sql)
            assert "published_at<?" not in plan, plan
            assert index in plan, plan


COMMENT_TABLES = (
    "django_comments",
    "django_comments_xtd_xtdcomment",
    "comments_comment",
)


def test_posting_a_comment_reads_no_table_of_comments_whole(settings):
    """The same form or text sent before, an approved comment from the
    address: each looked up by an index (the form's key, the post's
    discussion, the address), not by reading every comment on the site."""
    assert any(
        name == "comments_address_idx"
        for name in connection.introspection.get_constraints(
            connection.cursor(), "django_comments"
        )
    )
    if connection.vendor != "sqlite":
        return
    settings.INKWELL_COMMENT_RATE_LIMITS = []
    client = Client(enforce_csrf_checks=True)
    post = make_post()
    client.get(post.get_absolute_url())
    data = comment_form_data(post, seconds_ago=60)
    data["csrfmiddlewaretoken"] = client.get("/csrf-token").json()["token"]
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/comments/post/", data).status_code == 302
    reads = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT")
        and any(f'"{table}"' in query["sql"] for table in COMMENT_TABLES)
    ]
    assert len(reads) >= 2
    for sql in reads:
        plan = sqlite_plan(sql)
        assert not any(f"SCAN {table}" in plan for table in COMMENT_TABLES), plan
