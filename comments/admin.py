"""The comments side of the admin: discussion settings, the moderation queue,
bans and the moderation log."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.db.models import CharField, Count, Q, QuerySet
from django.db.models.functions import Cast
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_comments_xtd.models import XtdComment

from blog.converters import MAX_ID
from blog.models import Page, Post, display_name
from comments import moderation, spamfilter
from comments.models import (
    Ban,
    Comment,
    DiscussionSettings,
    ModerationLog,
    max_thread_level,
)
from comments.signals import comment_submitted
from comments.views import save_in_thread

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


# The queue's narrowing, by post and by commenter: links from its rows set
# them, and the tabs count within them.
POST_PARAMETER = "post"
COMMENTER_PARAMETER = "commenter"


def target_condition(value: str) -> Q | None:
    """Comments on the post or page `value` names ("post-12", "page-3"), or
    None if it names nothing we could have."""
    model, _dash, pk = value.partition("-")
    if model not in {"post", "page"} or not pk.isdigit() or not 0 < int(pk) <= MAX_ID:
        return None
    return Q(content_type__app_label="blog", content_type__model=model, object_pk=pk)


def target_value(comment: Comment) -> str:
    """The post filter's value for the post or page `comment` is on."""
    return f"{type(comment.content_object).__name__.lower()}-{comment.object_pk}"


def commenter_condition(value: str) -> Q:
    return Q(user_email__iexact=value.strip())


def narrowed(request: HttpRequest, queryset: QuerySet[Comment]) -> QuerySet[Comment]:
    """`queryset` within the post and commenter the queue is narrowed to."""
    post = request.GET.get(POST_PARAMETER)
    if post is not None:
        condition = target_condition(post)
        queryset = queryset.filter(condition) if condition else queryset.none()
    commenter = request.GET.get(COMMENTER_PARAMETER, "").strip()
    if commenter:
        queryset = queryset.filter(commenter_condition(commenter))
    return queryset


class TargetFilter(admin.SimpleListFilter):
    """Comments on one post or page (set by a row's "Only this post" link).
    Only the chosen post is offered: a list of every post would not stay
    bounded."""

    title = _("post")
    parameter_name = POST_PARAMETER
    template = "admin/comments/comment/narrowed_filter.html"

    def lookups(self, request: HttpRequest, model_admin):
        value = self.value()
        if not value:
            return []
        condition = target_condition(value)
        model = Post if value.startswith("post-") else Page
        target = (
            model.objects.filter(pk=value.partition("-")[2]).only("title").first()
            if condition
            else None
        )
        return [(value, str(target) if target else gettext("(no such post)"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Comment]):
        value = self.value()
        if not value:
            return queryset
        condition = target_condition(value)
        return queryset.filter(condition) if condition else queryset.none()


class CommenterFilter(admin.SimpleListFilter):
    """One commenter's comments, by email address: their history."""

    title = _("commenter")
    parameter_name = COMMENTER_PARAMETER
    template = "admin/comments/comment/narrowed_filter.html"

    def lookups(self, request: HttpRequest, model_admin):
        value = (self.value() or "").strip()
        return [(value, value)] if value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Comment]):
        value = (self.value() or "").strip()
        return queryset.filter(commenter_condition(value)) if value else queryset


class StateFilter(admin.SimpleListFilter):
    """The queue's tabs, Pending first, each with its count (one query)."""

    title = _("status")
    parameter_name = "state"
    template = "admin/comments/comment/state_tabs.html"
    tabs = [
        (State.HELD, _("Pending")),
        (State.PUBLIC, _("Approved")),
        (State.SPAM, _("Spam")),
        (State.TRASH, _("Trash")),
        (State.UNCONFIRMED, _("Awaiting confirmation")),
    ]
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin):
        counts = narrowed(request, model_admin.get_queryset(request)).aggregate(
            **{state: Count("pk", filter=Q(state=state)) for state, _label in self.tabs}
        )
        return [(state, f"{label} ({counts[state]})") for state, label in self.tabs] + [
            (self.ALL, gettext("All"))
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


# What the moderation log records besides the actions (moderation.ACTIONS).
LOGGED = {
    "reply": _("Reply"),
    "edit": _("Edit"),
    "delete": _("Delete permanently"),
    "ban": _("Ban"),
    "edited by its author": _("Edited by its author"),
}


def action_label(action: str) -> str:
    if action in moderation.ACTIONS:
        return moderation.ACTIONS[action].label
    return LOGGED.get(action, action)


class LoggedActionFilter(admin.SimpleListFilter):
    """The log's filter by action, the actions by their names."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin):
        actions = [*moderation.ACTIONS, *LOGGED]
        return [(action, action_label(action)) for action in actions]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ModerationLog]):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


class LogColumns:
    """The moderation log's action and states by their names, not codes."""

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, entry: ModerationLog) -> str:
        return action_label(entry.action)

    @admin.display(description=_("from state"))
    def old_state_label(self, entry: ModerationLog) -> str:
        return dict(State.choices).get(entry.old_state, entry.old_state)

    @admin.display(description=_("to state"))
    def new_state_label(self, entry: ModerationLog) -> str:
        return dict(State.choices).get(entry.new_state, entry.new_state)


class ModerationLogInline(LogColumns, admin.TabularInline):
    model = ModerationLog
    fields = [
        "created_at",
        "action_label",
        "old_state_label",
        "new_state_label",
        "user",
        "via",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("moderation history")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return True


# The states a comment can be answered from the queue in (a held one is
# approved first).
REPLYABLE = {State.PUBLIC, State.HELD, State.UNCONFIRMED}


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=settings.COMMENT_MAX_LENGTH,
        strip=True,
        help_text=_(
            "Markdown, as readers write it. Published at once under your name."
        ),
        error_messages={"required": _("Write your reply first.")},
    )


def moderation_action(name: str):
    action = moderation.ACTIONS[name]

    def run(modeladmin, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        modeladmin.run_action(request, queryset, name)

    run.__name__ = name
    return admin.action(description=action.label, permissions=["change"])(run)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """The moderation queue: Pending, Approved, Spam and Trash.

    Moderators see every comment; an author sees the comments on their own
    posts. Every action goes through `set_state`, so mail and page caches
    follow, and is written to the moderation log.
    """

    # The comment's own column, with its buttons, is added per request
    # (get_list_display): its links lead back to the page it was shown on.
    list_display = ["commenter", "post_link", "submit_date"]
    list_display_links = None
    list_filter = [StateFilter, TargetFilter, CommenterFilter]
    list_per_page = 50
    show_full_result_count = False
    search_fields = ["comment", "user_name", "user_email", "ip_address"]
    search_help_text = _(
        "Searches the text, the commenter's name, email and IP address, and "
        "the titles of posts and pages."
    )
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
        (
            None,
            {
                "fields": [
                    "post_link",
                    "state",
                    "reason",
                    "spam_score",
                    "submit_date",
                    "edited_at",
                    "deleted_at",
                ]
            },
        ),
        (
            _("Comment"),
            {"fields": ["user_name", "user_email", "user_url", "comment"]},
        ),
        (
            _("Where from"),
            {"fields": ["user", "ip_address", "history", "view_link"]},
        ),
        (
            _("Earlier versions"),
            {"fields": ["earlier_versions"]},
        ),
    ]
    readonly_fields = [
        "post_link",
        "state",
        "reason",
        "spam_score",
        "submit_date",
        "edited_at",
        "deleted_at",
        "user",
        "ip_address",
        "history",
        "earlier_versions",
        "view_link",
    ]
    inlines = [ModerationLogInline]
    # Row buttons other than the bulk actions: the ones the queue shows per
    # comment, by state, at most three.
    row_actions = ["approve", "unapprove", "not_spam", "restore", "spam", "trash"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        # The user: a row's checkbox is labelled with str(comment), whose
        # name comes from the commenter's account when they have one.
        return (
            moderated_comments(request.user)
            .select_related(None)
            .select_related("user", "spam_filter")
            .prefetch_related("content_object")
        )

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            function, name, _description = actions["delete_selected"]
            actions["delete_selected"] = (function, name, _("Delete permanently"))
        return actions

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        """The text, name, email and IP (Django's search), or the title of
        the post or page the comment is on."""
        found, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        term = search_term.strip()
        if not term:
            return found, may_have_duplicates
        titled = [
            Q(
                content_type__app_label="blog",
                content_type__model=model._meta.model_name,
                object_pk__in=model.objects.filter(title__icontains=term).values(
                    pk_text=Cast("pk", CharField())
                ),
            )
            for model in (Post, Page)
        ]
        return found | queryset.filter(titled[0] | titled[1]), may_have_duplicates

    def get_urls(self):
        urls = super().get_urls()
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/moderate/<str:action>/",
                view(self.row_action_view),
                name="comments_comment_row_action",
            ),
            path(
                "<path:object_id>/reply/",
                view(self.reply_view),
                name="comments_comment_reply",
            ),
            *urls,
        ]

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        comment = super().get_object(request, object_id, from_field)
        if comment is not None:
            # Their history counts only what this user may moderate.
            comment.viewer = request.user
        return comment

    # Columns

    def get_list_display(self, request: HttpRequest):
        back = request.get_full_path()
        preserved = self.get_preserved_filters(request)

        @admin.display(description=_("comment"))
        def comment_column(comment: Comment) -> str:
            return self.comment_cell(comment, back, preserved)

        return ["commenter", comment_column, "post_link", "submit_date"]

    @admin.display(description=_("commenter"), ordering="user_name")
    def commenter(self, comment: Comment) -> str:
        name = format_html(
            '<strong class="queue__name">{}</strong>',
            comment.user_name or gettext("(no name)"),
        )
        ip = (
            format_html('<span class="queue__ip">{}</span>', comment.ip_address)
            if comment.ip_address
            else ""
        )
        if not comment.user_email:
            return format_html("{}{}", name, ip)
        history = "?" + urlencode(
            {COMMENTER_PARAMETER: comment.user_email, StateFilter.parameter_name: "all"}
        )
        return format_html(
            '{}<span class="queue__email">{}</span>{}'
            '<a class="queue__history" href="{}">{}</a>',
            name,
            comment.user_email,
            ip,
            history,
            gettext("All their comments"),
        )

    def comment_cell(self, comment: Comment, back: str, preserved: str) -> str:
        change = reverse("admin:comments_comment_change", args=[comment.pk])
        if preserved:
            change += "?" + urlencode({"_changelist_filters": preserved})
        who = comment.user_name or gettext("(no name)")
        buttons = [
            format_html(
                '<button type="submit" form="queue-row" formaction="{}" '
                'class="button queue__button queue__button--{}">{}'
                '<span class="visually-hidden"> {}</span></button>',
                reverse("admin:comments_comment_row_action", args=[comment.pk, name]),
                name,
                moderation.ACTIONS[name].label,
                gettext("the comment by %(name)s") % {"name": who},
            )
            for name in self.row_actions
            if comment.state in moderation.ACTIONS[name].from_states
        ]
        if comment.state in REPLYABLE:
            reply = reverse("admin:comments_comment_reply", args=[comment.pk])
            buttons.append(
                format_html(
                    '<a class="button queue__button" href="{}?{}">{}'
                    '<span class="visually-hidden"> {}</span></a>',
                    reply,
                    urlencode({"next": back}),
                    gettext("Reply"),
                    gettext("to %(name)s") % {"name": who},
                )
            )
        buttons.append(
            format_html(
                '<a class="button queue__button" href="{}">{}'
                '<span class="visually-hidden"> {}</span></a>',
                change,
                gettext("Edit"),
                gettext("the comment by %(name)s") % {"name": who},
            )
        )
        return format_html(
            '<p class="queue__state queue__state--{}">{}{}{}</p>'
            '<p class="queue__text">{}</p>'
            '<div class="queue__actions">{}</div>',
            comment.state,
            comment.get_state_display(),
            format_html(" · {}", comment.reason) if comment.reason else "",
            self.filter_note(comment),
            Truncator(comment.comment).chars(240) or gettext("(empty)"),
            format_html_join("", "{}", ((button,) for button in buttons)),
        )

    @admin.display(description=_("spam filter"))
    def spam_score(self, comment: Comment) -> str:
        """The filter's score when the comment came, and its strongest clues
        (the "why"), each with its spam probability."""
        record = getattr(comment, "spam_filter", None)
        if record is None or record.score is None:
            return gettext("not scored")
        clues = ", ".join(f"{token} {chance:.2f}" for token, chance in record.clues[:3])
        return gettext("spam filter %(score)s (%(clues)s)") % {
            "score": spamfilter.shown(record.score),
            "clues": clues,
        }

    def filter_note(self, comment: Comment) -> str:
        """The score and why beside the state in the queue, when scored."""
        record = getattr(comment, "spam_filter", None)
        if record is None or record.score is None:
            return ""
        return format_html(
            ' · <span class="queue__filter">{}</span>', self.spam_score(comment)
        )

    def changelist_view(self, request: HttpRequest, extra_context=None):
        spam, ham = spamfilter.trained_counts()
        extra_context = {
            **(extra_context or {}),
            "spam_filter_trained": {"spam": spam, "ham": ham},
            "spam_filter_agreement": spamfilter.agreement(),
            "spam_filter_minimum": settings.INKWELL_SPAM_FILTER_MIN_DECISIONS,
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("in response to"))
    def post_link(self, comment: Comment) -> str:
        post = comment.content_object
        if post is None:
            return gettext("(deleted)")
        only = "?" + urlencode(
            {POST_PARAMETER: target_value(comment), StateFilter.parameter_name: "all"}
        )
        return format_html(
            '<a href="{}">{}</a><span class="queue__more"><a href="{}">{}</a>{}</span>',
            post.get_absolute_url(),
            post,
            only,
            gettext("All comments on it"),
            format_html(
                ' · <a href="{}">{}</a>',
                comment.get_absolute_url(),
                gettext("View in context"),
            )
            if comment.state == State.PUBLIC
            else "",
        )

    @admin.display(description=_("on the site"))
    def view_link(self, comment: Comment) -> str:
        if comment.state != State.PUBLIC:
            return gettext("not shown")
        return format_html(
            '<a href="{}">{}</a>',
            comment.get_absolute_url(),
            gettext("View in context"),
        )

    @admin.display(description=_("earlier versions"))
    def earlier_versions(self, comment: Comment) -> str:
        """Every text the comment had before its author edited or deleted it
        (comments/editing.py), newest first."""
        revisions = list(comment.revisions.all())
        if not revisions:
            return gettext("None: the text is as its author first wrote it.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(revision.written_at).strftime(
                        "%Y-%m-%d %H:%M:%S"
                    ),
                    timezone.localtime(revision.replaced_at).strftime(
                        "%Y-%m-%d %H:%M:%S"
                    ),
                    gettext("deleted by its author")
                    if revision.deleted
                    else gettext("edited by its author"),
                    revision.text,
                )
                for revision in revisions
            ),
        )
        return format_html(
            '<table class="earlier-versions"><thead><tr><th scope="col">{}</th>'
            '<th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            gettext("written"),
            gettext("replaced"),
            gettext("what happened"),
            gettext("text"),
            rows,
        )

    @admin.display(description=_("their comments"))
    def history(self, comment: Comment) -> str:
        """How many comments this address has sent, by state (one query),
        linking to them all in the queue."""
        viewer = getattr(comment, "viewer", None)
        if viewer is None:
            return ""
        if not comment.user_email:
            return gettext("No email address to find them by.")
        counts = (
            moderated_comments(viewer)
            .filter(commenter_condition(comment.user_email))
            .values("state")
            .annotate(count=Count("pk"))
            .order_by()
        )
        by_state = {row["state"]: row["count"] for row in counts}
        summary = ", ".join(
            f"{by_state[state]} {label.lower()}"
            for state, label in State.choices
            if by_state.get(state)
        )
        url = (
            reverse("admin:comments_comment_changelist")
            + "?"
            + urlencode(
                {
                    COMMENTER_PARAMETER: comment.user_email,
                    StateFilter.parameter_name: "all",
                }
            )
        )
        return format_html(
            '{} · <a href="{}">{}</a>', summary, url, gettext("All their comments")
        )

    # One comment at a time: the row buttons, the reply, the edit

    def queue_url(self, request: HttpRequest) -> str:
        """The queue page a row button was pressed on (its tab, filters and
        search), or the Pending tab."""
        back = request.POST.get("next") or request.GET.get("next") or ""
        changelist = reverse("admin:comments_comment_changelist")
        if back.startswith(changelist) and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}
        ):
            return back
        return f"{changelist}?{StateFilter.parameter_name}={State.HELD}"

    def moderated(self, request: HttpRequest, object_id: str) -> Comment | None:
        if not object_id.isdigit() or not 0 < int(object_id) <= MAX_ID:
            return None
        return (
            moderated_comments(request.user)
            .select_related(None)
            .filter(pk=object_id)
            .first()
        )

    def row_action_view(
        self, request: HttpRequest, object_id: str, action: str
    ) -> HttpResponse:
        """A row's Approve, Spam, Trash... button: one comment, then back to
        the same page of the queue, with a message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        back = self.queue_url(request)
        comment = self.moderated(request, object_id)
        if action not in self.row_actions or not self.has_change_permission(request):
            self.message_user(request, gettext("No such action."), messages.ERROR)
            return HttpResponseRedirect(back)
        if comment is None:
            self.message_user(
                request,
                gettext(
                    "That comment no longer exists, or is not on your posts; "
                    "nothing was changed."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(back)
        label = moderation.ACTIONS[action].label
        who = comment.user_name or gettext("(no name)")
        if moderation.apply_action(comment, action, by=request.user):
            self.message_user(
                request,
                gettext("%(action)s: the comment by %(name)s.")
                % {"action": label, "name": who},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext(
                    "The comment by %(name)s is already %(state)s (perhaps moved "
                    "by another moderator); nothing was changed."
                )
                % {"name": who, "state": comment.get_state_display().lower()},
                messages.WARNING,
            )
        return HttpResponseRedirect(back)

    def reply_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Answer a comment from the queue: the reply is published under the
        moderator's name, threaded under it; a held comment is approved
        first (one does not answer a comment readers cannot see)."""
        back = self.queue_url(request)
        comment = self.moderated(request, object_id)
        if comment is None or not self.has_change_permission(request, comment):
            self.message_user(
                request,
                gettext("That comment no longer exists, or is not on your posts."),
                messages.ERROR,
            )
            return HttpResponseRedirect(back)
        form = ReplyForm(request.POST if request.method == "POST" else None)
        problem = ""
        if comment.state not in REPLYABLE:
            problem = gettext(
                "This comment is %(state)s: restore or approve it before replying."
            ) % {"state": comment.get_state_display().lower()}
        elif comment.content_object is None:
            problem = gettext("The post this comment was on no longer exists.")
        if request.method == "POST" and not problem and form.is_valid():
            reply = self.publish_reply(request, comment, form.cleaned_data["text"])
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    gettext("Your reply to %(name)s is published.")
                    % {"name": comment.user_name or gettext("(no name)")},
                    reply.get_absolute_url(),
                    gettext("See it on the site"),
                ),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Reply to %(name)s") % {"name": comment.user_name},
            "comment": comment,
            "target": comment.content_object,
            "form": form,
            "problem": problem,
            "back": back,
            "will_approve": comment.state != State.PUBLIC,
        }
        return render(
            request,
            "admin/comments/comment/reply.html",
            context,
            status=400 if problem or form.errors else 200,
        )

    def publish_reply(self, request: HttpRequest, comment: Comment, text: str):
        if comment.state != State.PUBLIC:
            moderation.apply_action(comment, "approve", by=request.user)
        parent = comment
        if parent.level >= max_thread_level() and parent.parent_id != parent.pk:
            # As deep as threads go: the reply sits beside the comment.
            parent = Comment.objects.select_related(None).get(pk=parent.parent_id)
        user = request.user
        reply = Comment(
            content_type_id=comment.content_type_id,
            object_pk=comment.object_pk,
            site_id=comment.site_id,
            user=user,
            user_name=display_name(user),
            user_email=user.email,
            comment=text,
            submit_date=timezone.now(),
            ip_address=request.META.get("REMOTE_ADDR") or None,
            state=State.PUBLIC,
            parent_id=parent.pk,
        )
        save_in_thread(reply, parent)
        moderation.log(reply, "reply", by=user, old_state="")
        comment_submitted.send(sender=Comment, comment=reply, request=request)
        return reply

    def construct_change_message(self, request, form, formsets, add=False):
        """An edit of the text is logged with the text before and after (the
        comment's History page shows it)."""
        message = super().construct_change_message(request, form, formsets, add)
        if add or "comment" not in form.changed_data:
            return message
        summary = LogEntry(change_message=json.dumps(message)).get_change_message()
        return gettext("%(summary)s The text was: “%(old)s” It is now: “%(new)s”") % {
            "summary": summary,
            "old": form.initial.get("comment", ""),
            "new": form.cleaned_data["comment"],
        }

    def save_model(self, request: HttpRequest, obj: Comment, form, change: bool):
        super().save_model(request, obj, form, change)
        if change and "comment" in form.changed_data:
            moderation.log(obj, "edit", by=request.user)

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
        refusals = [
            ngettext(
                "%(count)d selected comment is not on your posts; it was left alone.",
                "%(count)d selected comments are not on your posts; they were left "
                "alone.",
                len(existing - theirs),
            )
            % {"count": len(existing - theirs)},
            ngettext(
                "%(count)d selected comment is no longer in this tab (moved since "
                "the page was shown, perhaps by another moderator); it was left "
                "alone. Look for it under All.",
                "%(count)d selected comments are no longer in this tab (moved since "
                "the page was shown, perhaps by another moderator); they were left "
                "alone. Look for them under All.",
                len(theirs),
            )
            % {"count": len(theirs)},
            ngettext(
                "%(count)d selected comment no longer exists.",
                "%(count)d selected comments no longer exist.",
                len(left_out - existing),
            )
            % {"count": len(left_out - existing)},
        ]
        counts = [len(existing - theirs), len(theirs), len(left_out - existing)]
        for count, message in zip(counts, refusals, strict=True):
            if count:
                self.message_user(request, message, messages.ERROR)
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
        message = ngettext(
            "%(action)s: %(count)d comment.", "%(action)s: %(count)d comments.", done
        )
        self.message_user(
            request, message % {"action": label, "count": done}, messages.SUCCESS
        )
        if skipped:
            message = ngettext(
                "%(count)d comment was already in a state this action does not "
                "apply to.",
                "%(count)d comments were already in a state this action does not "
                "apply to.",
                skipped,
            )
            self.message_user(request, message % {"count": skipped}, messages.WARNING)

    def has_ban_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.add_ban")

    @admin.action(
        description=_("Ban these commenters (by email address)"), permissions=["ban"]
    )
    def ban_commenters(self, request: HttpRequest, queryset) -> None:
        self.ban(request, queryset, trash=False)

    @admin.action(
        description=_(
            "Ban these commenters (by email address) and trash all their comments"
        ),
        permissions=["ban"],
    )
    def ban_commenters_and_trash(self, request: HttpRequest, queryset) -> None:
        self.ban(request, queryset, trash=True)

    @admin.action(
        description=_("Ban these commenters by email and IP address"),
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
        if by_ip:
            message = ngettext(
                "Banned %(count)d commenter by email and IP address.",
                "Banned %(count)d commenters by email and IP address.",
                bans,
            )
        else:
            message = ngettext(
                "Banned %(count)d commenter by email address.",
                "Banned %(count)d commenters by email address.",
                bans,
            )
        message %= {"count": bans}
        if trash:
            moved = ngettext(
                "Moved %(count)d of their comments to the trash.",
                "Moved %(count)d of their comments to the trash.",
                trashed,
            )
            message = f"{message} {moved % {'count': trashed}}"
        self.message_user(request, message, messages.SUCCESS)
        shared = moderation.shared_addresses(ips)
        for ip, why in shared.items():
            if by_ip:
                self.message_user(
                    request,
                    gettext(
                        "%(ip)s is likely shared (%(why)s): everyone who comments "
                        "from it is now banned. If that is not what you meant, "
                        "delete its ban under Bans."
                    )
                    % {"ip": ip, "why": why},
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    gettext(
                        "%(ip)s was not banned, and should not be: it is likely "
                        "shared (%(why)s), and a ban would silence everyone "
                        "behind it."
                    )
                    % {"ip": ip, "why": why},
                    messages.WARNING,
                )
        if not by_ip and ips - set(shared) - {None}:
            self.message_user(
                request,
                gettext(
                    "Their IP addresses were not banned; choose “Ban these "
                    "commenters by email and IP address” to ban those too."
                ),
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
            _("Moderation"),
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
            _("Discussion"),
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
        self.message_user(
            request, gettext("Discussion settings saved; they apply at once.")
        )
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
        description=_("Move all comments from these commenters to the trash"),
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
            request,
            ngettext(
                "Moved %(count)d comment to the trash.",
                "Moved %(count)d comments to the trash.",
                trashed,
            )
            % {"count": trashed},
            messages.SUCCESS,
        )


def ban_condition(ban: Ban) -> Q:
    condition = Q(pk__in=[])
    if ban.email:
        condition |= Q(user_email__iexact=ban.email)
    if ban.ip_address:
        condition |= Q(ip_address=ban.ip_address)
    return condition


@admin.register(ModerationLog)
class ModerationLogAdmin(LogColumns, admin.ModelAdmin):
    """Read-only: who did what to which comment, when, and from where."""

    list_display = [
        "created_at",
        "action_label",
        "comment_link",
        "old_state_label",
        "new_state_label",
        "user",
        "via",
    ]
    list_filter = ["via", LoggedActionFilter]
    list_select_related = ["user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("comment"))
    def comment_link(self, entry: ModerationLog) -> str:
        if entry.comment_id is None:
            return gettext("#%(id)s (deleted)") % {"id": entry.comment_pk}
        url = reverse("admin:comments_comment_change", args=[entry.comment_id])
        return format_html('<a href="{}">#{}</a>', url, entry.comment_id)
