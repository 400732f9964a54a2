"""The admin header's "Pending comments (N)" link and the front page's
comments part, for those who moderate."""

from django import template
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from comments.admin import StateFilter, moderated_comments, pending_count
from comments.models import Comment

register = template.Library()

SHOWN = 5


def moderates(user) -> bool:
    return bool(
        user is not None
        and user.is_active
        and user.is_staff
        and user.has_perm("comments.change_comment")
    )


@register.simple_tag(takes_context=True)
def pending_comments_link(context: template.Context) -> str:
    """One COUNT query, and only for staff who may moderate comments."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not moderates(user):
        return ""
    count = pending_count(user)
    url = reverse("admin:comments_comment_changelist")
    return format_html(
        '<a href="{}?state=held" class="pending-comments">{} '
        '<span class="badge">({})</span></a> / ',
        url,
        gettext("Pending comments"),
        count,
    )


@register.inclusion_tag("admin/_desk_comments.html", takes_context=True)
def moderation_desk(context: template.Context) -> dict:
    """Pending comments (their count and the newest few) and the latest
    approved ones, among those the user may moderate: four queries."""
    user = context["request"].user
    if not moderates(user):
        return {"shown": False}
    theirs = (
        moderated_comments(user).select_related(None).order_by("-submit_date", "-pk")
    )
    held = theirs.filter(state=Comment.State.HELD)
    pending = list(held[:SHOWN])
    latest = list(theirs.filter(state=Comment.State.PUBLIC)[:SHOWN])
    prefetch_related_objects(pending + latest, "content_object")
    queue = reverse("admin:comments_comment_changelist")
    return {
        "shown": True,
        "pending_count": held.count(),
        "pending": pending,
        "latest": latest,
        "queue_url": f"{queue}?{StateFilter.parameter_name}={Comment.State.HELD}",
        "approved_url": f"{queue}?{StateFilter.parameter_name}={Comment.State.PUBLIC}",
    }
