"""What the admin's front page shows first, for authors: their drafts and
scheduled posts, and, for those who may read them, the tasks that failed for
good. Each part is a count and a few rows (two queries), and only for users
with the permission to open what it lists. (The comments' part is in
comments/templatetags/inkwell_moderation.py.)"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from blog.models import Post
from blog.views import RETRY_SCHEDULED

SHOWN = 5


@dataclass(frozen=True)
class Listing:
    count: int
    items: list
    url: str


def listing(queryset: QuerySet, url: str) -> Listing:
    return Listing(count=queryset.count(), items=list(queryset[:SHOWN]), url=url)


def own_posts(user) -> QuerySet[Post] | None:
    """The posts `user` may change in the admin (blog.admin.AuthorOwnedAdmin's
    rule), or None if they may change none."""
    if not user.has_perm("blog.change_post"):
        return None
    posts = Post.objects.select_related("author").only(
        "title",
        "status",
        "published_at",
        "updated_at",
        "author__username",
        "author__first_name",
        "author__last_name",
    )
    if user.has_perm("blog.edit_others_posts"):
        return posts
    return posts.filter(author=user)


def drafts(user) -> Listing | None:
    posts = own_posts(user)
    if posts is None:
        return None
    changelist = reverse("admin:blog_post_changelist")
    return listing(
        posts.filter(status=Post.Status.DRAFT).order_by("-updated_at", "-pk"),
        f"{changelist}?status__exact={Post.Status.DRAFT}",
    )


def scheduled(user) -> Listing | None:
    posts = own_posts(user)
    if posts is None:
        return None
    changelist = reverse("admin:blog_post_changelist")
    return listing(
        posts.filter(
            status=Post.Status.PUBLISHED, published_at__gt=timezone.now()
        ).order_by("published_at", "pk"),
        f"{changelist}?status__exact={Post.Status.PUBLISHED}",
    )


def failed_tasks(user) -> Listing | None:
    """Tasks whose last attempt failed (an attempt that queued its own retry
    is not counted: blog/worker.py), newest first."""
    if not user.has_perm("django_tasks_database.view_dbtaskresult"):
        return None
    changelist = reverse("admin:django_tasks_database_dbtaskresult_changelist")
    return listing(
        DBTaskResult.objects.filter(status=TaskResultStatus.FAILED)
        .exclude(exception_class_path=RETRY_SCHEDULED)
        .only("id", "task_path", "finished_at", "exception_class_path")
        .order_by("-finished_at"),
        f"{changelist}?status__exact={TaskResultStatus.FAILED}",
    )
