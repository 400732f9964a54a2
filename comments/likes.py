"""Likes on posts: "3 bloggers like this", the Like button and its URL.

Signed-in readers are known by their account. Anonymous readers get a random
id in a first-party cookie the first time they like something, so each may
like a post once; every like or unlike also counts against a per-IP rate
limit kept in the cache (shared by every process, like the page cache).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Max, Q, Value, When, Window
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.views.decorators.http import require_POST

from blog.models import Post
from comments.models import PostLike

VISITOR_COOKIE = "inkwell_visitor"
VISITOR_COOKIE_AGE = 365 * 24 * 60 * 60
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

# Likes and unlikes allowed from one IP address per window.
RATE_LIMIT = 30
RATE_WINDOW = 10 * 60

# The post page names at most this many signed-in likers; the line counts all.
NAMES_SHOWN = 20


@dataclass
class LikeSummary:
    count: int = 0
    liked: bool = False
    names: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        if self.count == 0:
            return "Be the first to like this."
        if self.count == 1:
            return "1 blogger likes this."
        return f"{self.count:,} bloggers like this."

    def as_json(self) -> dict:
        return {
            "count": self.count,
            "liked": self.liked,
            "line": self.line,
            "names": self.names,
        }


def visitor_id(request: HttpRequest) -> str:
    """The anonymous reader's id from their cookie, or "" (none or not ours)."""
    value = request.COOKIES.get(VISITOR_COOKIE, "")
    return value if _VISITOR_ID.match(value) else ""


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, or None when it is not an IP.

    REMOTE_ADDR, not X-Forwarded-For: the header is whatever the client says.
    """
    address = request.META.get("REMOTE_ADDR", "")
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return address


def _owned_by(request: HttpRequest) -> Q | None:
    """The filter for the current reader's like, or None if they have none."""
    if request.user.is_authenticated:
        return Q(user=request.user)
    visitor = visitor_id(request)
    return Q(visitor=visitor) if visitor else None


def like_summary(post: Post, request: HttpRequest) -> LikeSummary:
    """Count, first liker names and the reader's own like, in one query.

    Window aggregates run over every like of the post before LIMIT applies,
    so the page costs the same one query for no likes or for thousands.
    """
    mine = _owned_by(request)
    rows = (
        PostLike.objects.filter(post=post)
        .annotate(
            total=Window(Count("pk")),
            mine=Window(Max(Case(When(mine, then=Value(1)), default=Value(0))))
            if mine is not None
            else Value(0),
        )
        # Signed-in likers first (they are named), each group oldest first.
        .order_by(
            Case(When(user=None, then=Value(1)), default=Value(0)),
            "created_at",
            "pk",
        )
        .values(
            "total", "mine", "user__username", "user__first_name", "user__last_name"
        )
    )[:NAMES_SHOWN]
    summary = LikeSummary()
    for row in rows:
        summary.count = row["total"]
        summary.liked = bool(row["mine"])
        if row["user__username"] is not None:
            full_name = f"{row['user__first_name']} {row['user__last_name']}".strip()
            summary.names.append(full_name or row["user__username"])
    return summary


def over_rate_limit(request: HttpRequest) -> bool:
    """Count this like or unlike against the IP's allowance; True when spent.

    A fixed window per key; the explicit touch() matters because some cache
    backends reset the timeout when incr() rewrites the value.
    """
    window = int(time.time() // RATE_WINDOW)
    key = f"likes:ip:{client_ip(request) or 'unknown'}:{window}"
    cache.add(key, 0, RATE_WINDOW * 2)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, RATE_WINDOW * 2)
        hits = 1
    else:
        cache.touch(key, RATE_WINDOW * 2)
    return hits > RATE_LIMIT


def set_like(post: Post, request: HttpRequest, want: bool | None) -> tuple[bool, str]:
    """Like (True), unlike (False) or toggle (None) the post for this reader.

    Returns whether the reader now likes the post and the new visitor id to
    store in their cookie ("" when none is needed).
    """
    mine = _owned_by(request)
    if want is None:
        want = mine is None or not PostLike.objects.filter(mine, post=post).exists()
    if not want:
        if mine is not None:
            PostLike.objects.filter(mine, post=post).delete()
        return False, ""
    new_visitor = ""
    like = PostLike(post=post, ip_address=client_ip(request))
    if request.user.is_authenticated:
        like.user = request.user
    else:
        like.visitor = visitor_id(request) or secrets.token_urlsafe(24)
        new_visitor = "" if mine is not None else like.visitor
    try:
        with transaction.atomic():
            like.save()
    except IntegrityError:
        pass  # already liked (a double click or a second tab): still liked
    return True, new_visitor


INTENTS = {"like": True, "unlike": False}


@require_POST
def like_post(request: HttpRequest, pk: int) -> HttpResponse:
    """The Like button: a plain form post, or fetch() asking for JSON.

    Every change to a post's likes goes through this view, so this is the
    one place to invalidate the post's cached page.
    """
    post = get_object_or_404(Post.objects.published(), pk=pk)
    wants_json = (
        request.get_preferred_type(["text/html", "application/json"])
        == "application/json"
    )
    if over_rate_limit(request):
        message = (
            "Too many likes from your network in the last few minutes. "
            "Nothing was changed; please try again later."
        )
        if wants_json:
            data = like_summary(post, request).as_json()
            return JsonResponse({**data, "message": message}, status=429)
        messages.error(request, message)
        return redirect(post.get_absolute_url() + "#likes")

    liked, new_visitor = set_like(
        post, request, INTENTS.get(request.POST.get("intent"))
    )
    message = "Thanks for the like!" if liked else "Your like was removed."
    if wants_json:
        response = JsonResponse(
            {
                **like_summary(post, request).as_json(),
                "liked": liked,
                "message": message,
            }
        )
    else:
        messages.success(request, message)
        response = redirect(post.get_absolute_url() + "#likes")
    if new_visitor:
        response.set_cookie(
            VISITOR_COOKIE,
            new_visitor,
            max_age=VISITOR_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        )
    return response


app_name = "likes"
urlpatterns = [path("posts/<int:pk>/like/", like_post, name="like_post")]
