"""The admin's subscribers (with their state, consent date and categories,
and the CSV import) and the mailings of posts (read-only: how far each has
got)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blog.subscriptions import csvimport, mailing
from blog.subscriptions.models import PostMailing, Subscriber

MAX_CSV_SIZE = 20 * 1024 * 1024  # bytes


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: email, consented_at (a date, or a date and time), and "
            "optionally categories (category slugs separated by spaces). The "
            "first line names them."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_SIZE:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.")
                % {"size": MAX_CSV_SIZE // (1024 * 1024)}
            )
        return upload


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "state", "confirmed_at", "category_names"]
    list_filter = ["state", "source", "categories"]
    search_fields = ["email"]
    fields = [
        "email",
        "state",
        "confirmed_at",
        "categories",
        "source",
        "created_at",
        "unsubscribed_at",
    ]
    readonly_fields = ["created_at", "unsubscribed_at"]
    actions = ["unsubscribe"]
    change_list_template = "admin/blog/subscriber/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("categories")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "categories":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("categories"))
    def category_names(self, subscriber: Subscriber) -> str:
        names = [category.name for category in subscriber.categories.all()]
        return ", ".join(names) or str(_("every post"))

    @admin.action(description=_("Unsubscribe the selected subscribers"))
    def unsubscribe(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.exclude(state=Subscriber.State.UNSUBSCRIBED).update(
            state=Subscriber.State.UNSUBSCRIBED, unsubscribed_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d subscriber unsubscribed.",
                "%(count)d subscribers unsubscribed.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def get_urls(self) -> list:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="blog_subscriber_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest):
        if not self.has_add_permission(request):
            raise PermissionDenied
        problems: list[str] = []
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = csvimport.import_csv(form.cleaned_data["file"].read())
            except csvimport.ImportRefused as refusal:
                problems = refusal.problems
            else:
                self.message_user(
                    request,
                    _(
                        "Imported: %(added)s. Already here, and left as they "
                        "were: %(here)s."
                    )
                    % {"added": result.added, "here": result.already_here},
                    messages.SUCCESS,
                )
                return redirect("admin:blog_subscriber_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import subscribers from a CSV file"),
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/blog/subscriber/import.html", context)


@admin.register(PostMailing)
class PostMailingAdmin(admin.ModelAdmin):
    """How far each post's mail has got. Read only: the worker writes it."""

    list_display = [
        "post",
        "state",
        "sent",
        "waiting",
        "refused",
        "cut_off",
        "started_at",
    ]
    list_filter = ["state"]
    list_select_related = ["post"]
    search_fields = ["post__title"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return mailing.with_progress(super().get_queryset(request))

    @admin.display(description=_("sent"), ordering="sent_count")
    def sent(self, row: PostMailing) -> int:
        return row.sent_count

    @admin.display(description=_("waiting"))
    def waiting(self, row: PostMailing) -> int:
        return row.waiting_count

    @admin.display(description=_("refused"))
    def refused(self, row: PostMailing) -> int:
        return row.refused_count

    @admin.display(description=_("cut off (may not have arrived)"))
    def cut_off(self, row: PostMailing) -> int:
        return row.cut_off_count

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the record that the post was mailed: it never goes twice
