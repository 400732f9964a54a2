"""Checks that django-comments-xtd's thread fields agree with the tree.

Within a thread (one top-level comment and its replies), `order` numbers the
comments 1..n in depth-first order, each comment's replies in the order they
were saved (by id); `level` is the parent's level plus one (0 at the top);
`nested_count` is the number of replies below the comment, at any depth.
Used by tests/test_scaleout.py after concurrent posting, and tested on its
own in tests/test_thread_integrity.py.
"""

from __future__ import annotations

from collections import defaultdict

from django_comments_xtd.models import XtdComment


def thread_problems(queryset=None) -> list[str]:
    """Every inconsistency found among the comments of `queryset` (default:
    all comments), as readable lines; an empty list when all is well."""
    rows = (
        queryset if queryset is not None else XtdComment.norel_objects.all()
    ).values("pk", "thread_id", "parent_id", "level", "order", "nested_count")
    threads: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        threads[row["thread_id"]].append(row)
    problems = []
    for thread_id, comments in sorted(threads.items()):
        problems.extend(_problems_in_thread(thread_id, comments))
    return problems


def _problems_in_thread(thread_id: int, comments: list[dict]) -> list[str]:
    by_pk = {row["pk"]: row for row in comments}
    roots = [row for row in comments if row["parent_id"] == row["pk"]]
    if len(roots) != 1 or roots[0]["pk"] != thread_id:
        return [f"thread {thread_id}: top comments {[r['pk'] for r in roots]}"]
    children: dict[int, list[int]] = defaultdict(list)
    problems = []
    for row in comments:
        if row is roots[0]:
            continue
        if row["parent_id"] not in by_pk:
            problems.append(
                f"comment {row['pk']}: parent {row['parent_id']} not in thread "
                f"{thread_id}"
            )
        else:
            children[row["parent_id"]].append(row["pk"])
    # Depth first, replies oldest (lowest id) first: the expected order,
    # levels and counts of descendants.
    expected_order: list[int] = []
    expected_level = {thread_id: 0}
    descendants: dict[int, int] = {}

    def walk(pk: int) -> int:
        expected_order.append(pk)
        below = 0
        for kid in sorted(children[pk]):
            expected_level[kid] = expected_level[pk] + 1
            below += 1 + walk(kid)
        descendants[pk] = below
        return below

    walk(thread_id)
    orders = sorted(row["order"] for row in comments)
    if orders != list(range(1, len(comments) + 1)):
        problems.append(f"thread {thread_id}: orders {orders} are not 1..n")
    for position, pk in enumerate(expected_order, start=1):
        row = by_pk[pk]
        if row["order"] != position:
            problems.append(
                f"comment {pk}: order {row['order']}, depth-first position {position}"
            )
        if row["level"] != expected_level[pk]:
            problems.append(
                f"comment {pk}: level {row['level']}, expected {expected_level[pk]}"
            )
        if row["nested_count"] != descendants[pk]:
            problems.append(
                f"comment {pk}: nested_count {row['nested_count']}, "
                f"{descendants[pk]} replies below it"
            )
    return problems
