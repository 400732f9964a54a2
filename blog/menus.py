"""The links of the header and footer menus, as readers see them.

Menus are edited in the admin (`Menu`, `MenuItem`); base.html shows them
from a cached fragment (`cached_menus`), so the links are read only when the
content version moves (any save of a menu, an item, a page, a post, a category or a
tag bumps it: blog/pagecache.py). Links to drafts, private or scheduled
pages and posts are left out. An empty Header menu shows Home and the
top-level categories, so a new site has a way around.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext

from blog import pagecache
from blog.models import Menu, MenuItem, site_categories


@dataclass(frozen=True)
class Link:
    text: str
    href: str
    children: tuple[Link, ...] = ()


def site_menus() -> dict[str, list[Link]]:
    """The links of every shown menu by location ("header", "footer"), with
    their sub-links: one query, two for the default header."""
    items = MenuItem.objects.exclude(menu__location="").select_related(
        "menu", "page", "post", "category", "tag"
    )
    by_location: dict[str, list[MenuItem]] = {}
    for item in items:
        if item.is_public:
            by_location.setdefault(item.menu.location, []).append(item)
    menus = {location: arranged(found) for location, found in by_location.items()}
    if Menu.Location.HEADER not in menus:
        menus[Menu.Location.HEADER] = default_header()
    return menus


def arranged(items: list[MenuItem]) -> list[Link]:
    """Top-level links in order, each with its sub-links (one level)."""
    top_ids = {item.pk for item in items if item.parent_id is None}
    children: dict[int, list[Link]] = {}
    for item in items:
        if item.parent_id in top_ids:
            children.setdefault(item.parent_id, []).append(as_link(item))
    return [
        as_link(item, tuple(children.get(item.pk, ())))
        for item in items
        if item.parent_id is None
    ]


def as_link(item: MenuItem, children: tuple[Link, ...] = ()) -> Link:
    return Link(text=item.text, href=item.href, children=children)


def default_header() -> list[Link]:
    return [Link(gettext("Home"), reverse("blog:home"))] + [
        Link(category.name, category.get_absolute_url())
        for category in site_categories().values()
        if category.parent_id is None
    ]


def cached_menus() -> dict[str, list[Link]]:
    return pagecache.cached("menus", pagecache.version(), build=site_menus)
