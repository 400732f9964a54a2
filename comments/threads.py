"""A post's discussion: approved comments as threads, a page at a time.

Two queries whatever the number of comments: a light one (ids and parents of
every approved comment on the post) that finds the threads, the pages and
which comments are visible, and one for the comments of the page asked for,
with their users. The tree is walked in Python and handed to the template as
a flat list, so the page renders in one template pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from blog import markup
from blog.models import Post
from comments.models import Comment, DiscussionSettings, max_thread_level
from comments.moderation import comments_open

OPEN_REPLIES = mark_safe('<ol class="comment-list comment-list--replies">')


def threads_per_page() -> int:
    """The administrator's "comments per page" (Discussion settings)."""
    return max(1, DiscussionSettings.current().threads_per_page)


@dataclass
class Outline:
    """Which approved comments of a post readers see, and in which thread.

    A reply shows only while every comment above it is approved: a held or
    trashed comment takes its replies out of view with it.
    """

    threads: list[int] = field(default_factory=list)  # top-level ids, oldest first
    thread_of: dict[int, int] = field(default_factory=dict)  # visible id -> thread

    @classmethod
    def of(cls, post: Post) -> Outline:
        rows = (
            Comment.objects.approved()
            .for_post(post)
            .order_by("thread_id", "order", "pk")
            .values_list("pk", "parent_id")
        )
        children: dict[int, list[int]] = {}
        outline = cls()
        for pk, parent_id in rows:
            if parent_id in (pk, 0):
                outline.threads.append(pk)
            else:
                children.setdefault(parent_id, []).append(pk)
        outline.threads.sort()
        for root in outline.threads:
            todo = [root]
            while todo:
                pk = todo.pop()
                outline.thread_of[pk] = root
                todo.extend(children.get(pk, ()))
        return outline

    @property
    def count(self) -> int:
        return len(self.thread_of)

    @property
    def num_pages(self) -> int:
        return max(1, -(-len(self.threads) // threads_per_page()))

    def page_of(self, comment_id: int) -> int | None:
        """The page number that shows this comment, or None if it is hidden."""
        thread = self.thread_of.get(comment_id)
        if thread is None:
            return None
        return self.threads.index(thread) // threads_per_page() + 1


@dataclass
class Discussion:
    """One page of a post's discussion, ready for the template."""

    post: Post
    count: int
    number: int
    num_pages: int
    comments: list[Comment]

    @property
    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.num_pages else None

    @classmethod
    def of(cls, post: Post, page: object = 1) -> Discussion:
        """The discussion's page `page`; a bad or out-of-range number shows
        the nearest page rather than failing."""
        outline = Outline.of(post)
        try:
            number = int(page)
        except (TypeError, ValueError):
            number = 1
        number = min(max(number, 1), outline.num_pages)
        per_page = threads_per_page()
        threads = outline.threads[(number - 1) * per_page : number * per_page]
        first, last = (threads[0], threads[-1]) if threads else (0, 0)
        # A range rather than a list of ids: the query runs (and is counted)
        # even for a post without comments, keeping the page's count fixed.
        rows = (
            Comment.objects.approved()
            .for_post(post)
            .filter(thread_id__gte=first, thread_id__lte=last)
            .select_related(None)
            .select_related("user")
            .order_by("thread_id", "order", "pk")
        )
        comments = arrange(
            [row for row in rows if row.pk in outline.thread_of], threads, post
        )
        return cls(post, outline.count, number, outline.num_pages, comments)


def arrange(comments: list[Comment], threads: list[int], post: Post) -> list[Comment]:
    """The comments in reading order, each marked up for the flat template.

    Sets on each comment what the template shows, worked out here once in
    Python rather than by filters and tags per comment: `author`, `website`,
    `ref`, `html`, `date_iso`, `date_text`, `by_post_author`, `can_reply`,
    `permalink_url`, `reply_url`, `moderate_url`, and `after`: the markup
    that follows the comment (a list of replies opens, or the item and the
    lists ending there close).
    """
    # Two reversals for the whole page instead of two per comment.
    permalink_url = _url_pattern("comments-permalink", "comment_id")
    reply_url = _url_pattern("comments-reply", "comment_id")
    moderate_url = _url_pattern("admin:comments_comment_change", "object_id")
    by_id = {comment.pk: comment for comment in comments}
    children: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id != comment.pk and comment.parent_id in by_id:
            children.setdefault(comment.parent_id, []).append(comment)
    max_level = max_thread_level()
    open_for_replies = comments_open(post)
    ordered: list[Comment] = []
    todo = [(by_id[pk], 0) for pk in reversed(threads) if pk in by_id]
    while todo:
        comment, depth = todo.pop()
        kids = children.get(comment.pk, [])
        comment.depth = depth
        comment.has_children = bool(kids)
        comment.can_reply = open_for_replies and comment.level < max_level
        comment.author = comment.name
        comment.html = markup.render_comment(comment.comment)
        comment.by_post_author = comment.user_id == post.author_id
        # Imported comments may hold any URL; only web links become links.
        url = comment.user_url or ""
        comment.website = url if url.startswith(("https://", "http://")) else ""
        when = timezone.localtime(comment.submit_date)
        comment.date_iso = when.isoformat(timespec="seconds")  # valid HTML
        comment.date_text = f"{when:%B} {when.day}, {when.year} at {when:%H:%M}"
        comment.ref = str(comment.pk)  # a string: no number localisation
        comment.permalink_url = permalink_url.format(comment.pk)
        comment.reply_url = reply_url.format(comment.pk)
        comment.moderate_url = moderate_url.format(comment.pk)
        ordered.append(comment)
        todo.extend((kid, depth + 1) for kid in reversed(kids))
    for index, current in enumerate(ordered):
        if current.has_children:
            current.after = OPEN_REPLIES
            continue
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        ends = current.depth - (following.depth if following is not None else 0)
        current.after = mark_safe("</li>" + "</ol></li>" * ends)
    return ordered


def _url_pattern(name: str, kwarg: str) -> str:
    marker = 987654321
    return reverse(name, kwargs={kwarg: marker}).replace(str(marker), "{}")
