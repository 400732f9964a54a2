from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models, transaction
from django.db.models import (
    Case,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from markdownx.models import MarkdownxField
from taggit.managers import TaggableManager
from taggit.models import Tag, TaggedItem

from blog import locale, markup, pagecache, pictures, redirects

logger = logging.getLogger(__name__)


def name_from_parts(
    first_name: str | None, last_name: str | None, fallback: str
) -> str:
    """A person's full name, else `fallback` (their username): what pages,
    feeds and mail call an author, commenter or liker."""
    return f"{first_name or ''} {last_name or ''}".strip() or fallback


def display_name(user) -> str:
    """`name_from_parts` for a user object."""
    return name_from_parts(user.first_name, user.last_name, user.get_username())


class CategoryQuerySet(models.QuerySet):
    def get_by_natural_key(self, slug: str) -> Category:
        return self.get(slug=slug)

    def by_id(self) -> dict[int, Category]:
        """Every category in one query, keyed by id.

        Blogs have tens or hundreds of categories, so walking the tree in
        Python beats a query per level and keeps page query counts fixed.
        """
        return {category.pk: category for category in self.order_by("name")}


def site_categories() -> dict[int, Category]:
    """Every category by id, read once per site version: the breadcrumbs,
    the default header menu, category pages and category feeds share it."""
    return pagecache.cached(
        "categories", pagecache.version(), build=Category.objects.by_id
    )


def category_by_slug(slug: str) -> tuple[Category | None, dict[int, Category]]:
    """The category at `slug` (None if there is none) and every category by
    id, from site_categories()."""
    categories = site_categories()
    found = next((c for c in categories.values() if c.slug == slug), None)
    return found, categories


class Category(models.Model):
    name = models.CharField(
        _("name"), max_length=200, help_text=_("Shown in menus and breadcrumbs.")
    )
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        allow_unicode=True,
        help_text=_(
            "The category's web address: letters (any alphabet), numbers, hyphens."
        ),
    )
    description = models.TextField(
        _("description"),
        blank=True,
        help_text=_("Optional; shown at the top of the category page."),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("Leave empty for a top-level category."),
        verbose_name=_("parent category"),
    )
    wordpress_id = models.PositiveBigIntegerField(
        _("WordPress id"),
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_(
            "The category's term ID in the WordPress blog it was imported from."
        ),
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("blog:category", kwargs={"slug": self.slug})

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    def clean(self) -> None:
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError(
                    {"parent": _("A category cannot be inside itself or its children.")}
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent

    def ancestors(self, by_id: dict[int, Category] | None = None) -> list[Category]:
        """Parents from the top level down to this category (itself included)."""
        by_id = by_id if by_id is not None else Category.objects.by_id()
        chain, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = by_id.get(node.parent_id) if node.parent_id else None
        return chain[::-1]

    def descendant_ids(self, by_id: dict[int, Category] | None = None) -> set[int]:
        """This category's id and those of every category below it."""
        by_id = by_id if by_id is not None else Category.objects.by_id()
        children: dict[int, list[int]] = {}
        for category in by_id.values():
            if category.parent_id:
                children.setdefault(category.parent_id, []).append(category.pk)
        found, todo = set(), [self.pk]
        while todo:
            pk = todo.pop()
            if pk not in found:
                found.add(pk)
                todo.extend(children.get(pk, []))
        return found


class PublishedQuerySet(models.QuerySet):
    """What posts and pages share: published by status and time, and seen
    before that only by their author and by staff who edit everyone's."""

    # The permission that lets staff open everyone's drafts and private items.
    edit_others_permission: str

    def published_condition(self) -> Q:
        return Q(status=self.model.Status.PUBLISHED, published_at__lte=timezone.now())

    def published(self) -> models.QuerySet:
        """Public items: private, draft and scheduled ones never are."""
        return self.filter(self.published_condition())

    def published_by_other_index(self) -> models.QuerySet:
        """published(), for a query that an index on another column should
        answer (the primary key, a category): the publication condition goes
        in as a CASE, which no index answers.

        SQLite, planning without statistics, takes the (status,
        published_at) index for one that finds a handful of rows, and read
        every published item to find a few ids or a category's first post.
        """
        public = Case(
            When(self.published_condition(), then=Value(True)), default=Value(False)
        )
        return self.alias(public=public).filter(public=True)

    def published_among(self, ids) -> models.QuerySet:
        """The public items among `ids` (a list or a subquery), looked up by
        their primary key."""
        return self.published_by_other_index().filter(pk__in=ids)

    def visible_to(self, user) -> models.QuerySet:
        """What `user` may open on the public site: drafts and private items
        only for staff who may edit them (their own, or anyone's for editors)."""
        if user.is_active and user.is_staff:
            if user.has_perm(self.edit_others_permission):
                return self.all()
            return self.filter(self.published_condition() | Q(author=user))
        return self.published()


class Neighbours(NamedTuple):
    """A post's neighbours in time, as its page links them."""

    previous: Post | None
    next: Post | None


# Candidates for a post's related posts, from each of its tags and from its
# category (PostQuerySet.related_to).
RELATED_CANDIDATES = 50


class PostQuerySet(PublishedQuerySet):
    edit_others_permission = "blog.edit_others_posts"

    def get_by_natural_key(self, slug: str) -> Post:
        return self.get(slug=slug)

    def related_to(
        self, post: Post, tags: Iterable[Tag] | None = None, limit: int = 4
    ) -> Iterable[Post]:
        """Published posts near `post`: most shared tags first, then its
        category, then the newest (with their title, slug and dates).

        Ranked among a bounded set of candidates, so that the cost does not
        grow with the blog: the RELATED_CANDIDATES last written posts with
        each of its tags and in its category, each read from the end of an
        index (taggit's tagged items by tag, migration 0023), looked up by
        their primary key (the publication condition as a CASE, as in
        published_by_other_index()). One query, none for a post without
        tags or category; `tags` are the post's tags when the caller has
        them (the post page shows them), else they are read.

        Written in SQL: built with the ORM (a union of three subqueries, a
        subquery and a CASE), the query cost more to build than to run, a
        tenth of a post page rendered after any change to the site.
        """
        tag_ids = [tag.pk for tag in (post.tags.all() if tags is None else tags)]
        if not tag_ids and not post.category_id:
            return self.none()
        quote = connection.ops.quote_name
        posts = quote(Post._meta.db_table)
        tagged = quote(TaggedItem._meta.db_table)
        content_type = ContentType.objects.get_for_model(Post).pk
        # Each source wrapped in a subquery: neither SQLite nor PostgreSQL
        # takes a LIMIT on a member of a UNION as it stands.
        by_tag = (
            f"SELECT v.id FROM {posts} v WHERE v.id IN (SELECT u.object_id FROM "
            f"{tagged} u WHERE u.content_type_id = %s AND u.tag_id = %s "
            "ORDER BY u.object_id DESC LIMIT %s)"
        )
        by_category = (
            f"SELECT v.id FROM {posts} v WHERE v.id IN (SELECT u.id FROM {posts} u "
            "WHERE u.category_id = %s ORDER BY u.id DESC LIMIT %s)"
        )
        sources, source_params = [], []
        for tag_id in tag_ids:
            sources.append(by_tag)
            source_params += [content_type, tag_id, RELATED_CANDIDATES]
        if post.category_id:
            sources.append(by_category)
            source_params += [post.category_id, RELATED_CANDIDATES]
        shared = ", ".join(["%s"] * len(tag_ids)) or "NULL"
        sql = (
            f"SELECT {posts}.id, title, slug, published_at, created_at, "
            f"(SELECT COUNT(*) FROM {tagged} s WHERE s.content_type_id = %s AND "
            f's.object_id = {posts}.id AND s.tag_id IN ({shared})) AS "shared_tags", '
            f"CASE WHEN {posts}.category_id = %s THEN 1 ELSE 0 END AS same_category "
            f"FROM {posts} WHERE CASE WHEN status = %s AND published_at <= %s "
            f"THEN 1 ELSE 0 END = 1 AND {posts}.id IN ({' UNION '.join(sources)}) "
            f'AND {posts}.id <> %s ORDER BY "shared_tags" DESC, same_category DESC, '
            f"published_at DESC, {posts}.id DESC LIMIT %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        params = [
            content_type,
            *tag_ids,
            post.category_id,
            Post.Status.PUBLISHED.value,
            now,
            *source_params,
            post.pk,
            limit,
        ]
        return self.model.objects.raw(sql, params)

    def neighbours(self, post: Post) -> Neighbours:
        """The published posts just before and just after `post` in time
        (with their title, slug and publish time), in one query: each side
        read from the end of the publication index.

        Written in SQL, as related_to() is: the ORM cannot put a LIMIT on
        the members of a UNION, and its two queries cost more to build than
        to run.
        """
        posts = connection.ops.quote_name(Post._meta.db_table)
        side = (
            "SELECT * FROM (SELECT id, title, slug, published_at, {newer} AS newer "
            f"FROM {posts} WHERE status = %s AND published_at <= %s AND "
            "published_at {beyond} %s ORDER BY published_at {order}, id {order} "
            "LIMIT 1) AS {name}"
        )
        sql = " UNION ALL ".join(
            [
                side.format(newer=0, beyond="<", order="DESC", name="earlier"),
                side.format(newer=1, beyond=">", order="ASC", name="later"),
            ]
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        when = connection.ops.adapt_datetimefield_value(post.published_at)
        params = [Post.Status.PUBLISHED.value, now, when] * 2
        found = {row.newer: row for row in self.model.objects.raw(sql, params)}
        return Neighbours(found.get(0), found.get(1))

    def in_category(
        self, category: Category, by_id: dict[int, Category] | None = None
    ) -> PostQuerySet:
        """Posts listed under `category` or below it: filed there as their
        primary category or as one of their other categories.

        The other categories go in as a subquery, so a post in several of
        them is listed once and the listing stays one query.
        """
        ids = category.descendant_ids(by_id)
        also_in = Post.categories.through.objects.filter(category_id__in=ids)
        return self.filter(Q(category__in=ids) | Q(pk__in=also_in.values("post_id")))

    def published_in_category(
        self,
        category: Category,
        by_id: dict[int, Category] | None = None,
        most: int | None = None,
    ) -> PostQuerySet:
        """published().in_category(), found through the categories' own
        indexes (for a category of a few posts on a big blog): the ids of
        published posts filed there and of those also listed there, at most
        `most` of each, one union, then each post by its id. An OR of the
        two answered no index on PostgreSQL, which read every post."""
        ids = category.descendant_ids(by_id)
        published = Post.objects.published_by_other_index().order_by()
        filed = published.filter(category__in=ids).values("pk")[:most]
        also_in = (
            Post.categories.through.objects.filter(
                Exists(published.filter(pk=OuterRef("post_id"))),
                category_id__in=ids,
            )
            .order_by()
            .values("post_id")[:most]
        )
        return self.published_among(
            Post.objects.order_by()
            .filter(pk__in=filed)
            .values("pk")
            .union(Post.objects.order_by().filter(pk__in=also_in).values("pk"))
        )

    def sticky_first(self) -> PostQuerySet:
        """Sticky posts first (newest first), then the rest, newest first.

        Read from the end of the (status, sticky, published_at, id) index,
        so a page costs its own rows whatever the number of posts. The
        condition on `sticky`, always true, is what lets SQLite do so: with
        it, the index answers the status, each value of sticky in turn and
        the publish time; without it SQLite sorted every published post.
        """
        return self.filter(sticky__in=[True, False]).order_by(
            "-sticky", "-published_at", "-pk"
        )

    def for_listing(self) -> PostQuerySet:
        """What a list of summaries shows, fetched in a fixed number of
        queries, without the columns no list shows (the search vector, what
        an import kept). Each post's tags are a list, `listed_tags`: kept
        as `post.tags.all()`, Django builds a queryset of taggit's for each
        post to hold them (0.13 ms a post, half the cost of the page's
        queries)."""
        return (
            self.select_related("author", "category")
            .prefetch_related(Prefetch("tags", to_attr="listed_tags"))
            .defer(*self.model.UNLISTED_FIELDS)
            .order_by("-published_at", "-pk")
        )


PROTECTED_SUMMARY = _("There is no excerpt because this is a protected post.")


class Publishable(models.Model):
    """What posts and pages share: a status and a publish time that
    schedules, a Markdown body, a featured picture with its description, a
    discussion that may be open, revisions. The fields whose help texts
    speak of a post or a page are each model's own."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        PRIVATE = "private", _("Private")

    # Statuses that get a publish time (and so an address) at once, as
    # WordPress gives them.
    DATED_STATUSES = (Status.PUBLISHED, Status.PRIVATE)

    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The featured picture's width, height and smaller copies
    # (blog/pictures.py), written when it is stored: pages size it without
    # opening the file.
    featured_image_sizes = models.JSONField(default=dict, blank=True, editable=False)
    featured_image_alt = models.CharField(
        _("featured image description"),
        max_length=300,
        blank=True,
        help_text=_(
            "Describe the picture for people who cannot see it. Required "
            "with a featured image."
        ),
    )
    revisions = GenericRelation("Revision")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at > timezone.now()
        )

    @property
    def is_private(self) -> bool:
        return self.status == self.Status.PRIVATE

    @cached_property
    def body_html(self) -> str:
        # Our own pictures in it sized, in several widths (blog/pictures.py).
        return pictures.sized(markup.markdownify(self.body))

    def comments_open(self) -> bool:
        return self.allow_comments and self.is_public

    def clean_publication(self) -> None:
        """The checks of clean() that posts and pages share."""
        if self.status in self.DATED_STATUSES and self.published_at is None:
            # "Empty means now", as in save(): forms check the constraints
            # before they save, so they need the time filled in here too.
            self.published_at = timezone.now()
        if self.featured_image and not self.featured_image_alt.strip():
            message = _("Describe the featured image for people who cannot see it.")
            raise ValidationError({"featured_image_alt": message})


class Post(Publishable):
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        allow_unicode=True,
        help_text=_("The post's web address; filled in from the title."),
        error_messages={
            "unique": _("Another post already uses this slug. Pick another.")
        },
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name=_("author"),
        db_index=False,  # the (author, status, published_at) index below
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="posts",
        verbose_name=_("primary category"),
        help_text=_(
            "Where the post is filed: its breadcrumb, its “in …” line and "
            "its related posts follow this category."
        ),
    )
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="also_listed_posts",
        verbose_name=_("other categories"),
        help_text=_(
            "The post is also listed on these categories' pages (and their "
            "parents'); its address and breadcrumb stay with the primary category."
        ),
    )
    tags = TaggableManager(
        blank=True,
        help_text=_("A comma-separated list of tags."),
        verbose_name=_("tags"),
    )
    body = MarkdownxField(
        _("body"), help_text=_("Markdown. The preview shows what readers will see.")
    )
    excerpt = models.TextField(
        _("excerpt"),
        blank=True,
        help_text=_(
            "A short summary for lists and feeds. Empty: the start of the post."
        ),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Publishable.Status.choices,
        default=Publishable.Status.DRAFT,
        help_text=_(
            "Drafts are visible only to staff. Private posts are published "
            "for staff who may edit them and for no one else."
        ),
    )
    published_at = models.DateTimeField(
        _("publish time"),
        null=True,
        blank=True,
        db_index=True,
        help_text=(
            _(
                "When the post goes public. A time in the future schedules it; "
                "empty means now, once the status is Published."
            )
        ),
    )
    sticky = models.BooleanField(
        _("sticky"),
        default=False,
        help_text=_("Pinned at the top of the home page's first page."),
    )
    # Kept as typed, as WordPress keeps post_password: readers type it, an
    # imported post keeps working with its old password.
    password = models.CharField(
        _("password"),
        max_length=255,
        blank=True,
        help_text=_(
            "Readers must type this password to read the post and its "
            "comments; the title stays visible. Empty: anyone can read it."
        ),
    )
    allow_comments = models.BooleanField(
        _("allow comments"),
        default=True,
        help_text=_("Untick to close the discussion on this post."),
    )
    seo_description = models.CharField(
        _("SEO description"),
        max_length=300,
        blank=True,
        help_text=_("What search engines show under the title. Empty: the excerpt."),
    )
    featured_image = models.ImageField(
        _("featured image"),
        upload_to="featured/%Y/%m/",
        blank=True,
        help_text=_("Optional picture shown at the top of the post and when shared."),
    )
    # Kept current by a database trigger on PostgreSQL (migration 0003), so
    # fixtures and imports that bypass save() are searchable too; unused on
    # SQLite. blog/search.py reads it.
    search_vector = SearchVectorField(null=True, editable=False)
    wordpress_id = models.PositiveBigIntegerField(
        _("WordPress id"),
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_("The post's ID in the WordPress blog it was imported from."),
    )
    # What WordPress had that Inkwell does not show (the post format, custom
    # fields, other taxonomies), kept as the import found it
    # (blog/wordpress/posts.py) so that nothing is lost.
    wordpress_data = models.JSONField(
        _("WordPress data"), default=dict, blank=True, editable=False
    )

    objects = PostQuerySet.as_manager()

    # What no list of posts (listings, feeds, search results) shows.
    UNLISTED_FIELDS = ("search_vector", "wordpress_data")

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        permissions = [
            ("edit_others_posts", _("Can edit and publish other authors' posts")),
        ]
        indexes = [
            models.Index(fields=["status", "published_at"]),
            # The home page's order (sticky_first), walked from its end: its
            # first page reads ten rows, not every published post sorted.
            models.Index(
                fields=["status", "sticky", "published_at", "id"],
                name="blog_post_sticky_first_idx",
            ),
            # An author's posts in publication order, whoever else writes:
            # by the publication index alone, SQLite read every post of the
            # blog to list an author of a few.
            models.Index(
                fields=["author", "status", "published_at"],
                name="blog_post_by_author_idx",
            ),
            # The sitemap's latest change of a post, read from its end.
            models.Index(
                fields=["status", "updated_at", "published_at"],
                name="blog_post_latest_update_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="published_post_has_publish_time",
            ),
            models.CheckConstraint(
                condition=Q(featured_image="") | ~Q(featured_image_alt=""),
                name="featured_image_has_alt_text",
            ),
        ]

    def save(self, *args, revised_by=None, **kwargs) -> None:
        """Save, and keep the title, body and excerpt as a revision.

        `revised_by` is who made the change (the editor's user), if known.
        """
        if self.status in self.DATED_STATUSES and self.published_at is None:
            self.published_at = timezone.now()
        with transaction.atomic():
            before = None
            if not self._state.adding and self.pk is not None:
                before = (
                    Post.objects.filter(pk=self.pk, status=self.Status.PUBLISHED)
                    .only("slug", "published_at", "created_at")
                    .first()
                )
            super().save(*args, **kwargs)
            keep_featured_sizes(self)
            describe_pictures(self)
            if before is not None and before.slug != self.slug:
                # Readers and search engines know the published address.
                redirect_moved(before.get_absolute_url(), self.get_absolute_url())
            update_fields = kwargs.get("update_fields")
            if update_fields is None or set(update_fields) & set(Revision.FIELDS):
                Revision.objects.keep(self, user=revised_by)
            # New posts by email: planned when first published, started at
            # the publish time (blog/subscriptions/mailing.py; it imports
            # this module).
            from blog.subscriptions import mailing

            mailing.post_saved(self, before)

    def get_absolute_url(self) -> str:
        when = timezone.localtime(
            self.published_at or self.created_at or timezone.now()
        )
        return reverse(
            "blog:post",
            kwargs={"year": when.year, "month": f"{when.month:02d}", "slug": self.slug},
        )

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    def clean(self) -> None:
        self.clean_publication()
        if self.status == self.Status.PRIVATE and self.password:
            raise ValidationError(
                {
                    "password": _(
                        "A private post is only for staff; it needs no "
                        "password. Empty the password, or choose another status."
                    )
                }
            )

    @property
    def is_protected(self) -> bool:
        """Readers need the post's password to read its body and comments."""
        return bool(self.password)

    @cached_property
    def summary(self) -> str:
        """The excerpt, or the opening of the body as plain text; for a
        password-protected post, only a note saying so (as WordPress)."""
        if self.is_protected:
            return PROTECTED_SUMMARY
        if self.excerpt:
            return self.excerpt
        return markup.plain_summary(self.body)

    def breadcrumb(self) -> list[Category]:
        """The categories from the top level down to the post's (the
        category tree of site_categories(), with or without a category, so
        the page's count is fixed)."""
        return self.category.ancestors(site_categories()) if self.category else []

    def tag_list(self) -> list[Tag]:
        """The post's tags as `tags.all()` lists them (in the order they were
        given), in one query written in SQL: taggit's (a join on the content
        types and a DISTINCT the unique tagged items make needless) cost ten
        times as much to build as to run."""
        quote = connection.ops.quote_name
        sql = (
            f"SELECT t.id, t.name, t.slug FROM {quote(Tag._meta.db_table)} t "
            f"INNER JOIN {quote(TaggedItem._meta.db_table)} i ON i.tag_id = t.id "
            "WHERE i.content_type_id = %s AND i.object_id = %s ORDER BY i.id"
        )
        content_type = ContentType.objects.get_for_model(Post).pk
        return list(Tag.objects.raw(sql, [content_type, self.pk]))

    def neighbours(self) -> Neighbours:
        """The published posts just before and just after this one, for a
        public post (PostQuerySet.neighbours)."""
        if not self.is_public:
            return Neighbours(None, None)
        return Post.objects.neighbours(self)


class RevisionQuerySet(models.QuerySet):
    def of(self, obj: models.Model) -> RevisionQuerySet:
        content_type = ContentType.objects.get_for_model(obj)
        return self.filter(content_type=content_type, object_id=obj.pk)

    def keep(self, obj: models.Model, *, user=None) -> Revision | None:
        """Keep `obj`'s title, body and excerpt as its newest revision.

        Nothing is kept when they equal the newest revision's (a save that
        changed only the status, say): that revision already holds the text.
        Only the newest INKWELL_REVISIONS_KEPT revisions stay.
        """
        text = {name: getattr(obj, name, "") or "" for name in Revision.FIELDS}
        revisions = self.of(obj)
        newest = revisions.order_by("-created_at", "-pk").first()
        if newest is not None and all(
            getattr(newest, name) == value for name, value in text.items()
        ):
            return None
        revision = self.create(
            content_type=ContentType.objects.get_for_model(obj),
            object_id=obj.pk,
            user=user if user is not None and user.is_authenticated else None,
            **text,
        )
        kept = settings.INKWELL_REVISIONS_KEPT
        old = revisions.order_by("-created_at", "-pk").values_list("pk", flat=True)
        stale = list(old[kept:])
        if stale:
            self.filter(pk__in=stale).delete()
        return revision


class Revision(models.Model):
    """A post's (or any object's) title, body and excerpt as saved once."""

    FIELDS = ("title", "body", "excerpt")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    excerpt = models.TextField(_("excerpt"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("saved by"),
    )
    created_at = models.DateTimeField(_("saved at"), default=timezone.now)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"])]

    def __str__(self) -> str:
        when = timezone.localtime(self.created_at).strftime("%Y-%m-%d %H:%M")
        return f"{self.title} ({when})"

    @staticmethod
    def fields_of(obj: models.Model) -> tuple[str, ...]:
        """The kept fields that `obj` has (pages have no excerpt)."""
        names = {field.name for field in obj._meta.get_fields()}
        return tuple(name for name in Revision.FIELDS if name in names)

    def restore(self, obj: models.Model, *, user) -> None:
        """Give `obj` (this revision's post or page) this revision's text and
        save it: the restore is itself a new revision, by `user`.

        The text it replaces is kept first, in case it never was (fixtures
        and imports write posts without save()).
        """
        with transaction.atomic():
            Revision.objects.keep(obj)
            for name in self.fields_of(obj):
                setattr(obj, name, getattr(self, name))
            obj.save(revised_by=user)


class PageQuerySet(PublishedQuerySet):
    edit_others_permission = "blog.edit_others_pages"


class Page(Publishable):
    """A page outside the stream of posts ("About", "Contact"), in a tree.

    Its address is the slugs of its parents and its own, `/about/contact/`,
    kept in `path` so that a page is found (and linked to) without walking
    the tree. The route comes after every other one, and `clean()` refuses
    an address that another route already answers.
    """

    slug = models.SlugField(
        _("slug"),
        max_length=200,
        allow_unicode=True,
        help_text=_(
            "The last part of the page's web address; filled in from the "
            "title. Pages under the same parent need different slugs."
        ),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_(
            "Put this page under another one: its address then starts "
            "with the parent's (/about/contact/). Empty: a top-level page."
        ),
        verbose_name=_("parent page"),
    )
    menu_order = models.IntegerField(
        _("order"),
        default=0,
        help_text=_("Orders pages that share a parent: lower numbers come first."),
    )
    path = models.CharField(
        _("address"),
        max_length=1000,
        unique=True,
        editable=False,
        help_text=_("The slugs from the top-level page down, joined by '/'."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="pages",
        verbose_name=_("author"),
    )
    body = MarkdownxField(
        _("body"),
        blank=True,
        help_text=_("Markdown. The preview shows what readers will see."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Publishable.Status.choices,
        default=Publishable.Status.DRAFT,
        help_text=_(
            "Drafts and private pages are visible only to their author and to editors."
        ),
    )
    published_at = models.DateTimeField(
        _("publish time"),
        null=True,
        blank=True,
        db_index=True,
        help_text=(
            _(
                "When the page goes public. A time in the future schedules it; "
                "empty means now, once the status is Published."
            )
        ),
    )
    allow_comments = models.BooleanField(
        _("allow comments"),
        default=False,
        help_text=_("Tick to let readers comment on this page."),
    )
    seo_description = models.CharField(
        _("SEO description"),
        max_length=300,
        blank=True,
        help_text=_(
            "What search engines show under the title. Empty: the start of the page."
        ),
    )
    featured_image = models.ImageField(
        _("featured image"),
        upload_to="featured/%Y/%m/",
        blank=True,
        help_text=_("Optional picture shown at the top of the page and when shared."),
    )
    wordpress_id = models.PositiveBigIntegerField(
        _("WordPress id"),
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_("The page's ID in the WordPress blog it was imported from."),
    )

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["menu_order", "title", "pk"]
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        permissions = [
            ("edit_others_pages", _("Can edit and publish other authors' pages")),
        ]
        indexes = [models.Index(fields=["status", "published_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="published_page_has_publish_time",
            ),
            models.CheckConstraint(
                condition=Q(featured_image="") | ~Q(featured_image_alt=""),
                name="page_featured_image_has_alt_text",
            ),
        ]

    def save(self, *args, revised_by=None, **kwargs) -> None:
        """Save (moving the pages below if the address changed), and keep the
        title and body as a revision, as posts do."""
        if self.status in self.DATED_STATUSES and self.published_at is None:
            self.published_at = timezone.now()
        with transaction.atomic():
            old_path = None
            if not self._state.adding and self.pk is not None:
                old_path = (
                    Page.objects.filter(pk=self.pk)
                    .values_list("path", flat=True)
                    .first()
                )
            self.path = self.path_from_parent()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "path"}
            super().save(*args, **kwargs)
            keep_featured_sizes(self)
            describe_pictures(self)
            if old_path and old_path != self.path:
                self.move_descendants(old_path)
            update_fields = kwargs.get("update_fields")
            if update_fields is None or set(update_fields) & set(Revision.FIELDS):
                Revision.objects.keep(self, user=revised_by)

    def get_absolute_url(self) -> str:
        # Percent-encoded, as reverse() writes posts' and categories'.
        return iri_to_uri(f"/{self.path}/")

    def path_from_parent(self) -> str:
        if self.parent_id is None:
            return self.slug
        parent_path = (
            self.parent.path
            if self.parent is not None and self.parent.pk == self.parent_id
            else Page.objects.values_list("path", flat=True).get(pk=self.parent_id)
        )
        return f"{parent_path}/{self.slug}"

    def move_descendants(self, old_path: str) -> None:
        """Give the pages below this one their new addresses, and send
        readers who knew the old ones there (301)."""
        moved = [(f"/{old_path}/", self.get_absolute_url())]
        for page in Page.objects.filter(path__startswith=f"{old_path}/"):
            old_url = page.get_absolute_url()
            page.path = self.path + page.path[len(old_path) :]
            Page.objects.filter(pk=page.pk).update(path=page.path)
            moved.append((old_url, page.get_absolute_url()))
        for old_url, new_url in moved:
            redirect_moved(old_url, new_url)

    def clean(self) -> None:
        self.clean_publication()
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError(
                    {"parent": _("A page cannot be inside itself or its children.")}
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        if not self.slug:
            return  # the field's own validation says so
        path = self.path_from_parent()
        clash = address_taken(f"/{path}/")
        if clash:
            raise ValidationError(
                {
                    "slug": _("The address %(address)s %(clash)s.")
                    % {"address": f"/{path}/", "clash": clash}
                }
            )
        if Page.objects.filter(path=path).exclude(pk=self.pk).exists():
            raise ValidationError(
                {
                    "slug": _("Another page already has the address %(address)s.")
                    % {"address": f"/{path}/"}
                }
            )

    # Pages have no password; the comments app asks posts and pages alike.
    is_protected = False

    @cached_property
    def summary(self) -> str:
        return markup.plain_summary(self.body)

    def ancestor_paths(self) -> list[str]:
        parts = self.path.split("/")
        return ["/".join(parts[:depth]) for depth in range(1, len(parts))]

    def breadcrumb(self, user) -> list[Page]:
        """The pages above this one that `user` may open, top level first
        (one query, whatever the depth)."""
        paths = self.ancestor_paths()
        if not paths:
            return []
        found = {
            page.path: page
            for page in Page.objects.visible_to(user)
            .filter(path__in=paths)
            .only("title", "path")
        }
        return [found[path] for path in paths if path in found]


def redirect_moved(old_url: str, new_url: str) -> None:
    """Send readers who knew `old_url` to `new_url` (301), as far as the
    redirects table can hold it."""
    try:
        redirects.add_redirect(old_url, new_url)
    except ValueError:  # a path too long for the redirects table
        logger.warning("No redirect from %s to %s", old_url, new_url)


def address_taken(url: str) -> str:
    """Why `url` cannot be a page's address ("" if it can): another route
    answers it, or static files live there."""
    from django.urls import Resolver404, resolve

    if url.startswith(
        settings.STATIC_URL
        if settings.STATIC_URL.startswith("/")
        else f"/{settings.STATIC_URL}"
    ):
        return _("is where the site's static files are served")
    try:
        match = resolve(url)
    except Resolver404:
        return ""
    if match.url_name == "page":
        return ""
    return _("is already used by another part of the site; pick another slug")


class Menu(models.Model):
    """A named list of links, shown where its location says (header, footer)."""

    class Location(models.TextChoices):
        HEADER = "header", _("Header")
        FOOTER = "footer", _("Footer")

    name = models.CharField(
        _("name"), max_length=100, help_text=_("For you; readers never see it.")
    )
    location = models.CharField(
        _("location"),
        max_length=10,
        choices=Location.choices,
        blank=True,
        help_text=_("Where the menu is shown. One menu per place; empty: not shown."),
    )
    wordpress_id = models.PositiveBigIntegerField(
        _("WordPress id"),
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_("The menu's term ID in the WordPress blog it was imported from."),
    )

    class Meta:
        ordering = ["location", "name"]
        verbose_name = _("menu")
        verbose_name_plural = _("menus")
        constraints = [
            models.UniqueConstraint(
                fields=["location"],
                condition=~Q(location=""),
                name="one_menu_per_location",
                violation_error_message=_("Another menu is already shown there."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class MenuItem(models.Model):
    """One link of a menu: to a page, a post, a category, a tag or any URL.

    Items may have children (one level, as a sub-list); WordPress' deeper
    levels are not kept.
    """

    TARGETS = ("page", "post", "category", "tag", "url")

    menu = models.ForeignKey(
        Menu, on_delete=models.CASCADE, related_name="items", verbose_name=_("menu")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        help_text=_("Show this link under another link of the same menu."),
        verbose_name=_("parent link"),
    )
    label = models.CharField(
        _("label"),
        max_length=200,
        blank=True,
        help_text=_(
            "The link's text. Empty: the page's, post's, category's or tag's own name."
        ),
    )
    order = models.PositiveIntegerField(
        _("order"), default=0, help_text=_("Lower numbers come first.")
    )
    page = models.ForeignKey(
        Page,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("page"),
    )
    post = models.ForeignKey(
        Post,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("post"),
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("category"),
    )
    tag = models.ForeignKey(
        "taggit.Tag",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("tag"),
    )
    url = models.CharField(
        _("custom URL"),
        max_length=500,
        blank=True,
        help_text=_("Any address: https://…, mailto:… or a path on this site."),
    )
    # Unique per menu, not site-wide: exports reuse a menu item's ID in
    # another menu (the Theme Unit Test data does, for 18 of them).
    wordpress_id = models.PositiveBigIntegerField(
        _("WordPress id"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The item's ID in the WordPress blog it was imported from."),
    )

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("menu link")
        verbose_name_plural = _("menu links")
        constraints = [
            models.UniqueConstraint(
                fields=["menu", "wordpress_id"], name="one_menu_item_per_wordpress_id"
            ),
            models.CheckConstraint(
                condition=(
                    Q(page__isnull=False, post=None, category=None, tag=None, url="")
                    | Q(page=None, post__isnull=False, category=None, tag=None, url="")
                    | Q(page=None, post=None, category__isnull=False, tag=None, url="")
                    | Q(page=None, post=None, category=None, tag__isnull=False, url="")
                    | (Q(page=None, post=None, category=None, tag=None) & ~Q(url=""))
                ),
                name="menu_item_has_one_target",
                violation_error_message=_(
                    "Pick exactly one thing to link to: a page, a post, a "
                    "category, a tag or a custom URL."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.text

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and not self.order and self.menu_id is not None:
            # A new link with no place of its own goes after the others.
            last = MenuItem.objects.filter(menu_id=self.menu_id).aggregate(
                last=models.Max("order")
            )["last"]
            self.order = (last or 0) + 10
        super().save(*args, **kwargs)

    @property
    def target(self):
        return self.page or self.post or self.category or self.tag

    @property
    def text(self) -> str:
        if self.label:
            return self.label
        target = self.target
        return str(target) if target is not None else self.url

    @property
    def href(self) -> str:
        if self.tag is not None:
            return reverse("blog:tag", kwargs={"slug": self.tag.slug})
        target = self.target
        return target.get_absolute_url() if target is not None else self.url

    @property
    def is_public(self) -> bool:
        """Whether readers may follow the link: drafts, private and scheduled
        pages and posts are left out of menus."""
        target = self.page or self.post
        return target is None or target.is_public

    def clean(self) -> None:
        if self.parent_id is not None:
            if self.parent.parent_id is not None:
                raise ValidationError(
                    {
                        "parent": _(
                            "Menus have one level of sub-links: pick a top-level "
                            "link as the parent."
                        )
                    }
                )
            if self.parent.menu_id != self.menu_id:
                raise ValidationError(
                    {"parent": _("The parent link must be in the same menu.")}
                )
            if self.pk is not None and self.parent_id == self.pk:
                raise ValidationError({"parent": _("A link cannot be under itself.")})
        if self.url:
            lowered = self.url.strip().lower()
            if not lowered.startswith(("http://", "https://", "mailto:", "/", "#")):
                raise ValidationError(
                    {
                        "url": _(
                            "Start the address with https://, http://, mailto:, "
                            "/ (a path on this site) or #."
                        )
                    }
                )


class SiteIdentity(models.Model):
    """The site's name, tagline, logo and defaults, set in the admin.

    One row (pk 1). Until an administrator saves it, the values come from the
    environment (settings.INKWELL_*), so a fresh site starts as configured.
    """

    title = models.CharField(
        _("site title"),
        max_length=100,
        help_text=_("The blog's name, in every page's header."),
    )
    tagline = models.CharField(
        _("tagline"),
        max_length=200,
        blank=True,
        help_text=_("A short line shown beside the title."),
    )
    logo = models.ImageField(
        _("logo"),
        upload_to="identity/",
        blank=True,
        help_text=_("Optional picture shown before the title in the header."),
    )
    footer_text = models.TextField(
        _("footer text"),
        blank=True,
        help_text=_("Shown at the bottom of every page (plain text)."),
    )
    description = models.CharField(
        _("default description"),
        max_length=300,
        help_text=_(
            "What search engines show for pages without a description of "
            "their own (the home page, lists)."
        ),
    )
    posts_per_page = models.PositiveSmallIntegerField(
        _("posts per page"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "How many posts a page of a list shows (home, categories, tags, search)."
        ),
    )
    language = models.CharField(
        _("language"),
        max_length=15,
        blank=True,
        choices=locale.language_choices,
        help_text=_(
            "The language of every page, form and mail of the site. Empty: "
            "the server's default (the LANGUAGE_CODE setting)."
        ),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        choices=locale.time_zone_choices,
        help_text=_(
            "Dates and times on the site and in mail are shown in this "
            "time zone. Empty: the server's default (the TIME_ZONE setting)."
        ),
    )
    gravatar = models.BooleanField(
        _("Gravatar pictures"),
        default=False,
        help_text=_(
            "Off: every face beside a comment, a byline or a like is drawn by "
            "this site and readers' browsers ask no other site for anything. "
            "On: the faces of people who have a picture at Gravatar show it "
            "(the others keep the drawn one), so every reader's browser asks "
            "secure.gravatar.com for the faces on the page it reads, sending "
            "it a hash of each person's email address (from which Gravatar "
            "knows whose picture it is) and the reader's IP address. Say so "
            "in the site's privacy notice before turning it on."
        ),
    )

    class Meta:
        verbose_name = _("site identity")
        verbose_name_plural = _("site identity")

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def defaults(cls) -> SiteIdentity:
        return cls(
            pk=1,
            title=settings.INKWELL_SITE_NAME,
            description=settings.INKWELL_SITE_DESCRIPTION,
            posts_per_page=settings.INKWELL_POSTS_PER_PAGE,
        )

    @classmethod
    def current(cls) -> SiteIdentity:
        """The identity in force, read once per site version (a save bumps it)."""
        return pagecache.per_site_version(
            "site-identity", lambda: cls.objects.filter(pk=1).first() or cls.defaults()
        )


class WordPressTag(models.Model):
    """The WordPress term ID of an imported tag (taggit's `Tag` has no field
    for it), so that a re-import finds each tag again whatever its name or
    slug became, and two WordPress tags are never merged into one."""

    tag = models.OneToOneField(
        "taggit.Tag",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="wordpress",
    )
    wordpress_id = models.PositiveBigIntegerField(
        _("WordPress id"),
        unique=True,
        help_text=_("The tag's term ID in the WordPress blog it was imported from."),
    )

    class Meta:
        verbose_name = _("WordPress tag")

    def __str__(self) -> str:
        return f"{self.tag} (WordPress #{self.wordpress_id})"


class TaskWorker(models.Model):
    """A running `manage.py db_worker`, as it last checked in (blog/worker.py).

    /healthz reads the newest check-in to tell whether mail is being sent.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    checked_in_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}, pid {self.pid})"


class ImportJob(models.Model):
    """A WordPress import started from the admin (blog/importing.py).

    The uploaded files wait in the default storage, where any worker can read
    them, until the import is over. Progress is written as the import goes,
    so that any app server can show it; the report stays when it is done.
    """

    class State(models.TextChoices):
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked: waiting for confirmation")
        QUEUED = "queued", _("Waiting for the task worker")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATES = (State.CHECKING, State.QUEUED, State.RUNNING)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=255)
    media_file_name = models.CharField(_("media file name"), max_length=255, blank=True)
    export_file = models.FileField(
        _("WordPress export"), upload_to="wordpress-imports/", max_length=300
    )
    media_file = models.FileField(
        _("uploads archive"), upload_to="wordpress-imports/", max_length=300, blank=True
    )
    default_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("default author"),
    )
    skip_pings = models.BooleanField(_("leave out pingbacks and trackbacks"))
    authors = models.JSONField(
        _("authors in the export"),
        default=list,
        help_text=_("Each author's WordPress login and display name."),
    )
    author_map = models.JSONField(
        _("authors given to existing users"),
        default=dict,
        help_text=_("WordPress login: the user here who gets their posts."),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.CHECKING
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    dry_run_report = models.JSONField(_("dry run report"), null=True, blank=True)
    report = models.JSONField(_("report"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("WordPress import")
        verbose_name_plural = _("WordPress imports")
        permissions = [
            ("import_wordpress", _("Can import a WordPress export")),
            ("export_wordpress", _("Can download a WordPress export")),
        ]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    def forget_files(self) -> None:
        """Remove the uploaded files from storage (the import is over)."""
        for field in (self.export_file, self.media_file):
            if field:
                field.delete(save=False)


class FrontCachedPage(models.Model):
    """An address a front cache (nginx, a CDN) may hold, and the content
    versions its page was built under: purged when one of them is bumped
    (blog/frontcache.py)."""

    address = models.CharField(max_length=2000, unique=True)
    scopes = models.TextField()  # " post:1 site " (frontcache.scopes_text)
    noted_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.address


class MediaFileQuerySet(models.QuerySet):
    def register(
        self, name: str, *, size: int, uploaded_by=None, forget: bool = True
    ) -> MediaFile:
        """Note a picture just stored under `name` (an editor upload, a
        featured picture, an imported WordPress file): its dimensions and
        smaller copies (blog/pictures.py), made now, once. `forget`: pages
        built before may show it (an import, the command), so they go."""
        record = pictures.make_sizes(name) or {}
        width, height = record.get("width"), record.get("height")
        variants = record.get("variants", [])
        previous = self.filter(name=name).values_list("variants", flat=True).first()
        if previous:
            pictures.delete_sizes(
                [v for v in previous if v not in variants and v[1] != name]
            )
        values = {"size": size, "width": width, "height": height, "variants": variants}
        media, _created = self.update_or_create(
            name=name,
            defaults=values,
            create_defaults={**values, "uploaded_by": uploaded_by},
        )
        media.show_sizes(forget=forget)
        return media

    def describe(self, descriptions: dict[str, str]) -> int:
        """Give the pictures named in `descriptions` (storage name -> text)
        that have no description yet that text: the alt text a post or
        WordPress shows them with. One written in the library is never
        replaced. How many were described."""
        texts = {
            name: " ".join(text.split())[:300]
            for name, text in descriptions.items()
            if text and text.strip()
        }
        described = 0
        for pk, name in self.filter(name__in=texts, description="").values_list(
            "pk", "name"
        ):
            described += self.filter(pk=pk, description="").update(
                description=texts[name]
            )
        return described

    def register_stored(self, folders=("uploads", "wordpress")) -> int:
        """Add the pictures already in storage under `folders` that the
        library does not know (kept before it existed); how many."""
        known = set(self.values_list("name", flat=True))
        for variants in self.values_list("variants", flat=True):
            known.update(name for _width, name in variants)  # its smaller copies
        added = 0
        pending = [folder for folder in folders if default_storage.exists(folder)]
        while pending:
            folder = pending.pop()
            subfolders, files = default_storage.listdir(folder)
            pending.extend(f"{folder}/{name}" for name in subfolders)
            for name in files:
                stored = f"{folder}/{name}"
                extension = name.rpartition(".")[2].lower()
                if stored in known or extension not in PICTURE_EXTENSIONS:
                    continue
                media = self.register(stored, size=default_storage.size(stored))
                known.update(name for _width, name in media.variants)
                added += 1
        return added


# The files the media library lists.
PICTURE_EXTENSIONS = {"jpg", "jpeg", "png", "gif", "webp"}


class MediaFile(models.Model):
    """A picture in the media library: uploaded in the editor or imported
    from WordPress, with the description it is inserted with."""

    name = models.CharField(_("file"), max_length=500, unique=True, editable=False)
    description = models.CharField(
        _("description"),
        max_length=300,
        blank=True,
        help_text=_(
            "What the picture shows, for readers who cannot see it: inserted "
            "as its alternative text. Posts that already use it keep theirs."
        ),
    )
    width = models.PositiveIntegerField(_("width"), null=True, editable=False)
    height = models.PositiveIntegerField(_("height"), null=True, editable=False)
    size = models.PositiveBigIntegerField(_("size"), editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)
    # [[width, name], ...], narrowest first: the copies made for srcset.
    variants = models.JSONField(default=list, blank=True, editable=False)

    objects = MediaFileQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("picture")
        # The admin counts them ("2 pictures"); its list is titled "Media
        # library" (blog.admin.MediaFileAdmin).
        verbose_name_plural = _("pictures")

    def __str__(self) -> str:
        return self.name.rpartition("/")[2]

    @property
    def url(self) -> str:
        return default_storage.url(self.name)

    @property
    def markdown(self) -> str:
        return f"![{self.description}]({self.url})"

    def record(self) -> dict:
        """What pages need to size it (blog/pictures.py)."""
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "variants": self.variants,
        }

    def show_sizes(self, *, forget: bool = True) -> None:
        """Give the posts and pages that feature it its sizes, and let pages
        built before pick the copies up."""
        record = self.record() if self.width and self.height else {}
        changed = 0
        for model in (Post, Page):
            changed += (
                model.objects.filter(featured_image=self.name)
                .exclude(featured_image_sizes=record)
                .update(featured_image_sizes=record)
            )
        pictures.sized.cache_clear()
        if changed or forget:
            pagecache.forget_all_pages()


def keep_featured_sizes(written: Post | Page) -> None:
    """After saving a post or page: a featured picture it has not sized yet
    (a new upload) joins the media library, its copies made."""
    name = written.featured_image.name if written.featured_image else ""
    if not name:
        if written.featured_image_sizes:
            written.featured_image_sizes = {}
            type(written).objects.filter(pk=written.pk).update(featured_image_sizes={})
        return
    if written.featured_image_sizes.get("name") == name:
        return
    known = MediaFile.objects.filter(name=name).first()
    if known is None or (
        known.width and not known.variants and known.width > pictures.WIDTHS[0]
    ):
        try:
            size = default_storage.size(name)
        except OSError:
            logger.warning("Featured picture %s is not in the storage", name)
            return
        known = MediaFile.objects.register(name, size=size)
    else:
        known.show_sizes()
    written.featured_image_sizes = known.record() if known.width else {}


# A picture in a post's text: Markdown's ![alt](url), or an <img> (imported
# WordPress text is HTML).
MARKDOWN_PICTURE = re.compile(r"!\[((?:\\.|[^\]\\])*)\]\(\s*<?([^)\s>]+)")
IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
IMG_ATTRIBUTE = re.compile(
    r"""\b(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE
)


def picture_descriptions(text: str) -> dict[str, str]:
    """The alt text each picture of our media storage is shown with in
    `text` (Markdown or HTML), by storage name; the first one counts."""
    found: dict[str, str] = {}

    def note(url: str, alt: str) -> None:
        prefix = settings.MEDIA_URL
        if alt.strip() and url.startswith(prefix):
            name = unquote(url[len(prefix) :].partition("?")[0].partition("#")[0])
            found.setdefault(name, alt)

    for alt, url in MARKDOWN_PICTURE.findall(text):
        note(url, re.sub(r"\\(.)", r"\1", alt))
    for tag in IMG_TAG.findall(text):
        attributes = {
            key.lower(): html.unescape(double or single)
            for key, double, single in IMG_ATTRIBUTE.findall(tag)
        }
        note(attributes.get("src", ""), attributes.get("alt", ""))
    return found


def describe_pictures(written: Post | Page) -> None:
    """After saving a post or page: the pictures of the media library it
    shows with alt text (its featured picture's included) that have no
    description take that text as theirs."""
    found = picture_descriptions(written.body)
    if written.featured_image and written.featured_image_alt:
        found[written.featured_image.name] = written.featured_image_alt
    if found:
        MediaFile.objects.describe(found)


def media_uses(files: list[MediaFile]) -> dict[int, list]:
    """For each of `files`, the posts and pages that show it (in their text
    or as their featured picture): two queries, whatever the number."""
    found: dict[int, list] = {media.pk: [] for media in files}
    if not files:
        return found
    for model in (Post, Page):
        condition = Q(featured_image__in=[media.name for media in files])
        for media in files:
            condition |= Q(body__contains=media.url)
        for written in model.objects.filter(condition).only(
            "title", "body", "featured_image", "status", "author_id"
        ):
            for media in files:
                if media.url in written.body or written.featured_image == media.name:
                    found[media.pk].append(written)
    return found


# Subscriptions to new posts by email live in a package of their own; their
# models are the blog app's, so they are imported here for Django to find.
from blog.subscriptions.models import (  # noqa: E402, F401
    Delivery,
    PostMailing,
    Subscriber,
)
