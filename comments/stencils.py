"""Markup rendered once for many readers, filled in per reader: a template's
output as a format string, with a slot for the CSRF input (every reader's
own) and any others the caller marks (a form's signed fields). The blank
comment form and the likes widget of readers who have not liked the post
are the same for every such reader but for those."""

from __future__ import annotations

from collections.abc import Iterable

from django.template import Context
from django.template.defaulttags import CsrfTokenNode
from django.template.loader import render_to_string


def mark(name: str) -> str:
    """What stands for slot `name` in the context the stencil is rendered
    with. Letters only: escaping leaves it as it is."""
    return f"inkwellstencil{name}mark"


def render(template_name: str, context: dict, slots: Iterable[str] = ()) -> str:
    """`template_name` rendered with `context` as a format string: {csrf}
    where {% csrf_token %} wrote its input (none without a token), and
    {name} where `mark(name)` was written for each of `slots`."""
    token = mark("csrf")
    html = render_to_string(template_name, {**context, "csrf_token": token})
    html = html.replace("{", "{{").replace("}", "}}")
    html = html.replace(csrf_input(Context({"csrf_token": token})), "{csrf}")
    for name in slots:
        html = html.replace(mark(name), f"{{{name}}}")
    return html


def csrf_input(context: Context) -> str:
    """What {% csrf_token %} writes in `context`."""
    return CsrfTokenNode().render(context)
