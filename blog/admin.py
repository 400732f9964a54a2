from pathlib import PurePath

from django import forms
from django.contrib import admin, messages
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify
from markdownx.admin import MarkdownxModelAdmin

from blog.editor import ALT_PLACEHOLDER, clean_picture
from blog.models import Category, Post


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]


def can_edit_others(request: HttpRequest) -> bool:
    return request.user.has_perm("blog.edit_others_posts")


class PostForm(forms.ModelForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The admin's split date/time widget labels neither of its boxes
        # (its field label points at nothing), so screen readers hear two
        # unnamed text boxes; axe calls that critical.
        field = self.fields.get("published_at")
        if field is not None and isinstance(field.widget, forms.MultiWidget):
            date, time = field.widget.widgets
            date.attrs["aria-label"] = "Publish date"
            time.attrs["aria-label"] = "Publish time"

    def clean_featured_image(self):
        """A new featured picture is re-encoded as the editor's uploads are:
        only the picture's pixels are stored, under the extension of the
        format found in its bytes (never trailing data, metadata, or a name
        that lets a browser take it for something else)."""
        image = self.cleaned_data.get("featured_image")
        if not isinstance(image, UploadedFile):
            return image  # unchanged, cleared or none
        encoded, extension = clean_picture(image)
        stem = slugify(PurePath(image.name).stem)[:80] or "picture"
        return ContentFile(encoded, name=f"{stem}.{extension}")

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if f"![{ALT_PLACEHOLDER}](" in body:
            # The editor inserts it with each uploaded picture.
            raise forms.ValidationError(
                f"Replace “{ALT_PLACEHOLDER}” with a short description of the "
                "picture, for readers who cannot see it (or leave the brackets "
                "empty, ![](…), if it is only decoration)."
            )
        return body


@admin.register(Post)
class PostAdmin(MarkdownxModelAdmin):
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
    autocomplete_fields = ["category", "categories"]
    actions = ["publish", "unpublish", "stick", "unstick"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "body", "category", "categories", "tags"]}),
        (
            "Publishing",
            {"fields": ["status", "published_at", "author", "sticky", "password"]},
        ),
        (
            "Summary and sharing",
            {
                "fields": [
                    "excerpt",
                    "seo_description",
                    "featured_image",
                    "featured_image_alt",
                ]
            },
        ),
        ("Discussion", {"fields": ["allow_comments"]}),
    ]

    class Media:
        # Why a picture upload was refused; names for the autocomplete boxes.
        js = ["js/editor-upload.js", "js/admin-a11y.js"]

    @admin.display(description="status", ordering="status")
    def status_label(self, post: Post) -> str:
        if post.is_scheduled:
            return "Scheduled"
        if post.is_protected:
            return f"{post.get_status_display()}, password protected"
        return post.get_status_display()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        posts = super().get_queryset(request)
        if can_edit_others(request):
            return posts
        return posts.filter(author=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [] if can_edit_others(request) else ["author"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.author_id != request.user.pk:
            return super().has_change_permission(request, obj) and can_edit_others(
                request
            )
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.author_id != request.user.pk:
            return super().has_delete_permission(request, obj) and can_edit_others(
                request
            )
        return super().has_delete_permission(request, obj)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.author_id != request.user.pk:
            return super().has_view_permission(request, obj) and can_edit_others(
                request
            )
        return super().has_view_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {
            "author": request.user.pk,
            **super().get_changeform_initial_data(request),
        }

    def save_model(self, request: HttpRequest, obj: Post, form, change: bool) -> None:
        if not change and not can_edit_others(request):
            obj.author = request.user
        obj.save(revised_by=request.user)

    @admin.action(description="Publish selected posts", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        now = timezone.now()
        count = 0
        for post in queryset.exclude(status=Post.Status.PUBLISHED):
            post.status = Post.Status.PUBLISHED
            post.published_at = post.published_at or now
            post.save(update_fields=["status", "published_at", "updated_at"])
            count += 1
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(
        description="Unpublish selected posts (back to draft)", permissions=["change"]
    )
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        count = 0
        for post in queryset.filter(status=Post.Status.PUBLISHED):
            post.status = Post.Status.DRAFT
            post.save(update_fields=["status", "updated_at"])
            count += 1
        self.message_user(
            request, f"Moved {count} post(s) back to draft.", messages.SUCCESS
        )

    @admin.action(description="Make selected posts sticky", permissions=["change"])
    def stick(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._set_sticky(request, queryset, sticky=True)

    @admin.action(description="Make selected posts not sticky", permissions=["change"])
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
        done = "Made" if sticky else "Unpinned"
        state = "sticky" if sticky else "from the home page"
        self.message_user(request, f"{done} {count} post(s) {state}.", messages.SUCCESS)
