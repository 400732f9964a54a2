"""The pages behind the links in comment emails.

Opening a link (GET) only shows a page with a button; the button (POST)
acts. Mail scanners and link previews fetch links, so a GET that confirmed a
comment or stopped mail would act for whoever scanned it.
"""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from blog.markup import render_comment
from blog.models import Post
from comments import moderation, tokens
from comments.models import Comment


def invalid_link(request: HttpRequest, *, expired: bool = False) -> HttpResponse:
    return render(
        request,
        "comments/email_link_invalid.html",
        {"expired": expired},
        status=410 if expired else 400,
    )


@require_http_methods(["GET", "POST"])
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
            messages.success(request, "Thank you: your comment is published.")
            return redirect(comment.get_absolute_url())
        messages.info(
            request,
            "Thank you: your comment is confirmed. It will appear once a "
            "moderator has approved it.",
        )
        return redirect(post_url)
    return render(
        request,
        "comments/confirm_comment.html",
        {
            "comment": comment,
            "comment_html": render_comment(comment.comment),
            "target": comment.content_object,
            "post_url": post_url,
        },
    )


# RFC 8058 one-click unsubscribe: mail clients POST to the List-Unsubscribe
# URL without any cookie or CSRF token. The signed token in the URL is what
# authenticates the request, and all it can do is stop mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        claim = tokens.read_unsubscribe_token(token)
    except tokens.InvalidToken:
        return invalid_link(request)
    post = Post.objects.filter(pk=claim.post_id).first()
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
