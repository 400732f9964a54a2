"""Writing what Inkwell holds as a WordPress export (WXR 1.2), to move out.

`write_export()` streams authors, terms, posts and pages in the layout of
WordPress's exporter (wp-admin/includes/export.php); bodies as the HTML
readers see, in a Custom HTML block, so no importer adds paragraphs again.
Comments come from whoever answers `exporting_items` (comments/wordpress.py).
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from email.utils import format_datetime
from typing import TextIO
from urllib.parse import quote, unquote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.redirects.models import Redirect
from django.dispatch import Signal
from django.urls import Resolver404, resolve
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from blog.links import absolute
from blog.models import Category, Page, Post, SiteIdentity, display_name
from blog.wordpress.posts import parents_first

BATCH_SIZE = 500
NO_DATE = "0000-00-00 00:00:00"
# XML 1.0 forbids these characters anywhere in a document.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

exporting_items = Signal()
"""Sent for each batch of posts (or pages) being written.

Arguments: `objects`, the model instances, and `ids`, their `wp:post_id`
by pk. A receiver returns a dict of pk → list of `<wp:comment>` elements
(strings) to write inside each item.
"""


def cdata(text: str) -> str:
    """`text` as WordPress's `wxr_cdata()` writes it (`]]>` split)."""
    text = FORBIDDEN.sub("", text or "")
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def escape(text: str) -> str:
    text = FORBIDDEN.sub("", str(text or ""))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wordpress_slug(slug: str) -> str:
    """A slug as WordPress stores it: Unicode %-encoded, lowercase escapes."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(slug))


def dates(when) -> tuple[str, str]:
    """`wp:*_date` (the site's time zone) and `wp:*_date_gmt`."""
    if when is None:
        return NO_DATE, NO_DATE
    local = timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S")
    return local, when.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def rfc822(when) -> str:
    return format_datetime(when.astimezone(datetime.UTC)) if when else ""


def element(name: str, value, *, raw: bool = False) -> str:
    return f"<{name}>{value if raw else escape(value)}</{name}>"


def text(name: str, value: str) -> str:
    return element(name, cdata(value), raw=True)


def meta_elements(tag: str, pairs: Iterable[tuple[str, str]]) -> list[str]:
    return [
        f"<{tag}>{text('wp:meta_key', key)}{text('wp:meta_value', value)}</{tag}>"
        for key, value in pairs
    ]


def _html_block(html: str) -> str:
    return f"<!-- wp:html -->\n{html}\n<!-- /wp:html -->" if html else ""


class Exporter:
    """One export; `write(out)` writes it all to the text stream `out`."""

    def __init__(self) -> None:
        self.categories = Category.objects.by_id()
        self.post_type = ContentType.objects.get_for_model(Post)
        self.page_type = ContentType.objects.get_for_model(Page)

    def write(self, out: TextIO) -> dict[str, int]:
        identity = SiteIdentity.current()
        counts: dict[str, int] = defaultdict(int)
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            "<!-- A WordPress eXtended RSS file (WXR 1.2) written by Inkwell's "
            "manage.py export_wordpress. -->\n"
            '<rss version="2.0"\n'
            '\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
            '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '\txmlns:wp="http://wordpress.org/export/1.2/"\n>\n<channel>\n'
        )
        out.write(
            "\t"
            + "\n\t".join(
                [
                    element("title", identity.title),
                    element("link", settings.SITE_URL),
                    element("description", identity.tagline),
                    element("pubDate", rfc822(timezone.now())),
                    element("language", settings.LANGUAGE_CODE),
                    element("wp:wxr_version", "1.2"),
                    element("wp:base_site_url", settings.SITE_URL),
                    element("wp:base_blog_url", settings.SITE_URL),
                ]
            )
            + "\n"
        )
        authors = self._authors()
        for user in authors.values():
            out.write(self._author(user))
            counts["authors"] += 1
        for category in parents_first(
            sorted(self.categories.values(), key=lambda c: c.pk),
            lambda c: c.pk,
            lambda c: self.categories.get(c.parent_id),
        ):
            out.write(self._category(category))
            counts["categories"] += 1
        for tag in Tag.objects.order_by("pk"):
            out.write(
                "\t<wp:tag>"
                + element("wp:term_id", tag.pk)
                + text("wp:tag_slug", wordpress_slug(tag.slug))
                + text("wp:tag_name", tag.name)
                + "</wp:tag>\n"
            )
            counts["tags"] += 1
        posts = Post.objects.select_related("author").order_by("pk")
        for batch in _batches(posts.iterator(chunk_size=BATCH_SIZE)):
            ids = {post.pk: post.pk for post in batch}
            for xml in self._post_items(batch, ids, authors):
                out.write(xml)
            counts["posts"] += len(batch)
        # WordPress numbers posts and pages in one series: pages follow posts.
        offset = (
            Post.objects.order_by("-pk").values_list("pk", flat=True).first()
        ) or 0
        pages = Page.objects.select_related("author").order_by("pk")
        for batch in _batches(pages.iterator(chunk_size=BATCH_SIZE)):
            ids = {page.pk: offset + page.pk for page in batch}
            for xml in self._page_items(batch, ids, offset, authors):
                out.write(xml)
            counts["pages"] += len(batch)
        out.write("</channel>\n</rss>\n")
        return dict(counts)

    # Authors and terms -----------------------------------------------------------

    def _authors(self) -> dict[int, object]:
        User = get_user_model()
        ids = set(Post.objects.values_list("author_id", flat=True))
        ids |= set(Page.objects.values_list("author_id", flat=True))
        return User.objects.in_bulk(sorted(ids))

    def _author(self, user) -> str:
        return (
            "\t<wp:author>"
            + element("wp:author_id", user.pk)
            + text("wp:author_login", user.get_username())
            + text("wp:author_email", user.email)
            + text("wp:author_display_name", display_name(user))
            + text("wp:author_first_name", user.first_name)
            + text("wp:author_last_name", user.last_name)
            + "</wp:author>\n"
        )

    def _category(self, category: Category) -> str:
        parent = self.categories.get(category.parent_id)
        return (
            "\t<wp:category>"
            + element("wp:term_id", category.pk)
            + text("wp:category_nicename", wordpress_slug(category.slug))
            + text("wp:category_parent", wordpress_slug(parent.slug) if parent else "")
            + text("wp:cat_name", category.name)
            + text("wp:category_description", category.description)
            + "</wp:category>\n"
        )

    # Items -----------------------------------------------------------------------

    def _comments(self, objects, ids) -> dict[int, list[str]]:
        found: dict[int, list[str]] = defaultdict(list)
        for _, answer in exporting_items.send(
            sender=Exporter, objects=objects, ids=ids
        ):
            for pk, elements in (answer or {}).items():
                found[pk].extend(elements)
        return found

    def _post_items(self, posts: list[Post], ids, authors) -> Iterable[str]:
        pks = [post.pk for post in posts]
        tags: dict[int, list[Tag]] = defaultdict(list)
        rows = TaggedItem.objects.filter(
            content_type=self.post_type, object_id__in=pks
        ).select_related("tag")
        for row in rows.order_by("pk"):
            tags[row.object_id].append(row.tag)
        others: dict[int, list[int]] = defaultdict(list)
        through = Post.categories.through.objects.filter(post_id__in=pks)
        for post_id, category_id in through.order_by("pk").values_list(
            "post_id", "category_id"
        ):
            others[post_id].append(category_id)
        old_slugs = self._old_slugs(posts)
        comments = self._comments(posts, ids)
        for post in posts:
            terms = []
            for category_id in [post.category_id, *others[post.pk]]:
                category = self.categories.get(category_id)
                if category is not None:
                    terms.append(("category", category.slug, category.name))
            terms += [("post_tag", tag.slug, tag.name) for tag in tags[post.pk]]
            data = post.wordpress_data or {}
            if data.get("format"):
                name = f"post-format-{data['format']}"
                terms.append(("post_format", name, data["format"].title()))
            for taxonomy, names in (data.get("terms") or {}).items():
                terms += [(taxonomy, name, name) for name in names]
            meta = [("_wp_old_slug", slug) for slug in old_slugs.get(post.pk, [])]
            meta += [tuple(pair) for pair in data.get("custom_fields", [])]
            yield self._item(
                post,
                ids[post.pk],
                "post",
                excerpt=post.excerpt,
                password=post.password,
                sticky=post.sticky,
                terms=terms,
                meta=meta,
                comments=comments.get(post.pk, []),
            )

    def _page_items(self, pages: list[Page], ids, offset, authors) -> Iterable[str]:
        comments = self._comments(pages, ids)
        for page in pages:
            yield self._item(
                page,
                ids[page.pk],
                "page",
                parent=offset + page.parent_id if page.parent_id else 0,
                menu_order=page.menu_order,
                comments=comments.get(page.pk, []),
            )

    def _old_slugs(self, posts: list[Post]) -> dict[int, list[str]]:
        """Former slugs, from the redirects to each post's address that are
        addresses of posts themselves (`/yyyy/mm/old-slug/`)."""
        by_url = {post.get_absolute_url(): post for post in posts}
        found: dict[int, list[str]] = defaultdict(list)
        rows = Redirect.objects.filter(
            site_id=settings.SITE_ID, new_path__in=list(by_url)
        ).values_list("old_path", "new_path")
        for old_path, new_path in rows.order_by("pk"):
            try:
                match = resolve(unquote(old_path.partition("?")[0]))
            except Resolver404:
                continue
            post = by_url[new_path]
            slug = match.kwargs.get("slug") if match.view_name == "blog:post" else None
            if slug and slug != post.slug and slug not in found[post.pk]:
                found[post.pk].append(slug)
        return found

    def _item(
        self,
        item: Post | Page,
        wp_id: int,
        post_type: str,
        *,
        excerpt: str = "",
        password: str = "",
        sticky: bool = False,
        parent: int = 0,
        menu_order: int = 0,
        terms: list[tuple[str, str, str]] = (),
        meta: list[tuple[str, str]] = (),
        comments: list[str] = (),
    ) -> str:
        local, gmt = dates(item.published_at)
        comment_status = "open" if item.allow_comments else "closed"
        parts = [
            element("title", item.title),
            element("link", absolute(item.get_absolute_url())),
            element("pubDate", rfc822(item.published_at)),
            text("dc:creator", item.author.get_username()),
            f'<guid isPermaLink="false">{escape(absolute(f"/?p={wp_id}"))}</guid>',
            "<description></description>",
            text("content:encoded", _html_block(item.body_html)),
            text("excerpt:encoded", excerpt),
            element("wp:post_id", wp_id),
            text("wp:post_date", local),
            text("wp:post_date_gmt", gmt),
            text("wp:comment_status", comment_status),
            text("wp:ping_status", "closed"),
            text("wp:post_name", wordpress_slug(item.slug)),
            text("wp:status", wordpress_status(item)),
            element("wp:post_parent", parent),
            element("wp:menu_order", menu_order),
            text("wp:post_type", post_type),
            text("wp:post_password", password),
            element("wp:is_sticky", 1 if sticky else 0),
        ]
        parts += [
            f'<category domain="{escape(taxonomy)}" '
            f'nicename="{escape(wordpress_slug(nicename))}">{cdata(name)}</category>'
            for taxonomy, nicename, name in terms
        ]
        parts += meta_elements("wp:postmeta", meta)
        parts += comments
        return "\t<item>\n\t\t" + "\n\t\t".join(parts) + "\n\t</item>\n"


def _batches(objects: Iterable, size: int = BATCH_SIZE) -> Iterable[list]:
    objects = iter(objects)
    while batch := list(itertools.islice(objects, size)):
        yield batch


def write_export(out: TextIO) -> dict[str, int]:
    """Write the whole site as WXR 1.2 to `out`; returns the counts written."""
    return Exporter().write(out)


def comment_element(
    *,
    wp_id: int,
    author: str,
    email: str,
    url: str,
    ip: str,
    when,
    content: str,
    approved: str,
    kind: str,
    parent: int,
    user_id: int,
    meta: dict[str, str] | None = None,
) -> str:
    """One `<wp:comment>`, for receivers of `exporting_items`."""
    local, gmt = dates(when)
    parts = [
        element("wp:comment_id", wp_id),
        text("wp:comment_author", author),
        text("wp:comment_author_email", email),
        element("wp:comment_author_url", escape(url), raw=True),
        text("wp:comment_author_IP", ip),
        text("wp:comment_date", local),
        text("wp:comment_date_gmt", gmt),
        text("wp:comment_content", content),
        text("wp:comment_approved", approved),
        text("wp:comment_type", kind),
        element("wp:comment_parent", parent),
        element("wp:comment_user_id", user_id),
    ]
    parts += meta_elements("wp:commentmeta", (meta or {}).items())
    return "<wp:comment>\n\t\t\t" + "\n\t\t\t".join(parts) + "\n\t\t</wp:comment>"


def wordpress_status(item: Post | Page) -> str:
    """The post_status WordPress gives a post or page in this state."""
    if item.is_scheduled:
        return "future"
    if item.is_public:
        return "publish"
    return "private" if item.is_private else "draft"
