"""A post's discussion: approved comments as threads, a page at a time.

Two queries whatever the number of comments: a light one (ids and parents of
every approved comment on the post) that finds the threads, the pages and
which comments are visible, and one for the comments of the page asked for,
read as plain rows with their users' names (no model instances).

The thread's markup is built here, in Python, one string per comment: the
post page shows up to a thousand comments, and a template pass costs tens of
lookups per comment where a format string costs one call. What the reader
may do (reply, moderate, like) is added per reader. Anonymous readers all
see the same thread, so its finished markup is cached (blog.pagecache.cached)
under the site's and the post's content versions: it is built once per
change rather than once per request, and any change (a comment approved, a
like, a renamed user, new discussion settings) makes every process build it
anew.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from html import escape

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, pgettext

from blog import avatars, markup, pagecache, splice
from blog.links import url_pattern
from blog.models import Post, name_from_parts
from comments import editing, likes
from comments.models import Comment, DiscussionSettings, max_thread_level
from comments.moderation import comments_open

MODERATE_PERMISSION = "django_comments.can_moderate"

# The markup of one comment, in three parts around the reader's actions. Every
# value put in is escaped (or is markup we made: the sanitised comment text).
COMMENT_HEAD = (
    '<li id="c{ref}" class="comment{classes}">'
    '<article class="comment__body" aria-labelledby="c{ref}-author">'
    '<footer class="comment__meta">{avatar}'
    '<span class="comment__who"><span class="comment__author" '
    'id="c{ref}-author">{author}</span>{badge}</span>'
    '<span class="comment__when"><a class="comment__permalink" '
    'href="{permalink}"><time datetime="{iso}">{when}</time></a>'
)
# ...then, for moderators, MODERATE...
COMMENT_BODY = '</span></footer><div class="comment__content" dir="auto">{html}</div>'
# ...then REPLY where the reader may reply, LIKE_FORM or LIKE_LINE, and:
COMMENT_END = "</article>{after}\n"
AUTHOR_LINK = '<a href="{url}" rel="nofollow ugc noopener">{name}</a>'
BADGE = ' <span class="comment__badge">{label}</span>'
# The words in the markup below are the site language's, put in escaped
# (`Words`): "{moderate}" is "Moderate<span…> the comment by {name}</span>".
MODERATE = ' <a class="comment__moderate" href="{url}">{moderate}</a>'
# static/js/comments.js finds the comment and its author's name from the
# link's place in the thread: no data attributes repeat them.
REPLY = (
    '<p class="comment__actions"><a class="comment__reply" href="{url}" '
    'aria-label="{label}">{reply}</a></p>'
)
LIKE_FORM = (
    '<form class="comment-like" method="post" action="{url}" data-likes '
    'data-likes-widget><input type="hidden" name="csrfmiddlewaretoken" '
    'value="{token}"><button class="likes__button comment-like__button" '
    'type="submit" name="intent" value="{intent}" aria-pressed="{pressed}">'
    "{like}</button> "
    '<span class="comment-like__line" data-likes-line>{line}</span> '
    '<span class="comment-like__status" role="status" data-likes-status></span>'
    "</form>"
)
HIDDEN = '<span class="visually-hidden">{}</span>'


@dataclass(frozen=True)
class Words:
    """The thread's words in the active language, looked up once per thread
    rather than once per comment. Templates of markup, already escaped,
    with "{name}" left for the commenter's (escaped) name."""

    author: str
    moderate: str
    reply: str
    reply_label: str
    like: str
    when: str  # "%(date)s at %(time)s"

    @classmethod
    def current(cls) -> Words:
        def hidden_after(visible: str, template: str) -> str:
            # "Moderate the comment by {name}", with the part after the
            # visible word for screen readers only.
            sentence = escape(template % {"name": "\0"}).replace("\0", "{name}")
            word = escape(visible)
            if sentence.startswith(word):
                return word + HIDDEN.format(sentence[len(word) :])
            return word + HIDDEN.format(" " + sentence)

        return cls(
            author=escape(pgettext("comment badge", "Author")),
            moderate=hidden_after(
                gettext("Moderate"), gettext("Moderate the comment by %(name)s")
            ),
            reply=escape(pgettext("comment action", "Reply")),
            reply_label=escape(gettext("Reply to %(name)s") % {"name": "\0"}).replace(
                "\0", "{name}"
            ),
            like=hidden_after(
                pgettext("button", "Like"), gettext("Like the comment by %(name)s")
            ),
            when=gettext("%(date)s at %(time)s"),
        )


LIKE_LINE = '<p class="comment-like__line">{line}</p>'
OPEN_REPLIES = '<ol class="comment-list comment-list--replies">'
EDITED = ' <span class="comment__edited">({label})</span>'
# A comment its author deleted while it had replies: it keeps their place.
DELETED_HEAD = (
    '<li id="c{ref}" class="comment comment--deleted">'
    '<article class="comment__body" aria-labelledby="c{ref}-author">'
    '<p class="comment__deleted" id="c{ref}-author">{text}</p>'
)
# The reader's own comment, while they may change it (signed-in readers; for
# the others static/js/comment-edit.js writes the same in place).
OWN_LINKS = (
    '<p class="comment__own" data-own="{ref}"><a class="comment__edit" '
    'href="{edit_url}">{edit}<span class="visually-hidden">{yours}</span></a> '
    '<a class="comment__delete" href="{delete_url}">{delete}<span '
    'class="visually-hidden">{yours}</span></a></p>'
)

# What is read of each comment of the page.
FIELDS = (
    "pk",
    "parent_id",
    "level",
    "user_id",
    "user_name",
    "user_url",
    "user_email",
    "comment",
    "markup",
    "submit_date",
    "user__first_name",
    "user__last_name",
    "user__username",
    "user__email",
    "edited_at",
    "deleted_at",
)


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


@dataclass(slots=True)
class Item:
    """One comment as the thread shows it, its text escaped and rendered.

    `head` and `body` are the comment's markup before and after the place of
    the moderation link; `after` opens its list of replies or closes its item
    and the lists that end there. `like` is set by likes.attach_comment_likes.
    """

    pk: int
    parent_id: int
    level: int
    name: str
    depth: int = 0
    can_reply: bool = False
    head: str = ""
    body: str = ""
    after: str = ""
    like: likes.CommentLike | None = None
    user_id: int | None = None
    submitted: datetime.datetime | None = None
    deleted: bool = False


class Moments:
    """When comments were posted, as the thread shows them: each day's date
    and each minute's time formatted once per thread rather than once per
    comment (Django's date formatting was a quarter of a cold thread render),
    unless the time format shows seconds."""

    def __init__(self, tz: datetime.tzinfo, words: Words) -> None:
        self.tz = tz
        # What the moments' text depends on besides the moment.
        self.locale = (get_language(), str(tz))
        self.template = words.when
        self.by_minute = not set("suU") & set(formats.get_format("TIME_FORMAT"))
        self.dates: dict[datetime.date, str] = {}
        self.times: dict[datetime.datetime, str] = {}

    def __call__(self, submitted: datetime.datetime) -> tuple[str, str]:
        """The moment in ISO form (for `datetime`) and as readers read it."""
        when = submitted.astimezone(self.tz)
        date = self.dates.get(when.date())
        if date is None:
            date = self.dates[when.date()] = formats.date_format(when, "DATE_FORMAT")
        minute = when.replace(second=0, microsecond=0) if self.by_minute else when
        time = self.times.get(minute)
        if time is None:
            time = self.times[minute] = formats.time_format(when, "TIME_FORMAT")
        shown = escape(self.template % {"date": date, "time": time})
        return when.isoformat(timespec="seconds"), shown  # no microseconds: valid HTML


@dataclass(frozen=True, slots=True)
class Markup:
    """A comment's markup but its face, which blog/avatars.py draws (the
    face goes between `before_face` and `after_face`)."""

    name: str
    email: str
    before_face: str = ""
    after_face: str = ""
    body: str = ""
    deleted: bool = False


# Each comment's Markup as this process last made it, keyed on everything it
# is made from: its row, the post's author (the badge), the language and the
# time zone. A thread rebuilt (after a new comment, a like, any change to the
# site) formats only the comments that changed; the others cost a look-up.
# Emptied when full.
_markups: dict[tuple, Markup] = {}
MARKUPS_KEPT = 2048


def _markup(
    row: dict, post: Post, permalink: str, moments: Moments, words: Words
) -> Markup:
    """The Markup of a row of FIELDS."""
    name = row["user_name"]
    if row["user_id"]:
        # As django_comments' userinfo: the full name, else the name given,
        # else the username.
        name = name_from_parts(
            row["user__first_name"],
            row["user__last_name"],
            name or row["user__username"],
        )
    ref = str(row["pk"])  # a string: no number localisation
    if row.get("deleted_at"):
        text = escape(gettext("This comment was deleted by its author."))
        return Markup(
            name, "", before_face=DELETED_HEAD.format(ref=ref, text=text), deleted=True
        )
    safe_name = escape(name)
    # Imported comments may hold any URL; only web links become links.
    url = row["user_url"] or ""
    if url.startswith(("https://", "http://")):
        author = AUTHOR_LINK.format(url=escape(url), name=safe_name)
    else:
        author = safe_name
    by_author = bool(row["user_id"]) and row["user_id"] == post.author_id
    iso, when = moments(row["submit_date"])
    # A registered commenter's face is their account's, as in bylines.
    email = (row["user__email"] if row["user_id"] else row["user_email"]) or ""
    before_face, after_face = COMMENT_HEAD.format(
        ref=ref,
        avatar="\0",
        classes=" comment--by-author" if by_author else "",
        author=author,
        badge=BADGE.format(label=words.author) if by_author else "",
        permalink=permalink.format(ref),
        iso=iso,
        when=when,
    ).split("\0")
    if row.get("edited_at"):
        after_face += EDITED.format(label=escape(gettext("edited")))
    html = markup.render_comment(row["comment"], row["markup"])
    return Markup(name, email, before_face, after_face, COMMENT_BODY.format(html=html))


def _item(
    row: dict,
    post: Post,
    permalink: str,
    moments: Moments,
    words: Words,
    faces: dict[tuple[str, str], str],
) -> Item:
    """An `Item` from a row of FIELDS: the comment's markup, ready to join.
    `faces`: the faces drawn for this thread, by address and name."""
    key = (*(row[column] for column in FIELDS), post.author_id, moments.locale)
    made = _markups.get(key)
    if made is None:
        made = _markup(row, post, permalink, moments, words)
        if len(_markups) >= MARKUPS_KEPT:
            _markups.clear()
        _markups[key] = made
    if made.deleted:
        return Item(
            row["pk"],
            row["parent_id"],
            row["level"],
            made.name,
            head=made.before_face,
            deleted=True,
        )
    face = faces.get((made.email, made.name))
    if face is None:
        face = faces[made.email, made.name] = avatars.avatar(made.email, made.name)
    return Item(
        row["pk"],
        row["parent_id"],
        row["level"],
        made.name,
        head=made.before_face + face + made.after_face,
        body=made.body,
        user_id=row["user_id"],
        submitted=row["submit_date"],
    )


def arrange(rows: list[dict], threads: list[int], post: Post) -> list[Item]:
    """The comments of `rows` in reading order, as `Item`s with their depth
    and the markup that follows each."""
    permalink = url_pattern("comments:permalink", "comment_id")
    words = Words.current()
    moments = Moments(timezone.get_current_timezone(), words)
    faces: dict[tuple[str, str], str] = {}
    items = {
        row["pk"]: _item(row, post, permalink, moments, words, faces) for row in rows
    }
    children: dict[int, list[Item]] = {}
    for item in items.values():
        if item.parent_id != item.pk and item.parent_id in items:
            children.setdefault(item.parent_id, []).append(item)
    max_level = max_thread_level()
    open_for_replies = comments_open(post)
    ordered: list[Item] = []
    todo = [(items[pk], 0) for pk in reversed(threads) if pk in items]
    while todo:
        item, depth = todo.pop()
        kids = children.get(item.pk, [])
        item.depth = depth
        item.can_reply = (
            open_for_replies and item.level < max_level and not item.deleted
        )
        ordered.append(item)
        todo.extend((kid, depth + 1) for kid in reversed(kids))
    for index, item in enumerate(ordered):
        if item.pk in children:
            item.after = OPEN_REPLIES
            continue
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        ends = item.depth - (following.depth if following is not None else 0)
        item.after = "</li>" + "</ol></li>" * ends
    return ordered


def comment_row(comment: Comment) -> dict:
    """A comment model instance as a row of FIELDS (the reply page's parent)."""
    user = comment.user if comment.user_id else None
    return {
        "pk": comment.pk,
        "parent_id": comment.parent_id,
        "level": comment.level,
        "user_id": comment.user_id,
        "user_name": comment.user_name,
        "user_url": comment.user_url,
        "comment": comment.comment,
        "markup": comment.markup,
        "submit_date": comment.submit_date,
        "user__first_name": user.first_name if user else None,
        "user__last_name": user.last_name if user else None,
        "user__username": user.get_username() if user else None,
        "user_email": comment.user_email,
        "user__email": user.email if user else None,
        "edited_at": comment.edited_at,
        "deleted_at": comment.deleted_at,
    }


def render(
    items: list[Item],
    *,
    can_moderate: bool = False,
    show_reply: bool = True,
    csrf_token: str = "",
    own: frozenset[int] | set[int] = frozenset(),
) -> SafeString:
    """The thread's markup: an ordered list, replies nested in their parent.

    Moderation links follow `can_moderate`, django_comments' own permission
    (xtd's stock tree asks for `comments.can_moderate`, which does not exist).
    Like forms need `csrf_token`; without `like` set on the items, no likes
    are shown. `own`: the reader's comments they may still change, which get
    Edit and Delete links.
    """
    if not items:
        return mark_safe("")
    reply_url = url_pattern("comments:reply", "comment_id")
    moderate_url = url_pattern("admin:comments_comment_change", "object_id")
    words = Words.current()
    parts = ['<ol class="comment-list">\n']
    for item in items:
        name = escape(item.name)
        ref = str(item.pk)
        parts.append(item.head)
        if item.deleted:
            parts.append(COMMENT_END.format(after=item.after))
            continue
        if can_moderate:
            parts.append(
                MODERATE.format(
                    url=moderate_url.format(ref),
                    moderate=words.moderate.format(name=name),
                )
            )
        parts.append(item.body)
        if item.pk in own:
            parts.append(own_links(ref))
        if item.can_reply and show_reply:
            parts.append(
                REPLY.format(
                    url=reply_url.format(ref),
                    label=words.reply_label.format(name=name),
                    reply=words.reply,
                )
            )
        like = item.like
        if like is not None and like.can_like:
            parts.append(
                LIKE_FORM.format(
                    url=escape(like.url),
                    token=escape(csrf_token),
                    intent=like.intent,
                    pressed=like.pressed,
                    like=words.like.format(name=name),
                    line=escape(like.line),
                )
            )
        elif like is not None and like.count:
            parts.append(LIKE_LINE.format(line=escape(like.line)))
        parts.append(COMMENT_END.format(after=item.after))
    parts.append("</ol>")
    return mark_safe("".join(parts))


def own_links(ref: str) -> str:
    yours = escape(gettext(" your comment"))
    return OWN_LINKS.format(
        ref=ref,
        edit_url=escape(reverse("comments:edit", args=[ref])),
        delete_url=escape(reverse("comments:delete", args=[ref])),
        edit=escape(gettext("Edit")),
        delete=escape(gettext("Delete")),
        yours=yours,
    )


def own_changeable(items: list[Item], user) -> set[int]:
    """The comments of `items` that `user` wrote and may still change: no
    query unless one of them is theirs and recent."""
    oldest = timezone.now() - editing.window()
    recent = [
        item.pk
        for item in items
        if item.user_id == user.pk and item.submitted and item.submitted >= oldest
    ]
    return set(editing.changeable(recent))


@dataclass
class Discussion:
    """One page of a post's discussion, ready for the template."""

    post: Post
    count: int
    number: int
    num_pages: int
    comments: list[Item]
    html: SafeString = field(default_factory=lambda: mark_safe(""))

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
    def of(
        cls, post: Post, page: object = 1, outline: Outline | None = None
    ) -> Discussion:
        """The discussion's page `page`; a bad or out-of-range number shows
        the nearest page rather than failing."""
        outline = outline or Outline.of(post)
        number = min(_page_number(page), outline.num_pages)
        per_page = threads_per_page()
        threads = outline.threads[(number - 1) * per_page : number * per_page]
        first, last = (threads[0], threads[-1]) if threads else (0, 0)
        # A range rather than a list of ids: the query runs (and is counted)
        # even for a post without comments, keeping the page's count fixed.
        rows = (
            Comment.objects.approved()
            .for_post(post)
            .filter(thread_id__gte=first, thread_id__lte=last)
            .order_by("thread_id", "order", "pk")
            .values(*FIELDS)
        )
        visible = [row for row in rows if row["pk"] in outline.thread_of]
        comments = arrange(visible, threads, post)
        return cls(post, outline.count, number, outline.num_pages, comments)

    @classmethod
    def for_reader(cls, post: Post, page: object, request: HttpRequest) -> Discussion:
        """The page as this reader sees it, its thread rendered in `html`.

        Three queries (outline, page, likes), or none for an anonymous reader
        when the thread is in the shared cache.
        """
        user = request.user
        if user.is_authenticated:
            discussion = cls.of(post, page)
            likes.attach_comment_likes(post, discussion.comments, request)
            discussion.html = splice.deferred(
                render(
                    discussion.comments,
                    # The link leads to the admin, which is for staff only.
                    can_moderate=user.is_staff and user.has_perm(MODERATE_PERMISSION),
                    csrf_token=get_token(request),
                    own=own_changeable(discussion.comments, user),
                )
            )
            return discussion

        model_name = post._meta.model_name
        vary_on = (
            model_name,
            post.pk,
            pagecache.version(),
            pagecache.version(pagecache.post_scope(post.pk, model_name)),
            # Both may change with the clock or the settings alone.
            comments_open(post),
            max_thread_level(),
        )
        # The first page is the first whatever the outline: its thread is
        # built on an outline of its own, one cache entry written, not two.
        # Any other number is clamped on the outline kept in the cache before
        # it reaches a key: ?cpage=1000 is the last page's.
        number = _page_number(page)
        outline = None
        if number > 1:
            outline = pagecache.cached(
                "outline",
                *vary_on,
                build=lambda: Outline.of(post),
                slot=(model_name, post.pk),
            )
            number = min(number, outline.num_pages)

        def build() -> tuple[int, int, int, bytes]:
            discussion = cls.of(post, number, outline)
            likes.attach_comment_likes(post, discussion.comments, request)
            # Kept in UTF-8: the page takes it as bytes (blog/splice.py).
            html = render(discussion.comments).encode()
            return discussion.count, discussion.number, discussion.num_pages, html

        count, number, num_pages, html = pagecache.cached(
            "thread", *vary_on, build=build, slot=(model_name, post.pk, number)
        )
        return cls(post, count, number, num_pages, [], splice.deferred(html))


def _page_number(page: object) -> int:
    try:
        return max(int(page), 1)
    except (TypeError, ValueError):
        return 1
