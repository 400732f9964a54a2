"""Writing the comments of a WordPress import, beside the comments they become.

`blog.wordpress` writes the posts and sends `posts_written` for each batch;
`write_comments()` (connected in `CommentsConfig.ready()`) creates or updates
those posts' comments and renumbers their threads. Thread data is computed
for whole posts at once (`thread_data()`), rather than by `XtdComment.save()`,
which costs queries per comment.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext
from django_comments_xtd.models import XtdComment, max_thread_level_for_content_type

from blog.models import Page, Post
from blog.wordpress.content import plain
from blog.wordpress.export import comment_element
from blog.wordpress.posts import wordpress_date
from blog.wordpress.wxr import Item, WPComment
from comments import spamfilter
from comments.models import Comment

STATES = {
    "1": "public",
    "0": "held",
    "": "held",  # no <wp:comment_approved>: WordPress stores it unapproved
    "spam": "spam",
    "trash": "trash",
    "post-trashed": "trash",
}
PING_TYPES = {"pingback", "trackback"}


def write_comments(
    sender,
    *,
    run,
    posts: list[tuple[Item, Post | Page]],
    content_type: ContentType | None = None,
    **kwargs,
) -> None:
    """Create or update the posts' (or with `content_type`, the pages')
    comments, found by WordPress id (from imports older than that id, by
    post, date and author name), then renumber their threads."""
    content_type = content_type or run.post_type
    max_level = max_thread_level_for_content_type(content_type)
    # The WordPress ids met so far in this import (on the run: it has many
    # batches), so that an id twice in a file is one comment.
    seen: set[int] = run.state.setdefault("comment_ids_seen", set())
    by_post: dict[str, list[dict]] = defaultdict(list)
    known = [str(post.pk) for _, post in posts]
    rows = (
        Comment.objects.filter(content_type=content_type, object_pk__in=known)
        .order_by("pk")
        .values("pk", "object_pk", "parent_id", *THREAD_FIELDS, *COMMENT_FIELDS)
    )
    for row in rows:
        by_post[row["object_pk"]].append(row)

    new_rows: list[dict] = []
    updates: list = []
    threads: list[tuple[list[dict], dict[int, dict | None]]] = []
    for item, post in posts:
        rows = by_post.get(str(post.pk), [])
        if not item.comments and not rows:
            continue
        by_key: dict[tuple, list[dict]] = defaultdict(list)
        by_wp_id: dict[int, dict] = {}
        for row in rows:
            if row["wordpress_id"]:
                by_wp_id[row["wordpress_id"]] = row
            else:
                by_key[(row["submit_date"], row["user_name"])].append(row)
        native = {id(row) for row in rows if not row["wordpress_id"]}
        wp_rows: dict[int, tuple[dict, int]] = {}  # WordPress id: row, parent id
        for wp in item.comments:
            if wp.wp_id and wp.wp_id in seen:
                run.report.count("comments", "skipped")
                run.report.note(
                    gettext("comments with an ID met earlier in the file skipped"),
                    gettext("#%(id)s on %(title)s")
                    % {"id": wp.wp_id, "title": post.title},
                )
                continue
            seen.add(wp.wp_id)
            known_row = by_wp_id.get(wp.wp_id) if wp.wp_id else None
            values = _comment_values(run, wp, post, known_row)
            if values is None:
                continue
            if known_row is not None:
                candidates = [known_row]
            else:
                candidates = by_key.get((values["submit_date"], values["user_name"]))
            if candidates:
                row = candidates.pop(0)
                native.discard(id(row))
                if any(row[name] != value for name, value in values.items()):
                    row.update(values)
                    updates.append(Comment(pk=row["pk"], **values))
                    run.report.count("comments", "updated")
                else:
                    run.report.count("comments", "unchanged")
            else:
                row = {"pk": None, "object_pk": str(post.pk), **values}
                new_rows.append(row)
                rows.append(row)
                run.report.count("comments", "created")
            wp_rows[wp.wp_id] = row, wp.parent
        parents: dict[int, dict | None] = {}
        for wp_id, (row, parent_id) in wp_rows.items():
            parent = wp_rows[parent_id][0] if parent_id in wp_rows else None
            if parent_id and parent is None:
                run.report.note(
                    gettext(
                        "replies to a comment missing from the export made top-level"
                    ),
                    gettext("#%(id)s on %(title)s")
                    % {"id": wp_id, "title": post.title},
                )
            parents[id(row)] = parent
        # Comments made here, not in WordPress, keep their own parents.
        by_pk = {row["pk"]: row for row in rows if row["pk"] is not None}
        for row in rows:
            if id(row) in native:
                own = row["parent_id"] != row["pk"]  # a top-level one is its own
                parents[id(row)] = by_pk.get(row["parent_id"]) if own else None
        threads.append((rows, parents))

    _insert_comments(content_type, new_rows)
    Comment.objects.bulk_update(updates, list(COMMENT_FIELDS), batch_size=500)

    xtd_updates = []
    for rows, parents in threads:
        nodes = [
            (
                row["pk"],
                row["submit_date"],
                parents[id(row)]["pk"] if parents[id(row)] else None,
            )
            for row in rows
        ]
        data, reattached = thread_data(nodes, max_level)
        for row in rows:
            if row["pk"] in reattached:
                run.report.note(
                    gettext(
                        "replies deeper than level %(level)s attached at level "
                        "%(level)s, under the nearest allowed ancestor"
                    )
                    % {"level": max_level},
                    f"{row['user_name']}, {row['submit_date']:%Y-%m-%d %H:%M}",
                )
            computed = data[row["pk"]]
            if row.get("thread_id") is None:
                row.update(computed)
            elif any(row[name] != value for name, value in computed.items()):
                xtd_updates.append(XtdComment(pk=row["pk"], **computed))
    _insert_thread_rows(new_rows)
    XtdComment.objects.bulk_update(xtd_updates, list(THREAD_FIELDS), batch_size=500)
    # What the WordPress moderators decided (approved, spam) teaches the
    # spam filter, as a decision here would.
    written = [row["pk"] for row in new_rows] + [comment.pk for comment in updates]
    spamfilter.learn_imported(Comment.objects.filter(pk__in=written))


def _comment_values(
    run, wp: WPComment, post: Post, known: dict | None = None
) -> dict | None:
    """The comment's fields from `wp` (`known`: its row from an earlier
    import, whose date an undated comment keeps)."""
    label = f"#{wp.wp_id} on {post.title}"
    kind = wp.type or "comment"
    if kind not in {"comment", *PING_TYPES}:
        run.report.count("comments", "skipped")
        run.report.note(
            gettext("comments of type %(type)s skipped") % {"type": repr(kind)}, label
        )
        return None
    if kind in PING_TYPES and run.skip_pings:
        run.report.count("comments", "skipped")
        run.report.note(
            gettext("pingbacks and trackbacks skipped (--skip-pings)"), label
        )
        return None
    state = STATES.get(wp.approved)
    if state is None:
        state = "held"
        run.report.note(
            gettext("comments with unknown approval %(approval)s held for moderation")
            % {"approval": repr(wp.approved)},
            label,
        )
    if wp.approved == "":
        run.report.note(
            gettext(
                "comments without an approval state held for moderation (as "
                "WordPress does)"
            ),
            label,
        )
    submit_date = wordpress_date(wp.date_gmt, wp.date)
    if submit_date is None and known is not None:
        submit_date = known["submit_date"]
    if submit_date is None:
        submit_date = post.published_at or timezone.now()
        run.report.note(
            gettext("comments without a valid date given the post's"), label
        )
    for key in wp.meta:
        run.report.note(
            gettext("comment meta kept with the comment, not shown"), f"{key} ({label})"
        )
    user_name = plain(wp.author)[:50]
    ip_address = None
    if wp.ip:
        try:
            ip_address = str(ipaddress.ip_address(wp.ip))
        except ValueError:
            run.report.note(gettext("invalid IP addresses dropped"), label)
    user = run.users_by_wp_id.get(wp.user_id) if wp.user_id else None
    return {
        "submit_date": submit_date,
        "user_name": user_name,
        "user_email": wp.email[:254],
        "user_url": wp.url[:200],
        "ip_address": ip_address,
        "comment": wp.content,
        "user_id": user.pk if user else None,
        "state": state,
        "reason": kind if kind in PING_TYPES else "",
        "is_public": state == "public",
        "is_removed": state in {"spam", "trash"},
        "markup": Comment.Markup.WORDPRESS,
        "wordpress_id": wp.wp_id or None,
        "wordpress_data": {"meta": wp.meta} if wp.meta else {},
    }


def _insert_comments(post_type, rows: list[dict]) -> None:
    """Insert the django_comments rows; the xtd and Inkwell rows come later."""
    base = XtdComment._meta.get_field("comment_ptr").related_model
    objects = [
        base(
            content_type=post_type,
            object_pk=row["object_pk"],
            site_id=settings.SITE_ID,
            **{name: row[name] for name in COMMENT_FIELDS if name not in OUR_FIELDS},
        )
        for row in rows
    ]
    base.objects.bulk_create(objects, batch_size=1000)
    for obj, row in zip(objects, rows, strict=True):
        row["pk"] = obj.pk


def _insert_thread_rows(rows: list[dict]) -> None:
    """The XtdComment and Inkwell Comment rows of new comments, inserted as
    `bulk_create()` would (it refuses models with parents; `save()` costs
    queries per comment and table)."""
    _insert_own_rows(
        XtdComment,
        [
            XtdComment(
                comment_ptr_id=row["pk"],
                followup=False,
                **{n: row[n] for n in THREAD_FIELDS},
            )
            for row in rows
        ],
    )
    _insert_own_rows(
        Comment,
        [
            Comment(xtdcomment_ptr_id=row["pk"], **{n: row[n] for n in OUR_FIELDS})
            for row in rows
        ],
    )


def _insert_own_rows(model, objects: list) -> None:
    """Insert `objects` into `model`'s own table, whose parent rows exist."""
    if objects:
        fields = model._meta.local_concrete_fields
        model._base_manager.all()._batched_insert(objects, fields, batch_size=1000)


THREAD_FIELDS = ("thread_id", "parent_id", "level", "order", "nested_count")
OUR_FIELDS = ("state", "reason", "markup", "wordpress_id", "wordpress_data")
COMMENT_FIELDS = (
    "submit_date", "user_name", "user_email", "user_url", "ip_address", "comment",
    "user_id", "state", "reason", "is_public", "is_removed", "markup",
    "wordpress_id", "wordpress_data",
)  # fmt: skip


def thread_data(
    nodes: Iterable[tuple[int, datetime.datetime, int | None]], max_level: int
) -> tuple[dict[int, dict], set[int]]:
    """django-comments-xtd's thread fields for one object's comments.

    `nodes` are (pk, submit date, parent pk or None). The result equals what
    `XtdComment.save()` produces when the comments are saved in date order:
    each thread is numbered depth-first from 1 (`order`), a reply comes after
    its elder siblings, `nested_count` counts all descendants. A reply to a
    comment at `max_level` is attached to that comment's parent instead
    (xtd would refuse it); those pks are returned as the second value.
    """
    nodes = sorted(nodes, key=lambda node: (node[1], node[0]))
    known = {pk for pk, _, _ in nodes}
    parent_of = {
        pk: parent if parent in known and parent != pk else None
        for pk, _, parent in nodes
    }
    level: dict[int, int] = {}
    placed_under: dict[int, int | None] = {}
    children: dict[int, list[int]] = defaultdict(list)
    roots: list[int] = []
    waiting: dict[int, list[int]] = defaultdict(list)
    reattached: set[int] = set()

    def place(first: int) -> None:
        stack = [first]
        while stack:
            pk = stack.pop()
            parent = parent_of[pk]
            if parent is not None and level[parent] >= max_level:
                reattached.add(pk)
                parent = placed_under[parent]
            placed_under[pk] = parent
            if parent is None:
                roots.append(pk)
                level[pk] = 0
            else:
                children[parent].append(pk)
                level[pk] = level[parent] + 1
            # Replies dated before their parent waited for it.
            stack.extend(reversed(waiting.pop(pk, [])))

    for pk, _, _ in nodes:
        parent = parent_of[pk]
        if parent is None or parent in level:
            place(pk)
        else:
            waiting[parent].append(pk)
    while waiting:  # only a loop of parents is left: break it
        parent = next(iter(waiting))
        pk = waiting[parent].pop(0)
        if not waiting[parent]:
            del waiting[parent]
        parent_of[pk] = None
        place(pk)

    data: dict[int, dict] = {}
    for root in roots:
        preorder, stack = [], [root]
        while stack:
            pk = stack.pop()
            preorder.append(pk)
            stack.extend(reversed(children[pk]))
        nested: dict[int, int] = {}
        for pk in reversed(preorder):
            nested[pk] = sum(nested[child] + 1 for child in children[pk])
        for number, pk in enumerate(preorder, start=1):
            data[pk] = {
                "thread_id": root,
                "parent_id": placed_under[pk] or pk,
                "level": level[pk],
                "order": number,
                "nested_count": nested[pk],
            }
    return data, reattached


EXPORTED_STATES = {"public": "1", "held": "0", "unconfirmed": "0", "spam": "spam"}


def export_comments(sender, *, objects, ids, **kwargs) -> dict[int, list[str]]:
    """The `<wp:comment>` elements of `objects` (posts or pages), for
    `blog.wordpress.export`: every state, threads by parent id, comments
    written here as the HTML readers see (WordPress's are HTML already)."""
    if not objects:
        return {}
    content_type = ContentType.objects.get_for_model(objects[0])
    rows = Comment.objects.filter(
        content_type=content_type, object_pk__in=[str(pk) for pk in ids]
    ).order_by("submit_date", "pk")
    found: dict[int, list[str]] = defaultdict(list)
    for comment in rows.iterator(chunk_size=2000):
        found[int(comment.object_pk)].append(
            comment_element(
                wp_id=comment.pk,
                author=comment.user_name,
                email=comment.user_email,
                url=comment.user_url,
                ip=comment.ip_address or "",
                when=comment.submit_date,
                content=(
                    comment.comment
                    if comment.markup == Comment.Markup.WORDPRESS
                    else comment.html
                ),
                approved=EXPORTED_STATES.get(comment.state, "trash"),
                kind=comment.reason if comment.reason in PING_TYPES else "",
                parent=comment.parent_id if comment.parent_id != comment.pk else 0,
                user_id=comment.user_id or 0,
                meta=(comment.wordpress_data or {}).get("meta"),
            )
        )
    return found
