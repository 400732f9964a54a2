"""Template helpers of the theme: faces (blog/avatars.py), reading time and
the table of contents (blog/reading.py)."""

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
