"""Small keyword-only factories: each test states only what it depends on."""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.utils import timezone

from blog.models import Category, Post
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
