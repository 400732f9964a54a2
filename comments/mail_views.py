"""The pages behind the links in comment emails.

Opening a link (GET) only shows a page with a button; the button (POST)
acts. Mail scanners and link previews fetch links, so a GET that confirmed a
comment or stopped mail would act for whoever scanned it.
"""

import functools

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from blog import tokens as link_tokens
from comments import moderation, notifications, tokens
from comments.models import TARGET_MODELS, Comment, ModerationLog

invalid_link = functools.partial(
    link_tokens.invalid_link, template="comments/email_link_invalid.html"
)


@require_http_methods(["GET", "POST"])
@never_cache  # a page of one reader's link: never in the shared cache
def confirm_comment(request: HttpRequest, token: str) -> HttpResponse:
    try:
        claim = tokens.read_confirmation_token(token)
    except tokens.ExpiredToken:
        return invalid_link(request, expired=True)
    except tokens.InvalidToken:
        return invalid_link(request)

    with transaction.atomic():
        # Locked, so that two clicks cannot both confirm (and mail twice).
        comment = (
            Comment.objects.select_related(None)  # no outer join to lock
            .select_for_update()
            .filter(pk=claim.comment_id)
            .first()
        )
        if comment is None or not tokens.same_email(
            comment.user_email, claim.email_hash
        ):
            return invalid_link(request)
        post_url = comment.content_object.get_absolute_url()
        if comment.state != Comment.State.UNCONFIRMED:
            return render(
                request,
                "comments/confirm_comment_done.html",
                {"comment": comment, "post_url": post_url},
            )
        if request.method == "POST":
            decision = moderation.state_after_confirmation(comment)
            comment.set_state(decision.state, decision.reason)

    if request.method == "POST":
        if comment.state == Comment.State.PUBLIC:
            messages.success(request, _("Thank you: your comment is published."))
            return redirect(comment.get_absolute_url())
        messages.info(
            request,
            _(
                "Thank you: your comment is confirmed. It will appear once a "
                "moderator has approved it."
            ),
        )
        return redirect(post_url)
    return render(
        request,
        "comments/confirm_comment.html",
        {
            "comment": comment,
            "comment_html": comment.html,
            "target": comment.content_object,
            "post_url": post_url,
        },
    )


# RFC 8058 one-click unsubscribe: mail clients POST to the List-Unsubscribe
# URL without any cookie or CSRF token. The signed token in the URL is what
# authenticates the request, and all it can do is stop mail.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        claim = tokens.read_unsubscribe_token(token)
    except tokens.InvalidToken:
        return invalid_link(request)
    model = TARGET_MODELS.get(claim.kind)
    post = model.objects.filter(pk=claim.post_id).first() if model else None
    if post is None:
        return invalid_link(request)
    if request.method == "POST":
        followed = Comment.objects.for_post(post).filter(followup=True)
        mine = [
            pk
            for pk, email in followed.values_list("pk", "user_email")
            if tokens.same_email(email, claim.email_hash)
        ]
        Comment.objects.filter(pk__in=mine).update(followup=False)
        return render(request, "comments/unsubscribe_done.html", {"post": post})
    return render(request, "comments/unsubscribe.html", {"post": post})


# One-click moderation from the mail about a held comment. The link's
# signed token is what authenticates it: no sign-in, so a phone's mail app
# works. The page shows the comment and a button, and only the button acts.


def moderation_page(
    request: HttpRequest, template: str, context: dict, status: int = 200
) -> HttpResponse:
    response = render(request, f"comments/{template}", context, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_http_methods(["GET", "POST"])
def moderate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        claim = tokens.read_moderation_token(token)
    except tokens.ExpiredToken:
        return moderation_page(
            request, "moderate_invalid.html", {"expired": True}, status=410
        )
    except tokens.InvalidToken:
        return moderation_page(request, "moderate_invalid.html", {}, status=400)
    action = moderation.ACTIONS.get(claim.action)
    if action is None:
        return moderation_page(request, "moderate_invalid.html", {}, status=400)

    with transaction.atomic():
        # Locked, so that two clicks cannot both act.
        comment = (
            Comment.objects.select_related(None)
            .select_for_update()
            .filter(pk=claim.comment_id)
            .first()
        )
        if comment is None:
            return moderation_page(request, "moderate_invalid.html", {}, status=400)
        moderator = next(
            (
                user
                for email, user in notifications.moderators_for(comment).items()
                if tokens.same_email(email, claim.email_hash)
            ),
            None,
        )
        if moderator is None:  # not (or no longer) one of its moderators
            return moderation_page(
                request, "moderate_invalid.html", {"not_yours": True}, status=403
            )
        context = {
            "comment": comment,
            "comment_html": comment.html,
            "target": comment.content_object,
            "action": action,
            "moderator": moderator,
            "review_url": notifications.review_path(comment),
        }
        used = ModerationLog.objects.filter(nonce=claim.nonce).exists()
        if used or claim.spent(comment):
            # Already moderated, by this link or otherwise: say where it is.
            return moderation_page(
                request, "moderate_done.html", {**context, "already": True}
            )
        if request.method == "POST":
            moderation.apply_action(
                comment,
                action.name,
                by=moderator,
                via=ModerationLog.Via.EMAIL,
                nonce=claim.nonce,
            )
            return moderation_page(request, "moderate_done.html", context)
    return moderation_page(request, "moderate.html", context)
