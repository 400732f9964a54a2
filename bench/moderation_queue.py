"""The moderation queue with 10,000 comments waiting.

    /work/main/.venv/bin/python bench/moderation_queue.py [--comments 10000]

Builds a throwaway SQLite database with N pending comments spread over 50
posts, then times the queue's first page (/admin/comments/comment/, the
Pending tab) through the test client, signed in as a superuser, as a member
of the Moderators group, and as an author (who sees only their own posts'
comments). Prints the median of several renders and the number of queries;
the target is under 500 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta

import sandbox

WORKDIR = sandbox.start()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

QUEUE = "/admin/comments/comment/"
TARGET_MS = 500


def build(comments: int):
    from django_comments.models import Comment as BaseComment
    from django_comments_xtd.models import XtdComment

    from blog.models import Post
    from comments.models import Comment
    from tests.factories import make_post, make_user

    superuser = make_user(username="root", is_superuser=True, is_staff=True)
    moderator = make_user(username="moderator", groups=("Moderators",))
    author = make_user(username="author", groups=("Authors",))
    posts = [make_post(author=author if n % 5 == 0 else None) for n in range(50)]
    post_type = ContentType.objects.get_for_model(Post)
    now = timezone.now()
    # Three tables (django_comments, xtd, ours) filled in bulk: creating
    # 10,000 comments one by one through save() would take minutes.
    with transaction.atomic():
        base = BaseComment.objects.bulk_create(
            BaseComment(
                content_type=post_type,
                object_pk=str(posts[number % len(posts)].pk),
                site_id=1,
                user_name=f"Reader {number}",
                user_email=f"reader{number % 3000}@example.org",
                comment=f"Comment {number}: is this http://spam.example legit?",
                submit_date=now - timedelta(seconds=number),
                ip_address=f"192.0.2.{number % 250}",
                is_public=False,
            )
            for number in range(comments)
        )
        ids = [row.pk for row in base]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {XtdComment._meta.db_table} (comment_ptr_id, "
                'thread_id, parent_id, level, "order", followup, nested_count) '
                "VALUES (%s, %s, %s, 0, 1, %s, 0)",
                [(pk, pk, pk, False) for pk in ids],
            )
            cursor.executemany(
                f"INSERT INTO {Comment._meta.db_table} (xtdcomment_ptr_id, state, "
                "reason) VALUES (%s, %s, %s)",
                [(pk, Comment.State.HELD, "first-time commenter") for pk in ids],
            )
    assert Comment.objects.filter(state=Comment.State.HELD).count() == comments
    return {"superuser": superuser, "moderator": moderator, "author": author}


def time_queue(user, runs: int) -> tuple[float, int, int]:
    client = Client()
    client.force_login(user)
    client.get(QUEUE)  # warm: templates, permissions, content types
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(QUEUE)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE)
    rows = response.content.decode().count('class="action-select"')
    return statistics.median(timings), len(queries), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    # Production settings, but admin CSS without `collectstatic`'s manifest.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
            },
        }
    ).enable()
    started = time.perf_counter()
    users = build(args.comments)
    print(
        f"{args.comments} pending comments built in "
        f"{time.perf_counter() - started:.1f} s (SQLite, {WORKDIR.name})"
    )
    print(f"{'signed in as':<12} {'median ms':>10} {'queries':>8} {'rows':>5}")
    worst = 0.0
    for name, user in users.items():
        median, queries, rows = time_queue(user, args.runs)
        worst = max(worst, median)
        print(f"{name:<12} {median:>10.1f} {queries:>8} {rows:>5}")
    verdict = "OK" if worst < TARGET_MS else "TOO SLOW"
    print(f"slowest median {worst:.1f} ms; target < {TARGET_MS} ms: {verdict}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
