"""The comments side of the admin: discussion settings, the moderation queue,
bans and the moderation log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import CharField, Count, Q, QuerySet
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django_comments_xtd.models import XtdComment

from blog.models import Page, Post
from comments import moderation
from comments.models import Ban, Comment, DiscussionSettings, ModerationLog

State = Comment.State

# Neither library registers an admin for our model, but should a later
# version do so for its own, moderators would see two queues.
for model in (XtdComment,):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


def moderated_comments(user) -> QuerySet[Comment]:
    """The comments `user` may moderate: all of them, or those on their
    posts and pages."""
    comments = Comment.objects.for_targets()
    if moderation.can_moderate_all(user):
        return comments
    own_posts = Post.objects.filter(author=user).values(pk_text=Cast("pk", CharField()))
    own_pages = Page.objects.filter(author=user).values(pk_text=Cast("pk", CharField()))
    return comments.filter(
        Q(content_type__model="post", object_pk__in=own_posts)
        | Q(content_type__model="page", object_pk__in=own_pages)
    )


def pending_count(user) -> int:
    return moderated_comments(user).filter(state=State.HELD).count()


class StateFilter(admin.SimpleListFilter):
    """The queue's tabs, Pending first, each with its count (one query)."""

    title = "status"
    parameter_name = "state"
    tabs = [
        (State.HELD, "Pending"),
        (State.PUBLIC, "Approved"),
        (State.SPAM, "Spam"),
        (State.TRASH, "Trash"),
        (State.UNCONFIRMED, "Awaiting confirmation"),
    ]
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin):
        counts = model_admin.get_queryset(request).aggregate(
            **{state: Count("pk", filter=Q(state=state)) for state, _label in self.tabs}
        )
        return [(state, f"{label} ({counts[state]})") for state, label in self.tabs] + [
            (self.ALL, "All")
        ]

    def value(self) -> str:
        return super().value() or State.HELD

    def queryset(self, request: HttpRequest, queryset: QuerySet[Comment]):
        value = self.value()
        if value == self.ALL:
            return queryset
        return queryset.filter(state=value)

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}
                ),
                "display": title,
            }


class ModerationLogInline(admin.TabularInline):
    model = ModerationLog
    fields = ["created_at", "action", "old_state", "new_state", "user", "via"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "moderation history"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return True


def moderation_action(name: str):
    action = moderation.ACTIONS[name]

    def run(modeladmin, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        modeladmin.run_action(request, queryset, name)

    run.__name__ = name
    return admin.action(description=f"{action.label}", permissions=["change"])(run)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """The moderation queue: Pending, Approved, Spam and Trash.

    Moderators see every comment; an author sees the comments on their own
    posts. Every action goes through `set_state`, so mail and page caches
    follow, and is written to the moderation log.
    """

    list_display = [
        "excerpt",
        "author",
        "user_email",
        "ip_address",
        "post_link",
        "reason",
        "submit_date",
        "view_link",
    ]
    list_display_links = ["excerpt"]
    list_filter = [StateFilter]
    list_per_page = 50
    show_full_result_count = False
    search_fields = ["comment", "user_name", "user_email", "ip_address"]
    ordering = ["-submit_date", "-pk"]
    actions = [
        moderation_action("approve"),
        moderation_action("unapprove"),
        moderation_action("spam"),
        moderation_action("not_spam"),
        moderation_action("trash"),
        moderation_action("restore"),
        "ban_commenters",
        "ban_commenters_and_trash",
        "ban_commenters_by_ip",
        "delete_selected",
    ]
    fieldsets = [
        (None, {"fields": ["post_link", "state", "reason", "submit_date"]}),
        (
            "Comment",
            {"fields": ["user_name", "user_email", "user_url", "comment"]},
        ),
        ("Where from", {"fields": ["user", "ip_address", "view_link"]}),
    ]
    readonly_fields = [
        "post_link",
        "state",
        "reason",
        "submit_date",
        "user",
        "ip_address",
        "view_link",
    ]
    inlines = [ModerationLogInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        # The user: a row's checkbox is labelled with str(comment), whose
        # name comes from the commenter's account when they have one.
        return (
            moderated_comments(request.user)
            .select_related(None)
            .select_related("user")
            .prefetch_related("content_object")
        )

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            function, name, _description = actions["delete_selected"]
            actions["delete_selected"] = (function, name, "Delete permanently")
        return actions

    # Columns

    @admin.display(description="comment")
    def excerpt(self, comment: Comment) -> str:
        return Truncator(comment.comment).chars(80) or "(empty)"

    @admin.display(description="author", ordering="user_name")
    def author(self, comment: Comment) -> str:
        return comment.user_name

    @admin.display(description="post")
    def post_link(self, comment: Comment) -> str:
        post = comment.content_object
        if post is None:
            return "(deleted)"
        return format_html('<a href="{}">{}</a>', post.get_absolute_url(), post)

    @admin.display(description="on the site")
    def view_link(self, comment: Comment) -> str:
        if comment.state != State.PUBLIC:
            return "not shown"
        return format_html(
            '<a href="{}">View in context</a>', comment.get_absolute_url()
        )

    # Actions

    def refuse_others(self, request: HttpRequest, queryset: QuerySet) -> int:
        """Selected comments the action leaves out, said so rather than
        skipped in silence, with the reason: not this user's to moderate, no
        longer in the tab the action was sent from (moved meanwhile), or
        gone."""
        selected = {
            int(pk) for pk in request.POST.getlist(ACTION_CHECKBOX_NAME) if pk.isdigit()
        }
        acted_on = set(queryset.values_list("pk", flat=True))
        left_out = selected - acted_on
        if not left_out:
            return 0
        existing = set(
            Comment.objects.filter(pk__in=left_out).values_list("pk", flat=True)
        )
        theirs = set(
            moderated_comments(request.user)
            .filter(pk__in=existing)
            .values_list("pk", flat=True)
        )
        for count, message in [
            (
                len(existing - theirs),
                "{} selected comment(s) are not on your posts; they were left alone.",
            ),
            (
                len(theirs),
                "{} selected comment(s) are no longer in this tab (moved since "
                "the page was shown, perhaps by another moderator); they were "
                "left alone. Look for them under All.",
            ),
            (len(left_out - existing), "{} selected comment(s) no longer exist."),
        ]:
            if count:
                self.message_user(request, message.format(count), messages.ERROR)
        return len(left_out)

    def run_action(self, request: HttpRequest, queryset, name: str) -> None:
        if not request.POST.get("select_across"):
            self.refuse_others(request, queryset)
        done = skipped = 0
        for comment in queryset.select_related(None).prefetch_related(None):
            if moderation.apply_action(comment, name, by=request.user):
                done += 1
            else:
                skipped += 1
        label = moderation.ACTIONS[name].label
        self.message_user(request, f"{label}: {done} comment(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} comment(s) were already in a state this action does "
                "not apply to.",
                messages.WARNING,
            )

    def has_ban_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.add_ban")

    @admin.action(
        description="Ban these commenters (by email address)", permissions=["ban"]
    )
    def ban_commenters(self, request: HttpRequest, queryset) -> None:
        self.ban(request, queryset, trash=False)

    @admin.action(
        description="Ban these commenters (by email address) and trash all "
        "their comments",
        permissions=["ban"],
    )
    def ban_commenters_and_trash(self, request: HttpRequest, queryset) -> None:
        self.ban(request, queryset, trash=True)

    @admin.action(
        description="Ban these commenters by email and IP address",
        permissions=["ban"],
    )
    def ban_commenters_by_ip(self, request: HttpRequest, queryset) -> None:
        self.ban(request, queryset, trash=False, by_ip=True)

    def ban(
        self, request: HttpRequest, queryset, *, trash: bool, by_ip: bool = False
    ) -> None:
        if not request.POST.get("select_across"):
            self.refuse_others(request, queryset)
        ips = set(queryset.values_list("ip_address", flat=True))
        bans, trashed = moderation.ban_commenters(
            queryset, by=request.user, trash=trash, by_ip=by_ip
        )
        message = f"Banned {bans} commenter(s) by email address"
        if by_ip:
            message += " and IP address"
        if trash:
            message += f" and moved {trashed} of their comment(s) to the trash"
        self.message_user(request, f"{message}.", messages.SUCCESS)
        shared = moderation.shared_addresses(ips)
        for ip, why in shared.items():
            if by_ip:
                self.message_user(
                    request,
                    f"{ip} is likely shared ({why}): everyone who comments "
                    "from it is now banned. If that is not what you meant, "
                    "delete its ban under Bans.",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    f"{ip} was not banned, and should not be: it is likely "
                    f"shared ({why}), and a ban would silence everyone behind it.",
                    messages.WARNING,
                )
        if not by_ip and ips - set(shared) - {None}:
            self.message_user(
                request,
                "Their IP addresses were not banned; choose “Ban these "
                "commenters by email and IP address” to ban those too.",
                messages.INFO,
            )

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for comment in queryset:
            self.delete_model(request, comment)

    def delete_model(self, request: HttpRequest, comment: Comment) -> None:
        moderation.log(comment, "delete", by=request.user, new_state="")
        comment.delete()


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


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "email",
        "ip_address",
        "note",
        "created_by",
        "created_at",
    ]
    list_select_related = ["created_by"]
    search_fields = ["email", "ip_address", "note"]
    fields = ["email", "ip_address", "note"]
    actions = ["trash_their_comments"]

    def save_model(self, request: HttpRequest, obj: Ban, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(
        description="Move all comments from these commenters to the trash",
        permissions=["change"],
    )
    def trash_their_comments(self, request: HttpRequest, queryset) -> None:
        trashed = 0
        for ban in queryset:
            theirs = (
                moderated_comments(request.user)
                .filter(ban_condition(ban))
                .filter(state__in=[State.PUBLIC, State.HELD, State.UNCONFIRMED])
                .select_related(None)
            )
            for comment in theirs:
                trashed += moderation.apply_action(comment, "trash", by=request.user)
        self.message_user(
            request, f"Moved {trashed} comment(s) to the trash.", messages.SUCCESS
        )


def ban_condition(ban: Ban) -> Q:
    condition = Q(pk__in=[])
    if ban.email:
        condition |= Q(user_email__iexact=ban.email)
    if ban.ip_address:
        condition |= Q(ip_address=ban.ip_address)
    return condition


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    """Read-only: who did what to which comment, when, and from where."""

    list_display = [
        "created_at",
        "action",
        "comment_link",
        "old_state",
        "new_state",
        "user",
        "via",
    ]
    list_filter = ["via", "action"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="comment")
    def comment_link(self, entry: ModerationLog) -> str:
        if entry.comment_id is None:
            return f"#{entry.comment_pk} (deleted)"
        url = reverse("admin:comments_comment_change", args=[entry.comment_id])
        return format_html('<a href="{}">#{}</a>', url, entry.comment_id)
