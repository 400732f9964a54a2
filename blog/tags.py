"""How tags are written in the editor's Tags box: names separated by commas,
`morning routine, stretching`, as WordPress and Ghost write them.

django-taggit's own format quotes every name with a space in it
(`"morning routine", stretching`) and, without a comma, takes spaces as
separators. Here only commas separate; a name that holds a comma itself is
written in double quotes, which the reader also accepts around any name."""

from django.db.models import Count
from django.utils.html import format_html, format_html_join
from taggit.forms import TagWidget
from taggit.models import Tag
from taggit.utils import _parse_tags as quoted_tags


def tags_from_string(text: str) -> list[str]:
    if '"' in text:
        return quoted_tags(text)
    names = {name.strip() for name in text.split(",")}
    return sorted(name for name in names if name)


def string_from_tags(tags) -> str:
    names = sorted(tag.name for tag in tags)
    return ", ".join(f'"{name}"' if "," in name else name for name in names)


# The Tags box suggests the most used existing tags (one query; the JavaScript
# in static/js/editor-layout.js completes the name being typed after a comma).
SUGGESTED = 300


class TagInput(TagWidget):
    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        suggestions = f"{attrs.get('id', name)}_suggestions"
        attrs.update(list=suggestions, autocomplete="off")
        names = (
            Tag.objects.annotate(uses=Count("taggit_taggeditem_items"))
            .order_by("-uses", "name")
            .values_list("name", flat=True)[:SUGGESTED]
        )
        return format_html(
            '{}<datalist id="{}">{}</datalist>',
            super().render(name, value, attrs, renderer),
            suggestions,
            format_html_join("", "<option>{}</option>", ((n,) for n in names)),
        )
