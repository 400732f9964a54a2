"""The admin header's "Pending comments (N)" link, for those who moderate."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from comments.admin import pending_count

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_comments_link(context: template.Context) -> str:
    """One COUNT query, and only for staff who may moderate comments."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return ""
    if not user.has_perm("comments.change_comment"):
        return ""
    count = pending_count(user)
    url = reverse("admin:comments_comment_changelist")
    return format_html(
        '<a href="{}?state=held" class="pending-comments">Pending comments '
        '<span class="badge">({})</span></a> / ',
        url,
        count,
    )
