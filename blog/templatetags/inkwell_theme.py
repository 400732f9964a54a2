"""Template helpers of the theme: faces (blog/avatars.py), reading time and
the table of contents (blog/reading.py)."""

import datetime

from django import template

from blog import avatars, reading

register = template.Library()


@register.simple_tag
def avatar(user, size: int = 40):
    """The identicon of a user (an author, a liker)."""
    name = user.get_full_name() or user.get_username()
    return avatars.avatar(user.email, name, size)


@register.filter
def reading_minutes(body_html: str) -> int:
    return reading.reading_minutes(body_html)


@register.filter
def contents(body_html: str):
    return reading.contents(body_html)


@register.filter
def whole_minutes(duration: datetime.timedelta) -> int:
    """A duration in whole minutes, rounded up (a number `{% blocktranslate
    count %}` can choose its plural by)."""
    return -(-int(duration.total_seconds()) // 60)
