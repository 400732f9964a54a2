"""A reader editing or deleting their own comment (comments/editing.py has
the rules): the pages of their own, and the answer the in-place script asks.

Every answer here is about one reader's comments: `Cache-Control: private`
or `never_cache`, never the shared page cache.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from blog.converters import MAX_ID
from comments import editing
from comments.forms import EditForm
from comments.models import Comment, target_model

MAX_ASKED = 200  # comment ids one page may ask about


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


def _target(comment: Comment, user):
    model = target_model(
        f"{comment.content_type.app_label}.{comment.content_type.model}"
    )
    if model is None:
        raise Http404("No such discussion.")
    return get_object_or_404(
        model.objects.visible_to(user).select_related("author"), pk=comment.object_pk
    )


def _until(comment: Comment) -> str:
    local = timezone.localtime(editing.deadline(comment))
    return formats.time_format(local, "H:i")


@never_cache
@require_GET
def mine(request: HttpRequest) -> JsonResponse:
    """Which of the comments `?ids=1.2.3` this reader may still change, with
    their text and the links, for static/js/comment-edit.js."""
    asked = []
    for part in request.GET.get("ids", "").replace(",", ".").split(".")[:MAX_ASKED]:
        if part.isdigit() and 0 < int(part) <= MAX_ID:
            asked.append(int(part))
    claims = editing.own_claims(request)
    user = request.user
    candidates = Comment.objects.filter(pk__in=asked, deleted_at__isnull=True)
    if user.is_authenticated:
        candidates = candidates.filter(user=user) | candidates.filter(
            pk__in=list(claims), user__isnull=True
        )
    else:
        candidates = candidates.filter(pk__in=list(claims), user__isnull=True)
    candidates = list(candidates.select_related(None).order_by("pk"))
    allowed = editing.changeable(comment.pk for comment in candidates)
    comments = [
        {
            "id": comment.pk,
            "text": comment.comment,
            "can_edit": allowed[comment.pk],
            "edit_url": reverse("comments:edit", args=[comment.pk]),
            "delete_url": reverse("comments:delete", args=[comment.pk]),
            "until": _until(comment),
        }
        for comment in candidates
        if comment.pk in allowed
    ]
    labels = {
        "edit": _("Edit"),
        "delete": _("Delete"),
        "yours": _(" your comment"),
        "label": _("Edit your comment"),
        "save": _("Save changes"),
        "cancel": _("Cancel"),
        "until": _("You can change it until %(time)s."),
    }
    token = get_token(request) if comments else ""
    return JsonResponse({"comments": comments, "token": token, "labels": labels})


def _page(
    request: HttpRequest,
    template: str,
    context: dict,
    status: int = 200,
) -> HttpResponse:
    return _private(render(request, f"comments/{template}", context, status=status))


def _own_comment(request: HttpRequest, comment_id: int):
    """The comment, its post and the mail key, or a page saying why not."""
    comment = get_object_or_404(
        Comment.objects.select_related("content_type"), pk=comment_id
    )
    key = request.GET.get("key", "") or request.POST.get("key", "")
    post = _target(comment, request.user)
    if not editing.owns(request, comment, key):
        refusal = _page(
            request,
            "edit_refused.html",
            {"post": post, "expired_key": bool(key)},
            status=403,
        )
        return None, post, key, refusal
    return comment, post, key, None


@require_http_methods(["GET", "POST"])
def edit_comment(request: HttpRequest, comment_id: int) -> HttpResponse:
    """The edit form on a page of its own (without JavaScript, and from the
    confirmation mail); the in-place editor posts here too."""
    comment, post, key, refusal = _own_comment(request, comment_id)
    if refusal is not None:
        return refusal
    problem = editing.lock_reason(comment, post)
    context = {
        "comment": comment,
        "post": post,
        "key": key,
        "problem": problem,
        "until": _until(comment),
        "can_delete": not editing.lock_reason(comment, post, deleting=True),
    }
    if problem:
        return _page(request, "edit.html", context, status=403)
    if request.method == "POST":
        form = EditForm(request.POST)
        if form.is_valid():
            try:
                comment = editing.edit(
                    comment, form.cleaned_data["comment"], post=post, request=request
                )
            except editing.Locked as locked:
                context.update(problem=str(locked), form=form)
                return _page(request, "edit.html", context, status=403)
            return _done_editing(request, comment, post, key)
        context["form"] = form
        return _page(request, "edit.html", context, status=400)
    context["form"] = EditForm(initial={"comment": comment.comment})
    response = _page(request, "edit.html", context)
    if key and comment.user_id is None:
        # From the mail: this browser may now edit in place too.
        editing.remember_own(response, request, comment)
    return response


def _done_editing(request, comment: Comment, post, key: str) -> HttpResponse:
    if comment.state == Comment.State.PUBLIC:
        messages.success(request, _("Your comment is updated."))
        return redirect(comment.get_absolute_url())
    if comment.state == Comment.State.HELD:
        messages.info(
            request,
            _(
                "Your comment is updated. It will appear once a moderator has "
                "approved it."
            ),
        )
    elif comment.state == Comment.State.UNCONFIRMED:
        messages.info(
            request,
            _("Your comment is updated. Open the link we mailed you to publish it."),
        )
    else:
        messages.info(request, _("Your comment is updated."))
    return redirect(f"{post.get_absolute_url()}#respond")


@require_http_methods(["GET", "POST"])
def delete_comment(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Asks first (GET), deletes on the button (POST)."""
    comment, post, key, refusal = _own_comment(request, comment_id)
    if refusal is not None:
        return refusal
    problem = editing.lock_reason(comment, post, deleting=True)
    context = {"comment": comment, "post": post, "key": key, "problem": problem}
    if problem:
        return _page(request, "delete.html", context, status=403)
    if request.method == "POST":
        try:
            kept = editing.delete(comment, post=post)
        except editing.Locked as locked:
            context["problem"] = str(locked)
            return _page(request, "delete.html", context, status=403)
        if kept:
            messages.success(
                request,
                _("Your comment is deleted. The replies to it stay in the discussion."),
            )
            response = redirect(comment.get_absolute_url())
        else:
            messages.success(request, _("Your comment is deleted."))
            response = redirect(f"{post.get_absolute_url()}#comments")
        editing.forget_own(response, request, comment.pk)
        return response
    context["comment_html"] = comment.html
    return _page(request, "delete.html", context)
