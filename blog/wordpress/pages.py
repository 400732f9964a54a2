"""Writing a WordPress export's pages and menus into Inkwell, inside the
import's transaction once the posts are written (blog/wordpress/posts.py).

Pages (parents first) get redirects from `<link>` and `/?page_id=N`, and
their comments through `posts_written`, as posts do; menus link to what the
import wrote. Both are few: each is saved one by one, through the models.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING
from urllib.parse import unquote

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from taggit.models import Tag

from blog.models import Category, Menu, MenuItem, Page, Post, address_taken
from blog.redirects import normalise_path
from blog.wordpress.content import convert_content, plain
from blog.wordpress.posts import (
    SKIPPED_STATUSES,
    STATUSES,
    _path,
    clean_slug,
    posts_written,
    record_redirects,
    redirect_old,
    wordpress_date,
)
from blog.wordpress.wxr import Item, as_int

if TYPE_CHECKING:
    from blog.wordpress.posts import Scan, WordPressImport

FRONT_PAGE_NOTE = gettext_noop(
    "WordPress's “static front page” and “posts page” (Settings › Reading) are "
    "not in the export: the home page lists the posts; link a page from the "
    "Header menu to show it first"
)
LOCATION_NOTE = gettext_noop(
    "menus imported without a place: where a theme shows each menu is a theme "
    "setting, not in the export; choose Header or Footer in Blog › Menus"
)


def write_pages(run: WordPressImport, items: list[Item], scan: Scan) -> dict[int, Page]:
    """Create or update the pages of `items`, then their comments; returns
    the pages written by WordPress id."""
    if not items:
        return {}
    run.report.note(gettext(FRONT_PAGE_NOTE))
    wanted = {item.wp_id: item for item in items if _kept(run, item)}
    existing = Page.objects.in_bulk(list(wanted), field_name="wordpress_id")
    pages: dict[int, Page] = {}
    written: list[tuple[Item, Page]] = []
    redirects: dict[str, str] = {}
    for item in _parents_first(run, wanted):
        page = existing.get(item.wp_id) or Page(wordpress_id=item.wp_id)
        created = page.pk is None
        before = _fields(page)
        for name, value in _page_values(run, item, scan).items():
            setattr(page, name, value)
        page.parent = pages.get(item.parent)
        page.slug = _free_slug(run, page, item)
        # Where it is now: a parent moved by this import moved it already.
        page.path = page.path_from_parent()
        if created or _fields(page) != before:
            page.save()
            run.report.count("pages", "created" if created else "updated")
        else:
            run.report.count("pages", "unchanged")
        pages[item.wp_id] = page
        written.append((item, page))
        url = page.get_absolute_url()
        redirects[f"/?page_id={item.wp_id}"] = url
        old = normalise_path(_path(item.link)) if item.link else "/"
        # (An address another route answers never reaches a redirect.)
        redirect_old(run.report, redirects, old, normalise_path(url), address_taken)
    record_redirects(redirects, run.report)
    if written:
        posts_written.send(
            sender=type(run),
            run=run,
            posts=written,
            content_type=ContentType.objects.get_for_model(Page),
        )
    return pages


def _kept(run: WordPressImport, item: Item) -> bool:
    label = plain(item.title) or f"#{item.wp_id}"
    if item.status in SKIPPED_STATUSES:
        run.report.count("pages", "skipped")
        run.report.note(
            gettext("pages with status %(status)s skipped")
            % {"status": repr(item.status)},
            label,
        )
        if item.comments:
            run.report.count("comments", "skipped", len(item.comments))
        return False
    return True


def _parents_first(run: WordPressImport, wanted: dict[int, Item]) -> list[Item]:
    """The pages in an order that writes each parent before its children; a
    page whose parent is not imported becomes a top-level page."""
    ordered: list[Item] = []
    seen: set[int] = set()

    def visit(item: Item, trail: tuple[int, ...] = ()) -> None:
        if item.wp_id in seen:
            return
        parent = wanted.get(item.parent)
        if parent is not None and parent.wp_id not in trail:
            visit(parent, (*trail, item.wp_id))
        elif item.parent and parent is None:
            run.report.note(
                gettext("pages whose parent page is not in the export made top-level"),
                plain(item.title) or f"#{item.wp_id}",
            )
            item.parent = 0
        elif parent is not None:
            item.parent = 0  # a loop in the file: broken here
        seen.add(item.wp_id)
        ordered.append(item)

    for item in sorted(wanted.values(), key=lambda i: (i.menu_order, i.wp_id)):
        visit(item)
    return ordered


PAGE_FIELDS = (
    "title", "slug", "parent_id", "menu_order", "author_id", "body", "status",
    "published_at", "allow_comments", "seo_description", "featured_image_alt",
)  # fmt: skip
LINK_FIELDS = (
    "menu_id", "label", "order", "page_id", "post_id", "category_id", "tag_id",
    "url", "parent_id",
)  # fmt: skip


def _fields(page: Page) -> list:
    return [getattr(page, name) for name in PAGE_FIELDS] + [
        str(page.featured_image or "")
    ]


def _page_values(run: WordPressImport, item: Item, scan: Scan) -> dict:
    label = plain(item.title) or f"#{item.wp_id}"
    status = STATUSES.get(item.status)
    if status is None:
        status = Page.Status.DRAFT
        run.report.note(
            gettext("pages with unknown status %(status)s imported as drafts")
            % {"status": repr(item.status)},
            label,
        )
    elif item.status == "pending":
        run.report.note(gettext("pending pages imported as drafts"), label)
    if item.password and status == Page.Status.PUBLISHED:
        status = Page.Status.PRIVATE
        run.report.note(
            gettext(
                "password-protected pages imported as private (pages have no "
                "passwords here)"
            ),
            label,
        )
    published_at = wordpress_date(item.date_gmt, item.date, item.pub_date)
    if published_at is None and status != Page.Status.DRAFT:
        published_at = timezone.now()
        run.report.note(
            gettext("published pages without a valid date published now"), label
        )
    title = plain(item.title) or "Untitled"
    if len(title) > 200:
        title = title[:199] + "…"
    body = convert_content(
        item.content,
        item.wp_id,
        scan.attachments,
        run.media.rewrite if run.media else None,
    )
    if run.media:
        run.media.note_pictures(body)
    return {
        **run._featured_image(item, scan, title),
        "title": title,
        "author_id": run._author(item, label).pk,
        "menu_order": item.menu_order,
        "body": body,
        "status": status,
        "published_at": published_at,
        "allow_comments": item.comment_status == "open",
        "seo_description": plain(item.excerpt)[:300],
    }


def _free_slug(run: WordPressImport, page: Page, item: Item) -> str:
    """The page's WordPress slug, made URL-safe, changed only if another
    page under the same parent or another part of the site has its address."""
    fallback = clean_slug(plain(item.title), f"page-{item.wp_id}", max_length=180)
    slug = clean_slug(item.name, fallback, max_length=180)
    if item.name and slug != unquote(item.name):
        run.report.note(gettext("page slugs made URL-safe"), f"{item.name} → {slug}")
    candidate, number = slug, 1
    while True:
        page.slug = candidate
        path = page.path_from_parent()
        clash = address_taken(f"/{path}/") or (
            Page.objects.filter(path=path).exclude(pk=page.pk).exists()
        )
        if not clash:
            break
        number += 1
        candidate = f"{slug}-{number}"
    if candidate != slug:
        run.report.note(
            gettext("page addresses already taken here: a number added"),
            f"/{slug}/ → /{candidate}/",
        )
    return candidate


# Menus ------------------------------------------------------------------------


def write_menus(
    run: WordPressImport, items: list[Item], scan: Scan, pages: dict[int, Page]
) -> None:
    """Create or update a menu per `nav_menu` term, with its links."""
    menus = _write_menu_terms(run, scan, items)
    if not menus:
        return
    run.report.note(gettext(LOCATION_NOTE))
    targets = _Targets(run, scan, items, pages)
    # By menu and WordPress id: exports reuse an item's id in another menu.
    existing = {
        (link.menu_id, link.wordpress_id): link
        for link in MenuItem.objects.filter(
            menu__in=list(menus.values()), wordpress_id__isnull=False
        )
    }
    links: dict[tuple[int, int], tuple[Item, MenuItem, tuple | None]] = {}
    for item in sorted(items, key=lambda i: (i.menu_order, i.wp_id)):
        label = plain(item.title) or f"#{item.wp_id}"
        if item.status != "publish":
            run.report.count("menu items", "skipped")
            run.report.note(
                gettext("menu items with status %(status)s skipped")
                % {"status": repr(item.status)},
                label,
            )
            continue
        menu = next(
            (
                menus[nicename]
                for taxonomy, nicename, _ in item.terms
                if taxonomy == "nav_menu" and nicename in menus
            ),
            None,
        )
        target = targets.of(item, label) if menu is not None else None
        if target is None:
            run.report.count("menu items", "skipped")
            continue
        link = existing.get((menu.pk, item.wp_id)) or MenuItem(wordpress_id=item.wp_id)
        before = _link_fields(link)
        link.menu = menu
        link.label = plain(item.title)[:200]
        link.order = max(item.menu_order, 1)
        link.page = link.post = link.category = link.tag = None
        link.url = ""
        for name, value in target.items():
            setattr(link, name, value)
        link.parent = None  # once every link of the menu is saved
        link.save()
        links[(menu.pk, item.wp_id)] = (item, link, before)
    for item, link, before in links.values():
        parent = _top_level_parent(run, item, link.menu_id, links)
        if parent is not None:
            link.parent = parent
            MenuItem.objects.filter(pk=link.pk).update(parent=parent)
        if before is None:
            outcome = "created"
        else:
            outcome = "unchanged" if _link_fields(link) == before else "updated"
        run.report.count("menu items", outcome)


def _write_menu_terms(
    run: WordPressImport, scan: Scan, items: list[Item]
) -> dict[str, Menu]:
    """The export's menus by slug: its `nav_menu` terms, and any menu its
    items name that the export does not declare."""
    declared: dict[str, tuple[str, int | None]] = {
        term.nicename: (term.name, term.wp_id)
        for (taxonomy, _), term in scan.terms.items()
        if taxonomy == "nav_menu"
    }
    for item in items:
        for taxonomy, nicename, name in item.terms:
            if taxonomy == "nav_menu" and nicename:
                declared.setdefault(nicename, (name, None))
    existing = Menu.objects.in_bulk(
        [wp_id for _, wp_id in declared.values() if wp_id], field_name="wordpress_id"
    )
    menus = {}
    for nicename, (name, wp_id) in declared.items():
        name = (plain(name) or nicename)[:100]
        menu = existing.get(wp_id) if wp_id else None
        if menu is None and wp_id is None:
            menu = Menu.objects.filter(wordpress_id=None, name=name).first()
        if menu is None:
            menu = Menu.objects.create(name=name, wordpress_id=wp_id)
            run.report.count("menus", "created")
        elif menu.name != name:
            menu.name = name
            menu.save(update_fields=["name"])
            run.report.count("menus", "updated")
        else:
            run.report.count("menus", "unchanged")
        menus[nicename] = menu
    return menus


def _link_fields(link: MenuItem) -> list | None:
    return [getattr(link, name) for name in LINK_FIELDS] if link.pk else None


def _top_level_parent(
    run: WordPressImport, item: Item, menu_id: int, links: dict[tuple, tuple]
) -> MenuItem | None:
    """The link `item` goes under in its menu: its parent, or the top-level
    link above it when WordPress nests deeper than the one level here."""
    parent_id = as_int(item.meta.get("_menu_item_menu_item_parent"))
    found, seen = None, {item.wp_id}
    while parent_id and (menu_id, parent_id) in links and parent_id not in seen:
        seen.add(parent_id)
        parent_item, found, _ = links[(menu_id, parent_id)]
        parent_id = as_int(parent_item.meta.get("_menu_item_menu_item_parent"))
    if found is not None and len(seen) > 2:
        run.report.note(
            gettext("menu links nested deeper than one level put under their top link"),
            plain(item.title) or f"#{item.wp_id}",
        )
    return found


# The link field of each kind of `nav_menu_item` target (type, object).
TARGET_FIELDS = {
    ("post_type", "page"): "page", ("post_type", "post"): "post",
    ("taxonomy", "category"): "category", ("taxonomy", "post_tag"): "tag",
}  # fmt: skip


class _Targets:
    """What each `nav_menu_item` links to, among what the import wrote."""

    def __init__(
        self,
        run: WordPressImport,
        scan: Scan,
        items: list[Item],
        pages: dict[int, Page],
    ) -> None:
        self.run = run
        self.site = (scan.channel.link if scan.channel else "").rstrip("/")
        wanted: dict[str, list[int]] = defaultdict(list)
        for item in items:
            wanted[item.meta.get("_menu_item_object", "")].append(
                as_int(item.meta.get("_menu_item_object_id"))
            )
        self.found = {
            kind: model.objects.in_bulk(wanted[kind], field_name="wordpress_id")
            for kind, model in (("post", Post), ("page", Page), ("category", Category))
        }
        self.found["page"].update(pages)
        self.found["tag"] = {
            term.wp_id: Tag(pk=run.tags[term.nicename])
            for (taxonomy, _), term in scan.terms.items()
            if taxonomy == "post_tag" and term.wp_id and term.nicename in run.tags
        }

    def of(self, item: Item, label: str) -> dict | None:
        """The link's fields for its target (None, noted, if there is none)."""
        kind = item.meta.get("_menu_item_type", "")
        target = item.meta.get("_menu_item_object", "")
        if kind == "custom":
            return self._url(item.meta.get("_menu_item_url", ""), label)
        field = TARGET_FIELDS.get((kind, target))
        if field is None:
            self.run.report.note(
                gettext("menu links to what Inkwell does not have skipped"),
                f"{label} ({target or kind or '—'})",
            )
            return None
        found = self.found[field].get(as_int(item.meta.get("_menu_item_object_id")))
        if found is None:
            self.run.report.note(
                gettext("menu links to something the import did not bring skipped"),
                label,
            )
            return None
        return {field: found}

    def _url(self, url: str, label: str) -> dict | None:
        url = url.strip()
        if self.site and (url == self.site or url.startswith(f"{self.site}/")):
            # A link into the old blog: its path, which redirects if it moved.
            url = url[len(self.site) :] or "/"
        if not url.lower().startswith(("http://", "https://", "mailto:", "/", "#")):
            self.run.report.note(
                gettext("menu links to unusable addresses skipped"), label
            )
            return None
        return {"url": url[:500]}
