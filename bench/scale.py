"""Does any public page grow with the size of the blog?

    python bench/scale.py [--posts 10,1000,20000] [--runs 7]
                          [--database postgres://.../inkwell_bench_scale]

Grows one blog in a throwaway SQLite database (bench/sandbox.py) in bulk, to
each size in turn: posts in twelve categories (a quarter of them in one
category with subcategories, so it holds 5,000 posts at 20,000), each post
tagged "common" (a tag on every post) and with a tag of its own kind; ten
approved comments per post, in pairs of a comment and its reply (200,000 at
20,000 posts). At each size it measures every public page type through
Django's test client, page cache off, with its fragments warm and cold
(the post also with its discussion cold, as after a new comment), as
`make bench`'s
server times but in CPU time (SQLite runs in this process): the median of
`--runs` requests. Prints each page's time at each size and its ratio to the
smallest, against the target of 1.5x; writes bench/scale.json. `make bench`
runs it after bench/run.py.

With `--database` the blog grows in that PostgreSQL database instead (made
empty first; its name must start with inkwell_bench, and the server must run
on this machine), and times add the CPU time of the server process that
answers this script's queries. At the largest
size the script also asks the database for the plan of every query each page
makes, and lists the full scans of tables that grow with the blog (a table
read row by row where an index should answer; on PostgreSQL from the plan as
run, so that a scan a LIMIT stops early is not one): none is the goal.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import re
import statistics
import sys
import time
from pathlib import Path

import sandbox


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", default="10,1000,20000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", default="", help="a PostgreSQL URL")
    return parser.parse_args()


ARGS = arguments()
WORKDIR = sandbox.start(ARGS.database)

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_comments.models import Comment as BaseComment  # noqa: E402
from django_comments_xtd.models import XtdComment  # noqa: E402
from taggit.models import Tag, TaggedItem  # noqa: E402

from blog import pagecache  # noqa: E402
from blog.models import Category, Post  # noqa: E402
from comments.models import Comment  # noqa: E402

RESULTS = Path(__file__).resolve().parent / (
    "scale-postgresql.json" if ARGS.database else "scale.json"
)
TARGET = 1.5
COMMENTS_PER_POST = 10
BODY = (
    "## Symptoms\n\nBack pain has many causes. A **spasm** is a sudden "
    "tightening of a muscle; it can last seconds or days.\n\n"
    "- stiffness\n- pain\n- cramps\n\n" + "Rest, then move gently. " * 20
)


class Blog:
    """The growing blog: categories, tags and an author made once."""

    def __init__(self) -> None:
        self.author = get_user_model().objects.create_user(
            "writer", "writer@example.com", "x" * 20, first_name="Wendy"
        )
        self.big = Category.objects.create(name="Back pain", slug="back-pain")
        subs = [
            Category.objects.create(name=f"Back {n}", slug=f"back-{n}", parent=self.big)
            for n in range(3)
        ]
        others = [
            Category.objects.create(name=f"Topic {n}", slug=f"topic-{n}")
            for n in range(8)
        ]
        # A quarter of the posts under "Back pain" (itself or a subcategory).
        self.categories = [self.big, *others[:3], subs[0], *others[3:6], subs[1]]
        self.categories += [*others[6:], subs[2]]
        self.common = Tag.objects.create(name="common", slug="common")
        self.kinds = [
            Tag.objects.create(name=f"kind {n}", slug=f"kind-{n}") for n in range(20)
        ]
        self.posts = 0

    def grow(self, total: int) -> None:
        """Posts (with their tags and comments) up to `total`, in bulk."""
        start = timezone.now() - datetime.timedelta(days=3650)
        step = datetime.timedelta(days=3650) / 20000
        batch = 2000
        while self.posts < total:
            numbers = range(self.posts, min(total, self.posts + batch))
            posts = Post.objects.bulk_create(
                Post(
                    title=f"Post number {n} about back spasms",
                    slug=f"post-{n}",
                    author=self.author,
                    category=self.categories[n % 4 * 3 + n // 4 % 3],
                    body=BODY,
                    status=Post.Status.PUBLISHED,
                    published_at=start + step * n,
                )
                for n in numbers
            )
            tagged = []
            for post in posts:
                for tag in (self.common, self.kinds[post.pk % len(self.kinds)]):
                    tagged.append(
                        TaggedItem(content_object=post, tag=tag, object_id=post.pk)
                    )
            TaggedItem.objects.bulk_create(tagged)
            discussions(posts)
            self.posts += len(posts)
        pagecache.forget_all_pages()  # rows inserted in bulk sent no signals
        if connection.vendor == "postgresql":
            # The planner's statistics and the visibility map, as autovacuum
            # would have them a minute after a bulk load (it vacuums after
            # inserts too, since PostgreSQL 13): planned on an empty table's
            # statistics, a lookup by id walks a 20,000-row index range
            # instead; without the visibility map, a count that an index
            # answers reads every row of the table.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    def urls(self) -> dict[str, str]:
        newest = Post.objects.published().latest("published_at")
        year = timezone.localtime(newest.published_at).year
        return {
            "home": "/",
            "home, page 2": "/?page=2",
            "post": newest.get_absolute_url(),
            "category with subcategories": self.big.get_absolute_url(),
            "tag on every post": "/tag/common/",
            "author": "/author/writer/",
            "archive (year)": f"/{year}/",
            "search matching every post": "/search/?q=spasm",
            "feed": "/feed/",
            "category feed": f"{self.big.get_absolute_url()}feed/",
            "sitemap index": "/sitemap.xml",
            "sitemap, posts (first page)": "/sitemap-posts.xml",
        }


def discussions(posts: list[Post]) -> None:
    """COMMENTS_PER_POST approved comments on each of `posts`, in threads of
    a top comment and a reply, in a few queries for the whole batch (as
    tests.factories.make_discussion does for one post)."""
    content_type = ContentType.objects.get_for_model(Post)
    now = timezone.now()
    bases = BaseComment.objects.bulk_create(
        BaseComment(
            content_type=content_type,
            object_pk=str(post.pk),
            site_id=1,
            user_name=f"Reader {number}",
            user_email=f"reader{number}@example.com",
            comment=f"Comment *number* {number}, with [a link](https://example.org).",
            submit_date=now - datetime.timedelta(minutes=number),
        )
        for post in posts
        for number in range(COMMENTS_PER_POST)
    )
    rows = []
    for index, base in enumerate(bases):
        top = bases[index - index % 2]  # pairs: a comment and its reply
        level = index % 2
        rows.append((base.pk, top.pk, top.pk, level, level + 1))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(XtdComment._meta.db_table)} (comment_ptr_id, "
            f"thread_id, parent_id, level, {quote('order')}, followup, nested_count)"
            " VALUES (%s, %s, %s, %s, %s, false, 0)",
            rows,
        )
        cursor.executemany(
            f"INSERT INTO {quote(Comment._meta.db_table)} (xtdcomment_ptr_id, state, "
            "reason) VALUES (%s, 'public', '')",
            [(row[0],) for row in rows],
        )


def server_time(client: Client, name: str, url: str, runs: int) -> float | None:
    """The median CPU time of `url`: this process's (SQLite runs in it),
    and on PostgreSQL its server process's too. CPU time is steadier than
    the clock on a machine others share. A "discussion cold" page is asked
    for after its post's version is bumped, as after a new comment: its
    thread, outline and likes line are read from the database again."""
    response = client.get(url)  # warm: fragments, counts
    if response.status_code != 200:
        return None
    times = []
    for _ in range(runs):
        cool(name, url)
        start = time.process_time(), database_cpu_time()
        client.get(url)
        times.append(time.process_time() - start[0] + database_cpu_time() - start[1])
    return statistics.median(times) * 1000


def measured(pages: dict[str, str]) -> dict[str, str]:
    """Each page with its fragments warm, then cold (as the first reader
    after a change to the site gets it), and the post with its discussion
    cold (as after a new comment)."""
    rows = {}
    for name, url in pages.items():
        rows[name] = rows[f"{name}, cold"] = url
        if name == "post":
            rows["post, discussion cold"] = url
    return rows


def cool(name: str, url: str) -> None:
    if name.endswith(", cold"):
        pagecache.forget_all_pages()
        caches["template_fragments"].clear()
    elif name.endswith("discussion cold"):
        post = Post.objects.get(slug=url.rstrip("/").rsplit("/", 1)[-1])
        pagecache.bump(pagecache.post_scope(post.pk))


def database_cpu_time() -> float:
    """Seconds of CPU the PostgreSQL server process serving this connection
    has used (the kernel's scheduler statistics, in nanoseconds); 0 on SQLite."""
    if connection.vendor != "postgresql":
        return 0.0
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with open(f"/proc/{pid}/schedstat") as statistics_file:
        return int(statistics_file.read().split()[0]) / 1e9


# Tables that grow with the blog; a full scan of one is a page that grows.
GROWING = (
    "blog_post",
    "blog_post_categories",
    "taggit_taggeditem",
    "django_comments",
    "django_comments_xtd_xtdcomment",
    "comments_comment",
)


def full_scans(client: Client, name: str, url: str) -> list[str]:
    """The growing tables that the queries of `url` read in full."""
    cool(name, url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    found = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                scanned = read_in_full(cursor.fetchone()[0][0]["Plan"])
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
                # "SCAN t" reads every row; "SCAN t USING ... INDEX" walks one.
                walks = re.findall(r"SCAN (\w+)( USING (?:COVERING )?INDEX)?", plan)
                scanned = [table for table, index in walks if not index]
        found += [table for table in scanned if table in GROWING]
    return sorted(set(found))


def read_in_full(node: dict) -> list[str]:
    """The tables that a PostgreSQL plan (as run: EXPLAIN ANALYZE) reads row
    by row to their end, or nearly: a sequential scan that a LIMIT stops
    after a few hundred rows, or of an empty table, is not one."""
    found = []
    if node["Node Type"] == "Seq Scan":
        read = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node[
            "Actual Loops"
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {node['Relation Name']}")
            rows = cursor.fetchone()[0]
        if read > 1000 and read >= rows / 2:
            found.append(node["Relation Name"])
    for child in node.get("Plans", []):
        found += read_in_full(child)
    return found


def main() -> int:
    args = ARGS
    sizes = [int(size) for size in args.posts.split(",")]
    call_command("migrate", verbosity=0)
    blog = Blog()
    client = Client()
    table: dict[str, dict[int, float | None]] = {}
    built = {}
    with override_settings(INKWELL_PAGE_CACHE=False):
        for size in sizes:
            started = time.monotonic()
            blog.grow(size)
            built[size] = round(time.monotonic() - started, 1)
            # What building left in memory is not a server's: out of the
            # garbage collector's way, as a fresh worker would be.
            gc.collect()
            gc.freeze()
            for name, url in measured(blog.urls()).items():
                times = table.setdefault(name, {})
                times[size] = server_time(client, name, url, args.runs)
        scans = {
            name: full_scans(client, name, url)
            for name, url in measured(blog.urls()).items()
        }
    database = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    print(
        f"\nServer time by size of the blog ({COMMENTS_PER_POST} comments per post; "
        f"{database}, page cache off; CPU ms, median of {args.runs})"
    )
    header = "".join(f"{f'{size:,} posts':>14}" for size in sizes)
    print(f"{'page':<30}{header}{'ratio':>8}")
    failing = []
    for name, times in table.items():
        first, last = times[sizes[0]], times[sizes[-1]]
        ratio = last / first if first and last else None
        cells = "".join(
            f"{times[size]:>12.1f}ms" if times[size] is not None else f"{'n/a':>14}"
            for size in sizes
        )
        print(f"{name:<30}{cells}{ratio:>7.2f}x" if ratio else f"{name:<30}{cells}")
        if ratio and ratio > TARGET:
            failing.append(name)
    built_text = ", ".join(f"{size:,} posts in {s} s" for size, s in built.items())
    print(f"built: {built_text}")
    print(
        f"over {TARGET}x: {', '.join(failing)}"
        if failing
        else f"every page within {TARGET}x"
    )
    scanning = {name: tables for name, tables in scans.items() if tables}
    print(
        f"full scans of growing tables at {sizes[-1]:,} posts: "
        + (
            "; ".join(f"{name}: {', '.join(t)}" for name, t in scanning.items())
            if scanning
            else "none"
        )
    )
    RESULTS.write_text(
        json.dumps(
            {
                "sizes": sizes,
                "comments_per_post": COMMENTS_PER_POST,
                "median_ms": table,
                "built_seconds": built,
                "over_target": failing,
                "database": database,
                "full_scans": scanning,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        WORKDIR.cleanup()
