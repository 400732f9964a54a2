"""Small keyword-only factories: each test states only what it depends on."""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from blog.models import Category, Post

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
