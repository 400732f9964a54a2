"""Public pages read what they show through indexes, so their cost does not
grow with the size of the blog (bench/scale.py measures it at 20,000 posts).

SQLite plans without statistics, the same on a test table of a few rows as
on a blog of twenty thousand posts, so its plans are checked here; on
PostgreSQL, which plans by statistics a test table does not have, the
indexes the plans need are checked instead."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_post

pytestmark = pytest.mark.django_db


def page_queries(client, url: str, table: str = "blog_post") -> list[str]:
    """The queries of `url` that read `table`."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    found = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"]
    ]
    assert found
    return found


def sqlite_plans(client, url: str, table: str = "blog_post") -> dict[str, str]:
    """Each query of `url` that reads `table`, with SQLite's plan for it."""
    plans = {}
    with connection.cursor() as cursor:
        for sql in page_queries(client, url, table):
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plans[sql] = " | ".join(str(row[-1]) for row in cursor.fetchall())
    return plans


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
    for sql, plan in sqlite_plans(client, "/").items():
        assert "TEMP B-TREE" not in plan, (sql, plan)


def test_a_list_of_posts_leaves_out_the_columns_it_never_shows(client, settings):
    settings.INKWELL_PAGE_CACHE = False
    make_post()
    for url in ("/", "/feed/"):
        listing = [sql for sql in page_queries(client, url) if "LIMIT" in sql]
        assert listing
        for sql in listing:
            assert '"search_vector"' not in sql
            assert '"wordpress_data"' not in sql
