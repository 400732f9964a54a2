"""Template helpers of the theme: what a person is called (blog.models.display_name),
faces (blog/avatars.py), pictures in several sizes (blog/pictures.py), reading
time and the table of contents (blog/reading.py)."""

import datetime

from django import template
from django.utils.safestring import mark_safe

from blog import avatars, pictures, reading
from blog.models import display_name

register = template.Library()

register.filter("display_name", display_name)


@register.simple_tag
def avatar(user, size: int = 40):
    """The identicon of a user (an author, a liker)."""
    return avatars.avatar(user.email, display_name(user), size)


SIZES = {
    "post": pictures.SIZES_POST,
    "card": pictures.SIZES_CARD,
    "lead": pictures.SIZES_LEAD,
}


@register.simple_tag
def picture_sizes(record, layout: str = "post"):
    """width, height, srcset and sizes of a featured picture
    (`featured_image_sizes`), for where the layout shows it."""
    return mark_safe(pictures.attributes(record, SIZES[layout]))


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
