"""Template tags of the discussion. (Not `comments`: that name belongs to
django_comments' own tag library.)"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.db.models import Count

from blog.models import Post
from comments import stencils
from comments.forms import CommentForm, blank_form
from comments.models import Comment
from comments.moderation import comments_open
from comments.threads import Discussion
from comments.views import remembered_commenter

register = template.Library()


@register.simple_tag(takes_context=True)
def get_discussion(context: template.Context, post: Post) -> dict:
    """The post's discussion page (?cpage=), its thread rendered for this
    reader, and the reply form, prefilled: `form`, or for an anonymous
    reader with nothing remembered the blank form's markup, `blank_form`.
    `open`: whether there is a form. (Pages for signed-in readers and
    remembered commenters are `Cache-Control: private`: blog/pagecache.py
    marks every response to a request with their cookies.)"""
    request = context["request"]
    discussion = Discussion.for_reader(post, request.GET.get("cpage", 1), request)
    form = blank = None
    is_open = comments_open(post)
    if is_open:
        initial = {}
        if not request.user.is_authenticated:
            initial = remembered_commenter(request)
            if initial:
                initial["remember"] = True
            else:
                blank = blank_form(post, stencils.csrf_input(context))
        if blank is None:
            form = CommentForm(post, initial=initial, user=request.user)
    return {"page": discussion, "form": form, "blank_form": blank, "open": is_open}


@register.simple_tag
def comment_counts(posts: Iterable[Post]) -> dict[int, int]:
    """Approved comments per post, for a whole list of posts in one query."""
    ids = [post.pk for post in posts]
    counts = dict.fromkeys(ids, 0)
    rows = (
        Comment.objects.approved()
        .for_posts()
        .filter(object_pk__in=[str(pk) for pk in ids])
        .order_by()
        .values_list("object_pk")
        .annotate(count=Count("pk"))
    )
    for object_pk, count in rows:
        counts[int(object_pk)] = count
    return counts


@register.filter
def count_for(counts: dict[int, int], post: Post) -> int:
    return counts.get(post.pk, 0)
