"""The admin front page's parts for authors and operators (blog/dashboard.py)."""

from django import template

from blog import dashboard

register = template.Library()


@register.inclusion_tag("admin/_desk_writing.html", takes_context=True)
def writing_desk(context: template.Context) -> dict:
    user = context["request"].user
    return {
        "drafts": dashboard.drafts(user),
        "scheduled": dashboard.scheduled(user),
        "failed": dashboard.failed_tasks(user),
    }


@register.filter
def task_label(path: str) -> str:
    """`comments.tasks.send_mail` → `send_mail`: the task's own name."""
    return path.rpartition(".")[2] or path
