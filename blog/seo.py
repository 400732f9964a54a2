"""Builds what search engines and link previews read about a page.

Views hand a `PageMeta` to their template as `page_meta`; base.html turns it
into the description, the canonical link, OpenGraph and Twitter card tags,
rel="prev"/"next" links and JSON-LD. Every URL is absolute from SITE_URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.paginator import Page as ListPage
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext

from blog.links import absolute
from blog.models import Category, Page, Post, SiteIdentity, display_name

DESCRIPTION_LENGTH = 300

# What json_script escapes: a "</script>" inside a title stays text.
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld(data: dict) -> SafeString:
    """`data` as a JSON-LD block: data for crawlers, never run as script."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(text.translate(JSON_SCRIPT_ESCAPES)),  # escaped like json_script
    )


@dataclass
class PageMeta:
    title: str
    description: str
    canonical: str
    kind: str = "website"
    image: str = ""
    image_alt: str = ""
    prev_url: str = ""
    next_url: str = ""
    structured_data: list[dict] = field(default_factory=list)

    def json_ld_blocks(self) -> list[SafeString]:
        return [json_ld(data) for data in self.structured_data]


def page_url(path: str, number: int, params: dict | None = None) -> str:
    """The absolute URL of page `number` of a list (page 1 has no `page`)."""
    query = dict(params or {})
    if number > 1:
        query["page"] = number
    return absolute(path) + (f"?{urlencode(query)}" if query else "")


def listing_meta(
    request: HttpRequest,
    page: ListPage | None,
    *,
    title: str,
    description: str = "",
    breadcrumb: list[Category] | None = None,
    params: dict | None = None,
) -> PageMeta:
    """Metadata of a paginated list of posts (home, category, tag, author...)."""
    # `is not None`: the truth of a Page is its length, which would read the
    # posts that the cached list of posts ({% cache %} in _post_list.html) spares.
    number = page.number if page is not None else 1
    meta = PageMeta(
        title=title,
        description=Truncator(description or SiteIdentity.current().description).chars(
            DESCRIPTION_LENGTH
        ),
        canonical=page_url(request.path, number, params),
    )
    if page is not None and page.has_previous():
        meta.prev_url = page_url(request.path, page.previous_page_number(), params)
    if page is not None and page.has_next():
        meta.next_url = page_url(request.path, page.next_page_number(), params)
    if breadcrumb:
        meta.structured_data.append(breadcrumb_list(breadcrumb))
    return meta


def post_meta(post: Post, breadcrumb: list[Category], tags: list) -> PageMeta:
    """Metadata of a post page, with BlogPosting and BreadcrumbList JSON-LD."""
    url = absolute(post.get_absolute_url())
    description = Truncator(post.seo_description or post.summary).chars(
        DESCRIPTION_LENGTH
    )
    author = display_name(post.author)
    image = absolute(post.featured_image.url) if post.featured_image else ""
    posting = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": description,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": post.published_at,
        "dateModified": max(post.updated_at, post.published_at or post.updated_at),
        "author": {
            "@type": "Person",
            "name": author,
            "url": absolute(reverse("blog:author", args=[post.author.get_username()])),
        },
        "publisher": {"@type": "Organization", "name": SiteIdentity.current().title},
    }
    if post.category:
        posting["articleSection"] = post.category.name
    if tags:
        posting["keywords"] = [tag.name for tag in tags]
    if image:
        posting["image"] = image
    return PageMeta(
        title=post.title,
        description=description,
        canonical=url,
        kind="article",
        image=image,
        image_alt=post.featured_image_alt if image else "",
        structured_data=[posting, breadcrumb_list(breadcrumb, current=post)],
    )


def page_meta(page: Page, breadcrumb: list[Page]) -> PageMeta:
    """Metadata of a page, with WebPage and BreadcrumbList JSON-LD."""
    url = absolute(page.get_absolute_url())
    description = Truncator(page.seo_description or page.summary).chars(
        DESCRIPTION_LENGTH
    )
    image = absolute(page.featured_image.url) if page.featured_image else ""
    web_page = {
        "@context": "https://schema.org",
        "@type": "WebPage",
        "name": page.title,
        "description": description,
        "url": url,
        "dateModified": page.updated_at,
    }
    if image:
        web_page["image"] = image
    return PageMeta(
        title=page.title,
        description=description,
        canonical=url,
        image=image,
        image_alt=page.featured_image_alt if image else "",
        structured_data=[web_page, breadcrumb_list(breadcrumb, current=page)],
    )


def breadcrumb_list(
    parents: list[Category] | list[Page], current: Post | Page | None = None
) -> dict[str, object]:
    """The breadcrumb (Home, the categories or parent pages, the page itself)
    as BreadcrumbList."""
    trail = [(gettext("Home"), reverse("blog:home"))]
    trail += [(str(parent), parent.get_absolute_url()) for parent in parents]
    if current is not None:
        trail.append((current.title, current.get_absolute_url()))
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": name,
                "item": absolute(path),
            }
            for position, (name, path) in enumerate(trail, start=1)
        ],
    }
