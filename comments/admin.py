"""The comments side of the admin: discussion settings, the moderation queue,
bans and the moderation log."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from comments.models import DiscussionSettings


@admin.register(DiscussionSettings)
class DiscussionSettingsAdmin(admin.ModelAdmin):
    """One page, like WordPress's Settings › Discussion: the list is skipped
    and the single row's form opens directly; nothing to add or delete."""

    fieldsets = [
        (
            "Moderation",
            {
                "fields": [
                    "hold_policy",
                    "hold_links",
                    "moderation_words",
                    "disallowed_words",
                ]
            },
        ),
        (
            "Discussion",
            {
                "fields": [
                    "close_after_days",
                    "require_name_email",
                    "max_thread_level",
                    "threads_per_page",
                ]
            },
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        if str(object_id) != "1":
            return None
        return DiscussionSettings.objects.get_or_create(pk=1)[0]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        return HttpResponseRedirect(
            reverse("admin:comments_discussionsettings_change", args=[1])
        )

    def response_change(self, request: HttpRequest, obj):
        self.message_user(request, "Discussion settings saved; they apply at once.")
        return HttpResponseRedirect(request.path)
