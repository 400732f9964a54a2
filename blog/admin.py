import io
import math
import tempfile
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst, slugify
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _
from markdownx.admin import MarkdownxModelAdmin
from taggit.models import Tag

from blog import importing, pictures
from blog.converters import IdConverter
from blog.diff import diff_field
from blog.editor import alt_placeholders, clean_picture
from blog.importing import ImportForm
from blog.models import (
    Category,
    ImportJob,
    MediaFile,
    Menu,
    MenuItem,
    Page,
    Post,
    Revision,
    SiteIdentity,
    media_uses,
)
from blog.tags import TagInput, tags_from_string
from blog.wordpress import write_export
from blog.worker import worker_silence

# Django's admin shows these (its app list's column headings, for screen
# readers) and its Simplified Chinese catalogue lacks them; ours has them, so
# they are marked here for makemessages to find (the other languages' words
# are Django's own).
DJANGO_ADMIN_GAPS = [
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
]
# To the second: two saves a minute apart must not read the same (as in
# templates/admin/blog/revisions.html).
REVISION_TIME = "j M Y, H:i:s"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]


class AuthorOwnedAdmin(admin.ModelAdmin):
    """Authors see and change their own posts or pages; those granted
    `others_permission` (Editors) every one, and may set the author."""

    others_permission = "blog.edit_others_posts"

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj) -> str:
        if obj.is_scheduled:
            return gettext("Scheduled")
        return obj.get_status_display()

    def can_edit_others(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.others_permission)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        written = super().get_queryset(request)
        if self.can_edit_others(request):
            return written
        return written.filter(author=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [] if self.can_edit_others(request) else ["author"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.author_id != request.user.pk:
            return super().has_change_permission(request, obj) and self.can_edit_others(
                request
            )
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.author_id != request.user.pk:
            return super().has_delete_permission(request, obj) and self.can_edit_others(
                request
            )
        return super().has_delete_permission(request, obj)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.author_id != request.user.pk:
            return super().has_view_permission(request, obj) and self.can_edit_others(
                request
            )
        return super().has_view_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {
            "author": request.user.pk,
            **super().get_changeform_initial_data(request),
        }

    def save_related(self, request: HttpRequest, form, formsets, change: bool):
        super().save_related(request, form, formsets, change)
        picture = form.instance.featured_image
        if "featured_image" in form.changed_data and picture:
            # Saving put the featured picture in the media library, its
            # sizes made (blog.models.keep_featured_sizes): say who added it.
            MediaFile.objects.filter(name=picture.name, uploaded_by=None).update(
                uploaded_by=request.user
            )

    def save_form(self, request: HttpRequest, form, change: bool):
        written = super().save_form(request, form, change)
        if not change and not self.can_edit_others(request):
            written.author = request.user
        return written

    # Revisions: the list, one revision against the current text, and the
    # restore (templates/admin/blog/revisions.html, revision_diff.html).

    def get_urls(self) -> list:
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/revisions/",
                view(self.revisions_view),
                name=f"{name}_revisions",
            ),
            path(
                "<path:object_id>/revisions/<int:revision_id>/",
                view(self.revision_view),
                name=f"{name}_revision",
            ),
            path(
                "<path:object_id>/revisions/<int:revision_id>/restore/",
                view(self.restore_view),
                name=f"{name}_restore",
            ),
            path("preview/", view(self.preview_view), name=f"{name}_preview"),
            path(
                "<path:object_id>/preview/",
                view(self.preview_view),
                name=f"{name}_preview",
            ),
            *super().get_urls(),
        ]

    # Preview: the form as it stands, saved or not, through the site's look
    # (templates/blog/preview.html); nothing is written.

    def preview_view(self, request: HttpRequest, object_id: str | None = None):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if object_id is None:
            written = self.model(author=request.user)
            if not self.has_add_permission(request):
                raise PermissionDenied
        else:
            written = self.get_object(request, unquote(object_id))
            if written is None:
                raise Http404(_("This post no longer exists."))
            if not self.has_change_permission(request, written):
                raise PermissionDenied
        form = self.get_form(request, written if object_id else None)(
            request.POST, instance=written
        )
        form.is_valid()  # fills the instance with what validates
        written = form.instance
        # What the author typed, even what the form would refuse (a picture
        # still waiting for its description).
        written.title = request.POST.get("title", written.title)
        written.body = request.POST.get("body", written.body)
        if written.author_id is None:
            written.author = request.user
        names = tags_from_string(request.POST.get("tags", ""))
        response = TemplateResponse(
            request,
            "blog/preview.html",
            {
                "post": written,
                "kind": self.opts.model_name,
                "tags": [Tag(name=name, slug=slugify(name)) for name in names],
                "problems": [
                    f"{form.fields[field].label if field in form.fields else ''}: "
                    f"{' '.join(errors)}".lstrip(": ")
                    for field, errors in form.errors.items()
                ],
            },
        )
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response

    def revision_url(self, action: str, *args) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_{action}"
        return reverse(name, args=args, current_app=self.admin_site.name)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            "revisions_url": self.revision_url("revisions", object_id),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def revised_object(self, request: HttpRequest, object_id: str):
        """The post or page whose revisions are asked for, if the user may
        see it (an Author only their own: the queryset holds no other)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(
                gettext("No %(name)s with this ID.") % {"name": self.opts.verbose_name}
            )
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def revision_context(self, request: HttpRequest, obj, **context) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "object": obj,
            "object_id": quote(obj.pk),
            "has_change_permission": self.has_change_permission(request, obj),
            "revisions_url": self.revision_url("revisions", quote(obj.pk)),
            **context,
        }

    def revisions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.revised_object(request, object_id)
        labels = {
            name: obj._meta.get_field(name).verbose_name
            for name in Revision.fields_of(obj)
        }
        revisions = [
            {
                "revision": revision,
                "url": self.revision_url("revision", quote(obj.pk), revision.pk),
                "restore_url": self.revision_url("restore", quote(obj.pk), revision.pk),
                "differs": [
                    label
                    for name, label in labels.items()
                    if getattr(revision, name) != getattr(obj, name)
                ],
            }
            for revision in Revision.objects.of(obj).select_related("user")
        ]
        context = self.revision_context(
            request,
            obj,
            title=gettext("Revisions of “%(title)s”") % {"title": obj},
            revisions=revisions,
            kept=settings.INKWELL_REVISIONS_KEPT,
        )
        return TemplateResponse(request, "admin/blog/revisions.html", context)

    def revision_view(
        self, request: HttpRequest, object_id: str, revision_id: int
    ) -> HttpResponse:
        obj = self.revised_object(request, object_id)
        revision = get_object_or_404(
            Revision.objects.of(obj).select_related("user"), pk=revision_id
        )
        diffs = [
            diff_field(
                obj._meta.get_field(name).verbose_name.capitalize(),
                getattr(revision, name),
                getattr(obj, name),
            )
            for name in Revision.fields_of(obj)
        ]
        saved = formats.date_format(
            timezone.localtime(revision.created_at), REVISION_TIME
        )
        context = self.revision_context(
            request,
            obj,
            title=gettext("Revision of %(saved)s against the current text")
            % {"saved": saved},
            revision=revision,
            diffs=diffs,
            is_current=not any(diff.changed for diff in diffs),
            restore_url=self.revision_url("restore", quote(obj.pk), revision.pk),
        )
        return TemplateResponse(request, "admin/blog/revision_diff.html", context)

    def restore_view(
        self, request: HttpRequest, object_id: str, revision_id: int
    ) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.revised_object(request, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        revision = get_object_or_404(Revision.objects.of(obj), pk=revision_id)
        saved = formats.date_format(
            timezone.localtime(revision.created_at), REVISION_TIME
        )
        revision.restore(obj, user=request.user)
        self.log_change(
            request,
            obj,
            gettext("Restored the revision of %(saved)s.") % {"saved": saved},
        )
        self.message_user(
            request,
            gettext(
                "Restored the text of %(saved)s. The text it replaced is kept in "
                "the revisions."
            )
            % {"saved": saved},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=[quote(obj.pk)],
                current_app=self.admin_site.name,
            )
        )


def reencoded_upload(image):
    """A newly uploaded picture as a form field stores it: re-encoded by
    `clean_picture`, under our own name and extension (ValidationError if it
    is refused); anything else (unchanged, cleared, none) as it was."""
    if not isinstance(image, UploadedFile):
        return image
    encoded, extension = clean_picture(image)
    stem = slugify(PurePath(image.name).stem)[:80] or "picture"
    return ContentFile(encoded, name=f"{stem}.{extension}")


def labelled_empty_option(create_option):
    def create(name, value, label, *args, **kwargs):
        option = create_option(name, value, label, *args, **kwargs)
        if value == "" and not label:
            option["attrs"]["label"] = _("None")
        return option

    return create


class PostForm(forms.ModelForm):
    """The writing form of posts and pages (same editor, same checks)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The admin's split date/time widget labels neither of its boxes
        # (its field label points at nothing), so screen readers hear two
        # unnamed text boxes; axe calls that critical.
        field = self.fields.get("published_at")
        if field is not None and isinstance(field.widget, forms.MultiWidget):
            date, time = field.widget.widgets
            date.attrs["aria-label"] = gettext("Publish date")
            time.attrs["aria-label"] = gettext("Publish time")
        for field in self.fields.values():
            widget = getattr(field.widget, "widget", field.widget)
            if isinstance(widget, AutocompleteSelect):
                # Its empty choice is <option value=""></option>, which the
                # HTML standard refuses: give it a label (select2 still
                # shows the box empty).
                widget.create_option = labelled_empty_option(widget.create_option)
        body = self.fields.get("body")
        if body is not None:
            # The editor's "Insert from the media library" (editor-layout.js).
            body.widget.attrs["data-media-picker"] = reverse(
                "admin:blog_mediafile_picker"
            )
        tags = self.fields.get("tags")
        if tags is not None:
            # Existing tags suggested as the author types (blog/tags.py).
            tags.widget = TagInput(attrs=tags.widget.attrs)
            tags.help_text = _(
                "Separate tags with commas: morning routine, stretching. "
                "Existing tags are suggested as you type."
            )

    def clean_featured_image(self):
        """A new featured picture is re-encoded as the editor's uploads are:
        only the picture's pixels are stored, under the extension of the
        format found in its bytes (never trailing data, metadata, or a name
        that lets a browser take it for something else)."""
        return reencoded_upload(self.cleaned_data.get("featured_image"))

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        for placeholder in alt_placeholders():
            if f"![{placeholder}](" in body:
                # The editor inserts it with each uploaded picture.
                raise forms.ValidationError(
                    gettext(
                        "Replace “%(placeholder)s” with a short description of the "
                        "picture, for readers who cannot see it (or leave the "
                        "brackets empty, ![](…), if it is only decoration)."
                    )
                    % {"placeholder": placeholder}
                )
        return body


@admin.register(Post)
class PostAdmin(AuthorOwnedAdmin, MarkdownxModelAdmin):
    form = PostForm
    list_display = [
        "title",
        "status_label",
        "sticky",
        "category",
        "author",
        "published_at",
    ]
    # Related-only: an author's filter lists who wrote their posts, not every
    # account on the site.
    list_filter = [
        "status",
        "sticky",
        "category",
        ("author", admin.RelatedOnlyFieldListFilter),
        "allow_comments",
    ]
    list_select_related = ["category", "author"]
    search_fields = ["title", "body", "excerpt"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["category"]
    actions = ["publish", "unpublish", "stick", "unstick"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "body", "category", "categories", "tags"]}),
        (
            _("Publishing"),
            {"fields": ["status", "published_at", "author", "sticky", "password"]},
        ),
        (
            _("Summary and sharing"),
            {
                "fields": [
                    "excerpt",
                    "seo_description",
                    "featured_image",
                    "featured_image_alt",
                ]
            },
        ),
        (_("Discussion"), {"fields": ["allow_comments"]}),
    ]

    class Media:
        # Why a picture upload was refused; names for the autocomplete boxes.
        js = ["js/editor-upload.js", "js/editor-layout.js", "js/admin-a11y.js"]

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, post: Post) -> str:
        if post.is_scheduled:
            return gettext("Scheduled")
        if post.is_protected:
            return gettext("%(status)s, password protected") % {
                "status": post.get_status_display()
            }
        return post.get_status_display()

    def save_model(self, request: HttpRequest, obj: Post, form, change: bool) -> None:
        obj.save(revised_by=request.user)

    @admin.action(description=_("Publish selected posts"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        now = timezone.now()
        count = 0
        for post in queryset.exclude(status=Post.Status.PUBLISHED):
            post.status = Post.Status.PUBLISHED
            post.published_at = post.published_at or now
            post.save(update_fields=["status", "published_at", "updated_at"])
            count += 1
        self.message_user(
            request,
            ngettext("Published %(count)d post.", "Published %(count)d posts.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Unpublish selected posts (back to draft)"),
        permissions=["change"],
    )
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        count = 0
        for post in queryset.filter(status=Post.Status.PUBLISHED):
            post.status = Post.Status.DRAFT
            post.save(update_fields=["status", "updated_at"])
            count += 1
        self.message_user(
            request,
            ngettext(
                "Moved %(count)d post back to draft.",
                "Moved %(count)d posts back to draft.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Make selected posts sticky"), permissions=["change"])
    def stick(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._set_sticky(request, queryset, sticky=True)

    @admin.action(
        description=_("Make selected posts not sticky"), permissions=["change"]
    )
    def unstick(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._set_sticky(request, queryset, sticky=False)

    def _set_sticky(
        self, request: HttpRequest, queryset: QuerySet[Post], *, sticky: bool
    ) -> None:
        count = 0
        # One save per post (not update()): the signals forget cached pages.
        for post in queryset.exclude(sticky=sticky):
            post.sticky = sticky
            post.save(update_fields=["sticky", "updated_at"])
            count += 1
        if sticky:
            done = ngettext(
                "Made %(count)d post sticky.", "Made %(count)d posts sticky.", count
            )
        else:
            done = ngettext(
                "Unpinned %(count)d post from the home page.",
                "Unpinned %(count)d posts from the home page.",
                count,
            )
        self.message_user(request, done % {"count": count}, messages.SUCCESS)


@admin.register(Page)
class PageAdmin(AuthorOwnedAdmin, MarkdownxModelAdmin):
    others_permission = "blog.edit_others_pages"
    form = PostForm
    list_display = ["title", "address", "status_label", "author", "menu_order"]
    list_filter = ["status", ("author", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["author"]
    search_fields = ["title", "body", "path"]
    ordering = ["path"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["parent"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "parent", "menu_order", "body"]}),
        (_("Publishing"), {"fields": ["status", "published_at", "author"]}),
        (
            _("Summary and sharing"),
            {"fields": ["seo_description", "featured_image", "featured_image_alt"]},
        ),
        (_("Discussion"), {"fields": ["allow_comments"]}),
    ]

    class Media:
        js = ["js/editor-upload.js", "js/editor-layout.js", "js/admin-a11y.js"]

    @admin.display(description=_("address"), ordering="path")
    def address(self, page: Page) -> str:
        return page.get_absolute_url()


class NamedEmptyChoiceAutocomplete(AutocompleteSelect):
    """Django's autocomplete box with its empty choice named. An <option>
    without text is invalid HTML (the Nu checker says so); select2 shows its
    placeholder for that choice anyway, so readers never see the name."""

    def optgroups(self, name, value, attr=None):
        groups = super().optgroups(name, value, attr)
        for _group, options, _index in groups:
            for option in options:
                if option["value"] == "" and not option["label"]:
                    option["label"] = gettext("(none)")
        return groups


class ValidAutocompleteMixin:
    """Autocomplete fields with `NamedEmptyChoiceAutocomplete` boxes."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(
            request
        ):
            kwargs["widget"] = NamedEmptyChoiceAutocomplete(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MenuItemInline(ValidAutocompleteMixin, admin.StackedInline):
    """The menu's links, reordered with "Move up"/"Move down" buttons
    (static/js/menu-order.js); without JavaScript, by their order numbers.

    Stacked, not tabular: a tabular inline's boxes have no labels of their
    own (only column headings), which screen readers cannot tie to them.
    """

    model = MenuItem
    fk_name = "menu"
    fields = [
        ("label", "order"),
        "page",
        "post",
        "category",
        "tag",
        "url",
        "parent",
    ]
    autocomplete_fields = ["page", "post", "category", "tag"]
    extra = 1
    verbose_name = _("link")
    verbose_name_plural = _("links")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MenuItem]:
        return (
            super()
            .get_queryset(request)
            .select_related("page", "post", "category", "tag", "parent")
        )

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Only this menu's top-level links can hold others (one level).
        parents = MenuItem.objects.filter(menu=obj, parent=None) if obj else None
        field = formset.form.base_fields["parent"]
        field.queryset = (
            parents.select_related("page", "post", "category", "tag")
            if parents is not None
            else MenuItem.objects.none()
        )
        field.help_text = gettext("Show this link under a top-level link of this menu.")
        return formset


@admin.register(Menu)
class MenuAdmin(admin.ModelAdmin):
    list_display = ["name", "location"]
    inlines = [MenuItemInline]

    class Media:
        js = ["js/menu-order.js", "js/admin-a11y.js"]


class SiteIdentityForm(forms.ModelForm):
    def clean_logo(self):
        return reencoded_upload(self.cleaned_data.get("logo"))


@admin.register(SiteIdentity)
class SiteIdentityAdmin(admin.ModelAdmin):
    """One row: the list goes straight to it, made from the environment's
    values the first time."""

    form = SiteIdentityForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self.has_change_permission(request):
            return super().changelist_view(request, extra_context)
        identity = SiteIdentity.objects.filter(pk=1).first()
        if identity is None:
            identity = SiteIdentity.defaults()
            identity.save()
        return redirect("admin:blog_siteidentity_change", identity.pk)


@admin.site.admin_view
def view_on_site(
    request: HttpRequest, content_type_id: int, object_id: str
) -> HttpResponse:
    """The admin's "View on site" link (/admin/r/<type>/<id>/), for objects
    this user may see in the admin only.

    Django's own shortcut redirects any staff member to any object's
    address, another author's draft included; blog/urls.py routes this view
    in front of it.
    """
    try:
        pk = IdConverter().to_python(object_id)
    except ValueError:
        raise Http404("No such object.") from None
    content_type = ContentType.objects.filter(pk=content_type_id).first()
    try:
        model_admin = admin.site.get_model_admin(content_type.model_class())
    except (AttributeError, NotRegistered):  # no such type, or not in the admin
        raise Http404("No such object.") from None
    obj = model_admin.get_object(request, str(pk))
    if obj is None or not model_admin.has_view_or_change_permission(request, obj):
        raise Http404("No such object.")
    return shortcut(request, content_type_id, pk)


@admin.register(MediaFile)
class MediaFileAdmin(admin.ModelAdmin):
    """The media library: every picture uploaded in the editor or imported
    from WordPress, with where it is used; its description is what it is
    inserted with; one that no post or page shows can be deleted."""

    list_display = ["thumbnail", "file", "dimensions", "description", "used_in"]
    list_display_links = ["file"]
    search_fields = ["name", "description"]
    list_per_page = 40
    fields = ["preview", "description", "markdown_text", "dimensions", "used_in"]
    readonly_fields = ["preview", "markdown_text", "dimensions", "used_in"]
    actions = ["delete_selected"]
    PICKED = 24

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # pictures come in through the editor and the import

    def get_urls(self) -> list:
        return [
            path(
                "picker/",
                self.admin_site.admin_view(self.picker_view),
                name="blog_mediafile_picker",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "title": capfirst(_("media library"))}
        return super().changelist_view(request, extra_context)

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        files = list(changelist.result_list)
        for media, uses in zip(files, media_uses(files).values(), strict=True):
            media.uses = uses
        return changelist

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        media = super().get_object(request, object_id, from_field)
        if media is not None:
            media.uses = media_uses([media])[media.pk]
        return media

    # Columns and fields

    @admin.display(description=_("picture"))
    def thumbnail(self, media: MediaFile) -> str:
        return format_html(
            '<img src="{}" alt="{}" class="media-thumb" loading="lazy">',
            media.url,
            media.description,
        )

    @admin.display(description=_("preview"))
    def preview(self, media: MediaFile) -> str:
        return format_html(
            '<img src="{}" alt="{}" class="media-preview">',
            media.url,
            media.description,
        )

    @admin.display(description=_("file"), ordering="name")
    def file(self, media: MediaFile) -> str:
        return str(media)

    @admin.display(description=_("size"), ordering="size")
    def dimensions(self, media: MediaFile) -> str:
        size = filesizeformat(media.size)
        if media.width and media.height:
            return f"{media.width} \N{MULTIPLICATION SIGN} {media.height} px, {size}"
        return size

    @admin.display(description=_("Markdown"))
    def markdown_text(self, media: MediaFile) -> str:
        return format_html(
            "<code>{}</code><p class='help'>{}</p>",
            media.markdown,
            _(
                "Paste this into a post, or use “Insert from the media library” "
                "in the editor."
            ),
        )

    @admin.display(description=_("used in"))
    def used_in(self, media: MediaFile) -> str:
        uses = getattr(media, "uses", [])
        if not uses:
            return _("Not used")
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (
                    reverse(
                        f"admin:blog_{type(written)._meta.model_name}_change",
                        args=[written.pk],
                    ),
                    written.title,
                )
                for written in uses
            ),
        )

    # Deleting: never a picture a post or page shows

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        media = self.get_object(request, unquote(object_id))
        if media is not None and media.uses:
            self.message_user(
                request,
                _(
                    "“%(name)s” is used in %(uses)s, so it was not deleted. "
                    "Take it out of them first."
                )
                % {"name": media, "uses": ", ".join(str(w) for w in media.uses)},
                messages.ERROR,
            )
            return redirect(reverse("admin:blog_mediafile_change", args=[media.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        files = list(queryset)
        uses = media_uses(files)
        kept = [media for media in files if uses[media.pk]]
        for media in files:
            if not uses[media.pk]:
                self.delete_model(request, media)
        if kept:
            self.message_user(
                request,
                _("Not deleted, because posts or pages use them: %(names)s.")
                % {"names": ", ".join(str(media) for media in kept)},
                messages.ERROR,
            )

    def delete_model(self, request: HttpRequest, media: MediaFile) -> None:
        default_storage.delete(media.name)
        pictures.delete_sizes(media.variants)  # its smaller copies too
        super().delete_model(request, media)

    # The editor's "Insert from the media library"

    def picker_view(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        found = MediaFile.objects.all()
        query = request.GET.get("q", "").strip()[:100]
        if query:
            found = found.filter(
                Q(name__icontains=query) | Q(description__icontains=query)
            )
        response = JsonResponse(
            {
                "pictures": [
                    {
                        "url": media.url,
                        "name": str(media),
                        "description": media.description,
                        "markdown": media.markdown,
                    }
                    for media in found[: self.PICKED]
                ]
            }
        )
        add_never_cache_headers(response)
        return response


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Moving a WordPress blog in and out: the list of imports, the upload
    form, each import's dry run, progress and report (blog/importing.py), and
    the export download. Superusers, or those given the import and export
    permissions."""

    list_display = ["file_name", "state", "uploaded_by", "created_at", "summary"]
    list_filter = ["state"]
    list_select_related = ["uploaded_by"]
    change_list_template = "admin/blog/importjob/change_list.html"

    @admin.display(description=_("what it brought"))
    def summary(self, job: ImportJob) -> str:
        report = job.report or job.dry_run_report
        if not report:
            return Truncator(job.error).chars(120) or "—"
        kinds = [
            f"{importing.KINDS.get(kind, kind)}: {sum(row[:2])}"
            for kind, row in report["counts"]
            if sum(row[:2])
        ]
        brought = ", ".join(kinds) or gettext("nothing new")
        if job.report:
            return brought
        return gettext("dry run: %(counts)s") % {"counts": brought}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("blog.import_wordpress")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_add_permission(request) or super().has_view_permission(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # an import is a record of what happened

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_active:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: ImportJob) -> None:
        obj.forget_files()
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for job in queryset:
            job.forget_files()
        super().delete_queryset(request, queryset)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="blog_importjob_export"),
            path(
                "<path:object_id>/status/",
                view(self.status_view),
                name="blog_importjob_status",
            ),
            path(
                "<path:object_id>/confirm/",
                view(self.confirm_view),
                name="blog_importjob_confirm",
            ),
            path(
                "<path:object_id>/cancel/",
                view(self.cancel_view),
                name="blog_importjob_cancel",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": request.user.has_perm("blog.export_wordpress"),
            "title": _("WordPress imports and exports"),
        }
        return super().changelist_view(request, extra_context)

    def context(self, request: HttpRequest, title: str, **values) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            **values,
        }

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                job = form.save(request.user)
                return redirect("admin:blog_importjob_change", job.pk)
        else:
            form = ImportForm()
        fields = ["export", "media", "default_author", "skip_pings"]
        context = self.context(
            request,
            _("Import from WordPress"),
            form=form,
            adminform=helpers.AdminForm(form, [(None, {"fields": fields})], {}),
        )
        return TemplateResponse(request, "admin/blog/importjob/upload.html", context)

    def job_or_404(self, request: HttpRequest, object_id: str) -> ImportJob:
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            raise Http404(_("No such import."))
        return job

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.job_or_404(request, object_id)
        silence = worker_silence() if job.is_active else None
        context = self.context(
            request,
            _("Import of %(file)s") % {"file": job.file_name},
            job=job,
            status=importing.status(job),
            report=importing.for_display(job.report or job.dry_run_report),
            authors=self.authors_adminform(job),
            may_import=self.has_add_permission(request),
            worker_silence=silence,
            worker_never=silence == math.inf,
        )
        return TemplateResponse(request, "admin/blog/importjob/job.html", context)

    def authors_adminform(self, job: ImportJob) -> helpers.AdminForm | None:
        """The authors' part of the confirmation, drawn as the admin draws
        forms (None when there is nothing to confirm)."""
        if job.state != ImportJob.State.CHECKED or not job.authors:
            return None
        form = importing.AuthorsForm(job)
        description = _(
            "Each WordPress author becomes a user of their own (without a "
            "password until you give one), or gives their posts to a user here."
        )
        fieldset = (
            _("Authors"),
            {"fields": list(form.fields), "description": description},
        )
        return helpers.AdminForm(form, [fieldset], {})

    def status_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        job = self.job_or_404(request, object_id)
        response = JsonResponse(importing.status(job))
        add_never_cache_headers(response)
        return response

    def confirm_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def confirm(job: ImportJob) -> bool:
            form = importing.AuthorsForm(job, request.POST)
            return form.is_valid() and importing.confirm(job, form.author_map())

        return self.act(request, object_id, confirm)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self.act(request, object_id, importing.cancel)

    def act(self, request: HttpRequest, object_id: str, action) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        job = self.job_or_404(request, object_id)
        if not action(job):
            messages.error(
                request,
                _(
                    "This import is not waiting for confirmation, or another "
                    "import is on its way: nothing was done."
                ),
            )
        return redirect("admin:blog_importjob_change", job.pk)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The same file as `manage.py export_wordpress`: written to a
        temporary file first (memory stays small, and a failure is an error
        page rather than a cut-off download)."""
        if not request.user.has_perm("blog.export_wordpress"):
            raise PermissionDenied
        # FileResponse closes it once sent; an error closes it here.
        out = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115
        try:
            text = io.TextIOWrapper(out, encoding="utf-8", newline="")
            write_export(text)
            text.flush()
            text.detach()
            out.seek(0)
        except BaseException:
            out.close()
            raise
        name = slugify(SiteIdentity.current().title) or "inkwell"
        filename = f"{name}.wordpress.{timezone.localdate():%Y-%m-%d}.xml"
        return FileResponse(
            out, as_attachment=True, filename=filename, content_type="application/xml"
        )


# The subscribers to new posts and the mailings (their own module).
from blog.subscriptions import admin as subscriptions_admin  # noqa: E402, F401
