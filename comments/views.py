"""Posting a comment, the reply page without JavaScript, and permalinks.

We do not route through django-comments-xtd's views: they mail from inside
the request, pickle the comment into the confirmation link and answer
problems with bare 400 pages. Here every problem gives the reader the form
back, with their text and a clear message.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import resolve, reverse
from django.utils import formats, timezone
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views import csrf
from django.views.decorators.http import require_POST
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import MaxThreadLevelExceededException

from blog import postpass
from blog.converters import MAX_ID
from blog.models import Page, Post
from blog.subscriptions import views as subscriptions
from blog.subscriptions.models import Subscriber
from blog.subscriptions.optin import request_subscription
from comments import editing, likes, moderation, spamfilter, threads
from comments.forms import CommentForm
from comments.models import Comment, max_thread_level, target_model
from comments.signals import comment_submitted
from comments.threads import Outline

COMMENTER_COOKIE = "inkwell_commenter"
COMMENTER_SALT = "inkwell.comments.commenter"
COMMENTER_MAX_AGE = 365 * 24 * 60 * 60


def remembered_commenter(request: HttpRequest) -> dict:
    """Name, email and website the reader asked this browser to remember."""
    value = request.COOKIES.get(COMMENTER_COOKIE)
    if not value:
        return {}
    try:
        data = signing.loads(value, salt=COMMENTER_SALT)
    except signing.BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: str(data.get(key, ""))[:200] for key in ("name", "email", "url")}


def form_page(
    request: HttpRequest,
    form: CommentForm | None,
    *,
    post: Post | None,
    parent: Comment | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    parent_thread = ""
    if parent is not None and post is not None:
        items = threads.arrange([threads.comment_row(parent)], [parent.pk], post)
        parent_thread = threads.render(items, show_reply=False)
    response = render(
        request,
        "comments/form_page.html",
        {
            "post": post,
            "form": form,
            "parent": parent,
            "parent_thread": parent_thread,
            "problem": problem,
            "text": request.POST.get("comment", ""),
        },
        status=status,
    )
    patch_cache_control(response, private=True)
    return response


LOCKED = _(
    "This post is password protected: type its password on the post's page "
    "first, then write your comment there."
)


CONFIRMATION_LIMIT = _(
    "We have already sent %(email)s as many confirmation links as we may for "
    "now, so this comment was not saved and no mail went out. Open the links "
    "in the mails we sent to publish your earlier comments, or send this one "
    "again in an hour or so; your text is below."
)


def _target_post(data, user) -> Post | Page | None:
    """The post or page the form names (its signed content type and id), if
    `user` may open it: another author's draft is no more known to a staff
    member than to anyone (its title, its address and a fresh security hash
    would be on the form page)."""
    model = target_model(str(data.get("content_type", "")))
    if model is None:
        return None
    try:
        pk = int(data.get("object_pk", ""))
    except ValueError:
        return None
    if not 1 <= pk <= MAX_ID:  # past the database's range, it would raise there
        return None
    return model.objects.visible_to(user).filter(pk=pk).select_related("author").first()


def _commented(comment: Comment, user) -> Post | Page:
    """The post or page an approved comment is on, if `user` may open it,
    else a 404."""
    model = target_model(
        f"{comment.content_type.app_label}.{comment.content_type.model}"
    )
    if model is None:
        raise Http404("No such discussion.")
    return get_object_or_404(
        model.objects.visible_to(user).select_related("author"),
        pk=comment.object_pk,
    )


def save_in_thread(comment: Comment, parent: Comment | None) -> None:
    """Save a new comment and its place in the thread, or nothing at all
    (inside a transaction, it is part of that one: no savepoint of its own)."""
    with transaction.atomic(savepoint=False):
        if parent is not None:
            # One writer per thread at a time (PostgreSQL; SQLite serialises
            # writers anyway), so two replies cannot take the same `order`.
            list(
                Comment.objects.select_related(None)
                .select_for_update()
                .filter(pk=parent.thread_id)
                .values_list("pk")
            )
        comment.save()


def _sent_before(comment: Comment) -> tuple[Comment | None, Comment | None]:
    """What was saved already of this comment: the comment this very form
    saved (a double click, a resent POST), and the first one with the same
    text sent to the same post within a day from the same address or the
    same IP (a reload, a bot), each if any.

    One query, each part looked up by an index (the post's discussion; the
    form's key), then by id: one condition across the comment's tables read
    every comment on the site. The comment itself is read only when found."""
    key = comment.submission_key
    sender = Q(user_email=comment.user_email) if comment.user_email else Q(pk=None)
    if comment.ip_address:
        sender |= Q(ip_address=comment.ip_address)
    same_text = BaseComment.objects.filter(
        sender,
        content_type=comment.content_type,
        object_pk=comment.object_pk,
        comment=comment.comment,
        submit_date__gte=comment.submit_date - timedelta(days=1),
    )
    found = Q(pk__in=same_text.values("pk")) & ~Q(
        state__in=[Comment.State.SPAM, Comment.State.TRASH]
    )
    if key:
        # Not "" either: the condition of the unique index on the key, which
        # SQLite uses only when the query says so.
        same_form = Comment.objects.filter(submission_key=key).exclude(
            submission_key=""
        )
        found |= Q(pk__in=same_form.values("pk"))
    earlier = list(
        Comment.objects.filter(found).order_by("pk").values_list("pk", "submission_key")
    )
    first = next((pk for pk, sent_key in earlier if key and sent_key == key), None)
    if first is not None:
        return Comment.objects.get(pk=first), None
    # Without the form's own, every row found has the same text.
    if earlier:
        return None, Comment.objects.get(pk=earlier[0][0])
    return None, None


def _landing(request: HttpRequest, comment: Comment, post: Post) -> HttpResponse:
    if comment.state == Comment.State.PUBLIC:
        return redirect(comment.get_absolute_url())
    if comment.state == Comment.State.UNCONFIRMED:
        messages.info(
            request,
            _(
                "Thank you! We sent a link to %(email)s: open it to publish your "
                "comment."
            )
            % {"email": comment.user_email},
        )
    else:
        messages.info(request, _("Thank you! Your comment is awaiting moderation."))
    return redirect(f"{post.get_absolute_url()}#respond")


@require_POST
def post_comment(request: HttpRequest) -> HttpResponse:
    post = _target_post(request.POST, request.user)
    if post is None:
        return form_page(
            request,
            None,
            post=None,
            problem=_(
                "We could not tell which post this comment was for, so it was not "
                "saved. Your text is below: copy it and try again from the post."
            ),
            status=400,
        )
    if not postpass.unlocked(request, post):
        return form_page(request, None, post=post, problem=LOCKED, status=403)
    form = CommentForm(post, data=request.POST, user=request.user)
    if not form.is_valid():
        problem = ""
        if form.has_security_errors():
            problem = _(
                "This form had expired or was changed on its way here, so your "
                "comment was not saved. Your text is below: send it again."
            )
        return form_page(
            request,
            form.refreshed(),
            post=post,
            parent=form.parent,
            problem=problem,
            status=400,
        )
    comment = form.build_comment(request)
    # The same form again (a double click): the first sending's answer, and
    # no second count against the rate limits.
    first, duplicate = _sent_before(comment)
    if first is not None:
        return _answer(request, form, first, post)
    try:
        decision = moderation.decide(comment, post=post, request=request)
    except moderation.Refused as refusal:
        return form_page(
            request, form.refreshed(), post=post, problem=str(refusal), status=400
        )
    comment.state, comment.reason = decision.state, decision.reason

    # The same text again: counted, then answered as the first one was.
    if duplicate is not None:
        return _answer(request, form, duplicate, post)
    try:
        with transaction.atomic():
            save_in_thread(comment, form.parent)
            # Before the mail: the moderators' mail shows the filter's score.
            # In the comment's own transaction: one write to the database
            # rather than two (remember() keeps a failure of its own apart).
            spamfilter.remember(comment, decision.verdict)
    except MaxThreadLevelExceededException:
        # Only if the setting changed between validation and saving; the
        # transaction has rolled back, so no orphan row is left.
        form.add_error(
            "reply_to",
            _(
                "This conversation is nested as deep as it can go. Send your text "
                "again to post it as a new comment."
            ),
        )
        return form_page(request, form.refreshed(), post=post, status=400)
    except IntegrityError:
        # Both sendings of a double click got past the checks above at once;
        # the database let the first one in (unique submission_key).
        first = _sent_before(comment)[0]
        if first is None:
            raise
        return _answer(request, form, first, post)
    comment_submitted.send(sender=Comment, comment=comment, request=request)
    if comment.state == Comment.State.UNCONFIRMED and not getattr(
        comment, "confirmation_sent", True
    ):
        # Nothing could ever confirm it: no row waiting forever, the text
        # back to the reader with what to do.
        comment.delete()
        return form_page(
            request,
            form.refreshed(),
            post=post,
            problem=CONFIRMATION_LIMIT % {"email": comment.user_email},
            status=429,
        )
    if (
        form.cleaned_data.get("subscribe")
        and comment.user_email
        and comment.state != Comment.State.SPAM
    ):
        # New posts too, once the reader confirms from a mail of its own.
        request_subscription(
            comment.user_email,
            ip_address=comment.ip_address,
            source=Subscriber.Source.COMMENT,
        )
    return _answer(request, form, comment, post)


def _answer(
    request: HttpRequest, form: CommentForm, comment: Comment, post: Post
) -> HttpResponse:
    response = _landing(request, comment, post)
    if comment.state != Comment.State.SPAM:
        _offer_changes(request, response, comment, anonymous=form.user is None)
    if form.user is None:
        remember_commenter(response, request, form.cleaned_data)
    return response


def _offer_changes(
    request: HttpRequest, response: HttpResponse, comment: Comment, *, anonymous
) -> None:
    """Tell the reader how long they may change their comment, with a link
    that works without JavaScript; an anonymous reader's browser remembers
    the comment is theirs (comments/editing.py)."""
    if anonymous:
        editing.remember_own(response, request, comment)
    until = formats.time_format(timezone.localtime(editing.deadline(comment)), "H:i")
    messages.info(
        request,
        format_html(
            '{} <a href="{}">{}</a>',
            _("You can edit or delete your comment until %(time)s.") % {"time": until},
            reverse("comments:edit", args=[comment.pk]),
            _("Edit your comment"),
        ),
    )


def remember_commenter(response: HttpResponse, request: HttpRequest, data) -> None:
    """Keep the reader's details in a first-party cookie only when asked to."""
    if data.get("remember"):
        value = signing.dumps(
            {"name": data["name"], "email": data["email"], "url": data.get("url", "")},
            salt=COMMENTER_SALT,
        )
        response.set_cookie(
            COMMENTER_COOKIE,
            value,
            max_age=COMMENTER_MAX_AGE,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    elif COMMENTER_COOKIE in request.COOKIES:
        response.delete_cookie(COMMENTER_COOKIE, samesite="Lax")


def reply(request: HttpRequest, comment_id: int) -> HttpResponse:
    """The reply form on a page of its own, for readers without JavaScript."""
    parent = get_object_or_404(
        Comment.objects.approved().for_targets().select_related("user", "content_type"),
        pk=comment_id,
    )
    post = _commented(parent, request.user)
    if Outline.of(post).page_of(parent.pk) is None:
        raise Http404("This comment is not shown any more.")
    if not postpass.unlocked(request, post):
        return form_page(request, None, post=post, problem=LOCKED, status=403)
    if not moderation.comments_open(post):
        return form_page(
            request, None, post=post, parent=parent, problem=_("Comments are closed.")
        )
    if parent.level >= max_thread_level():
        return form_page(
            request,
            None,
            post=post,
            parent=parent,
            problem=_(
                "This conversation is nested as deep as it can go: reply to an "
                "earlier comment in the thread instead."
            ),
        )
    initial = {"reply_to": parent.pk, **remembered_commenter(request)}
    form = CommentForm(post, initial=initial, user=request.user)
    return form_page(request, form, post=post, parent=parent)


def permalink(request: HttpRequest, comment_id: int) -> HttpResponse:
    """/comments/<id>/ leads to the page of the discussion that shows it."""
    comment = get_object_or_404(
        Comment.objects.approved().for_targets().select_related("content_type"),
        pk=comment_id,
    )
    post = _commented(comment, request.user)
    page = Outline.of(post).page_of(comment.pk)
    if page is None:
        raise Http404("This comment is not shown any more.")
    return redirect(f"{post.get_absolute_url()}?cpage={page}#c{comment.pk}")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW. A comment, a like or a subscription sent without
    a valid token comes back ready to send again, with a token: the page it
    came from was the shared copy every reader gets (static/js/csrf.js adds
    the token, so this happens without JavaScript), or the security cookie
    had gone (a long time writing, cookies cleared). The comment keeps its
    text. Other requests get Django's own page."""
    if request.method != "POST":
        return csrf.csrf_failure(request, reason=reason)
    sent_without_token = not request.POST.get("csrfmiddlewaretoken")
    if request.path == reverse("comments:post"):
        post = _target_post(request.POST, request.user)
        if post is not None:
            form = CommentForm(post, data=request.POST, user=request.user)
            form.is_valid()
            problem = (
                _(
                    "Your comment is not saved yet: without JavaScript your browser "
                    "needs one more step to pass this site's security check. Your "
                    "text is below: press Post Comment again to send it."
                )
                if sent_without_token
                else _(
                    "Your browser's security check for this site had expired, so "
                    "your comment was not saved. Your text is below: send it again."
                )
            )
            return form_page(
                request, form.refreshed(), post=post, problem=problem, status=403
            )
    if request.path == reverse("blog:subscribe"):
        return subscriptions.subscribe_again(
            request, sent_without_token=sent_without_token
        )
    match = resolve(request.path_info)
    liked = {"comments:like_post": Post, "comments:like_page": Page}
    if match.view_name in liked:
        model = liked[match.view_name]
        post = model.objects.published().filter(pk=match.kwargs["pk"]).first()
        if post is not None:
            intent = "unlike" if request.POST.get("intent") == "unlike" else "like"
            response = render(
                request,
                "comments/like_again.html",
                {"post": post, "intent": intent, "like_url": likes.like_url(post)},
                status=403,
            )
            patch_cache_control(response, private=True)
            return response
    return csrf.csrf_failure(request, reason=reason)
