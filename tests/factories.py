"""Small keyword-only factories: each test states only what it depends on."""

import itertools
import time
from datetime import timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.utils import timezone

from blog.models import Category, Post, SiteIdentity, Subscriber
from comments.forms import CommentForm
from comments.models import Comment

_counter = itertools.count(1)


def make_user(*, username: str = "", groups: tuple[str, ...] = (), **fields):
    username = username or f"user{next(_counter)}"
    fields.setdefault("email", f"{username}@example.com")
    fields.setdefault("is_staff", bool(groups))
    user = get_user_model().objects.create_user(
        username=username, password="a-long-test-password", **fields
    )
    if groups:
        user.groups.set(Group.objects.filter(name__in=groups))
    return user


def make_category(*, name: str = "", slug: str = "", parent=None, description=""):
    name = name or f"Category {next(_counter)}"
    return Category.objects.create(
        name=name,
        slug=slug or f"category-{next(_counter)}",
        parent=parent,
        description=description,
    )


def set_site_identity(**fields) -> SiteIdentity:
    """Change the site identity (the admin's "Site identity"), e.g.
    `set_site_identity(posts_per_page=2)`."""
    identity = SiteIdentity.current()
    for name, value in fields.items():
        setattr(identity, name, value)
    identity.save()
    return identity


def make_post(
    *,
    title: str = "",
    slug: str = "",
    author=None,
    category=None,
    body: str = "Some *Markdown* text.",
    status: str = Post.Status.PUBLISHED,
    published_at=None,
    tags: tuple[str, ...] = (),
    **fields,
) -> Post:
    number = next(_counter)
    if published_at is None and status == Post.Status.PUBLISHED:
        published_at = timezone.now() - timedelta(days=1, minutes=number)
    post = Post.objects.create(
        title=title or f"Post {number}",
        slug=slug or f"post-{number}",
        author=author or make_user(),
        category=category,
        body=body,
        status=status,
        published_at=published_at,
        **fields,
    )
    if tags:
        post.tags.add(*tags)
    return post


def make_comment(
    *,
    post=None,
    user=None,
    name: str = "",
    email: str = "",
    body: str = "A thoughtful reply.",
    state: str = Comment.State.PUBLIC,
    parent=None,
    followup: bool = False,
    ip_address: str = "192.0.2.10",
    **fields,
) -> Comment:
    """A reader's comment on `post` (a new post if none), saved in `state`.

    A signed-in reader's comment takes its name and address from the account.
    """
    post = post or (parent.content_object if parent is not None else make_post())
    number = next(_counter)
    if user is not None:
        name = name or user.get_username()
        email = email or user.email
    return Comment.objects.create(
        content_type=ContentType.objects.get_for_model(post),
        object_pk=str(post.pk),
        site=Site.objects.get_current(),
        user=user,
        user_name=name or f"Reader {number}",
        user_email=email or f"reader{number}@example.org",
        comment=body,
        state=state,
        parent_id=parent.pk if parent is not None else 0,
        followup=followup,
        ip_address=ip_address,
        **fields,
    )


def make_discussion(
    *, post, comments: int, users: tuple = (), thread_sizes: tuple[int, ...] = (4,)
) -> list:
    """`comments` approved comments on `post` in a few queries (for page-count
    and speed checks). Threads take their sizes from `thread_sizes` in turn;
    in a thread each reply answers the one before, down to the deepest level
    (4), then starts again under the top comment. Authors are `users` in turn
    (None: an anonymous reader).

    Rows are inserted in bulk with their thread fields worked out here, as
    `XtdComment.save()` would (it costs a dozen queries per comment).
    """
    from django.db import connection
    from django_comments.models import Comment as BaseComment
    from django_comments_xtd.models import XtdComment

    users = users or (None,)
    content_type = ContentType.objects.get_for_model(post)
    now = timezone.now()
    bases = BaseComment.objects.bulk_create(
        BaseComment(
            content_type=content_type,
            object_pk=str(post.pk),
            site_id=1,
            user=users[number % len(users)],
            user_name=f"Reader {number}",
            user_email=f"reader{number}@example.com",
            comment=f"Comment *number* {number}, with [a link](https://example.org).",
            submit_date=now - timedelta(seconds=comments - number),
        )
        for number in range(comments)
    )
    rows, thread, order, left, sizes = [], [], 0, 0, itertools.cycle(thread_sizes)
    for base in bases:
        if left == 0:
            thread, order, left = [(base.pk, 0)], 1, next(sizes)
            parent_id, level = base.pk, 0
        else:
            parent_id, parent_level = thread[-1] if thread[-1][1] < 4 else thread[0]
            level, order = parent_level + 1, order + 1
            thread.append((base.pk, level))
        left -= 1
        rows.append((base.pk, thread[0][0], parent_id, level, order))
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
    return list(Comment.objects.filter(pk__in=[base.pk for base in bases]))


def comment_form_data(post, *, seconds_ago: int = 0, **fields) -> dict:
    """What a reader's browser sends: the signed hidden fields, shown
    `seconds_ago`, plus the reader's answers (override any with `fields`)."""
    form = CommentForm(post)
    with mock.patch("time.time", return_value=time.time() - seconds_ago):
        security = form.generate_security_data()
    data = {key: str(value) for key, value in security.items()}
    data.update(
        reply_to="0",
        name="Ada Reader",
        email="ada@example.com",
        url="",
        comment="A thoughtful comment.",
        honeypot="",
    )
    data.update({key: str(value) for key, value in fields.items()})
    return data


def make_page(
    *,
    title: str = "",
    slug: str = "",
    parent=None,
    author=None,
    body: str = "Some *Markdown* text.",
    status: str = "published",
    published_at=None,
    **fields,
):
    from blog.models import Page

    number = next(_counter)
    if published_at is None and status == Page.Status.PUBLISHED:
        published_at = timezone.now() - timedelta(days=1, minutes=number)
    return Page.objects.create(
        title=title or f"Page {number}",
        slug=slug or f"page-{number}",
        parent=parent,
        author=author or make_user(),
        body=body,
        status=status,
        published_at=published_at,
        **fields,
    )


def make_subscriber(
    *,
    email: str = "",
    state: str = Subscriber.State.CONFIRMED,
    categories=(),
    confirmed_at=None,
    **fields,
) -> Subscriber:
    if confirmed_at is None and state == Subscriber.State.CONFIRMED:
        confirmed_at = timezone.now() - timedelta(days=30)
    subscriber = Subscriber.objects.create(
        email=email or f"reader{next(_counter)}@example.com",
        state=state,
        confirmed_at=confirmed_at,
        **fields,
    )
    if categories:
        subscriber.categories.set(categories)
    return subscriber
