"""Likes: "3 bloggers like this" on posts, "Liked by 2 people" on comments.

Signed-in readers are known by their account. Anonymous readers get a random
id in a signed first-party cookie the first time they like a post, so each
may like a post once and take the like back; and one network (an IPv4
address, an IPv6 /64) gives a post one anonymous like a day, whatever its
cookies say, so a script cannot stuff likes by dropping or making up
cookies. Comments can be liked by signed-in readers only, stored as
django-comments-xtd's own "I liked it" flags. Every like or unlike counts
against a per-IP rate limit kept in the cache (shared by every process).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Max, Q, Value, When, Window
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_comments.models import CommentFlag
from django_comments_xtd.models import DISLIKEDIT_FLAG, LIKEDIT_FLAG

from blog import avatars, pagecache
from blog.links import url_pattern
from blog.models import Page, Post, name_from_parts
from blog.ratelimit import within_limit
from comments import stencils
from comments.models import TARGET_MODELS, Comment, PostLike

VISITOR_COOKIE = "inkwell_visitor"
VISITOR_COOKIE_AGE = 365 * 24 * 60 * 60
VISITOR_SALT = "inkwell.likes.visitor"
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

# Likes and unlikes allowed from one IP address per window.
RATE_LIMIT = 30
RATE_WINDOW = 10 * 60

# The post page names at most this many signed-in likers; the line counts all.
NAMES_SHOWN = 20
FACE_SIZE = 28  # CSS pixels, as static/js/likes.js draws them too


@dataclass
class LikeSummary:
    count: int = 0
    liked: bool = False
    names: list[str] = field(default_factory=list)
    # The named likers' faces (blog/avatars.py data: URLs), in the same order,
    # and their Gravatar pictures ("" each while Gravatar is off).
    faces: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)

    @property
    def faces_and_names(self) -> list[tuple[str, str]]:
        """(name, the face's markup) for each named liker."""
        return [
            (name, avatars.face(face, photo, FACE_SIZE))
            for name, face, photo in zip(
                self.names, self.faces, self.photos, strict=False
            )
        ]

    @property
    def line(self) -> str:
        if self.count == 0:
            return gettext("Be the first to like this.")
        return ngettext(
            "%(count)s blogger likes this.", "%(count)s bloggers like this.", self.count
        ) % {"count": number_format(self.count, force_grouping=True)}

    def as_json(self) -> dict:
        return {
            "count": self.count,
            "liked": self.liked,
            "line": self.line,
            "names": self.names,
            "faces": self.faces,
            "photos": self.photos,
        }


def visitor_id(request: HttpRequest) -> str:
    """The anonymous reader's id from their cookie, or "" (none or not ours).

    The cookie is signed: an id made up by the client (a new one per POST
    would be a new liker each time) is not one we gave out.
    """
    return visitor_from_cookie(request.COOKIES.get(VISITOR_COOKIE, ""))


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=VISITOR_SALT)


def visitor_from_cookie(value: str) -> str:
    try:
        visitor = _signer().unsign(value, max_age=VISITOR_COOKIE_AGE)
    except signing.BadSignature:
        return ""
    return visitor if _VISITOR_ID.match(visitor) else ""


def signed_visitor(visitor: str) -> str:
    """The cookie value that names `visitor`."""
    return _signer().sign(visitor)


def network_of(address: str | None) -> str:
    """Where a like comes from, for "one like per post per address a day":
    an IPv4 address, or the /64 an IPv6 address is in (one household or
    machine is handed a whole /64, so its addresses count as one)."""
    if not address:
        return "unknown"
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(ip)


TOO_MANY_LIKES = _(
    "Too many likes from your network in the last few minutes. Nothing was "
    "changed; please try again later."
)


class LikeRefused(Exception):
    """The like was not counted; the message says why."""


ALREADY_LIKED_HERE = _(
    "Someone on your network has already liked this post today; likes from "
    "one address count once a day. Nothing was changed."
)


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


def _of(target: Post | Page) -> dict:
    """The PostLike field that names `target`: a post or a page."""
    return {"page": target} if isinstance(target, Page) else {"post": target}


def like_url(target: Post | Page) -> str:
    name = "like_page" if isinstance(target, Page) else "like_post"
    return reverse(f"comments:{name}", args=[target.pk])


def like_summary(post: Post | Page, request: HttpRequest) -> LikeSummary:
    """Count, first liker names and the reader's own like, in one query.

    A reader who cannot have liked the post (anonymous, without our cookie)
    sees what every such reader sees: that summary is cached under the
    post's content version, which every like and unlike bumps.
    """
    mine = _owned_by(request)
    if mine is None:
        model_name = post._meta.model_name
        return pagecache.cached(
            "post-likes",
            model_name,
            post.pk,
            pagecache.version(),  # names of likers: accounts may change
            pagecache.version(pagecache.post_scope(post.pk, model_name)),
            build=lambda: _read_summary(post, None),
            slot=(model_name, post.pk),
        )
    return _read_summary(post, mine)


def widget(post: Post | Page, request: HttpRequest, csrf_input: str) -> SafeString:
    """The Like button and line of a public post or page
    (comments/_likes.html). A reader who cannot have liked it gets what every
    such reader gets but for `csrf_input` (what {% csrf_token %} writes):
    made once per post's content version, as the summary is."""

    def build() -> str:
        return stencils.render(
            "comments/_likes.html",
            {
                "show": True,
                "post": post,
                "like_url": like_url(post),
                "likes": like_summary(post, request),
            },
        )

    if _owned_by(request) is None:
        model_name = post._meta.model_name
        markup = pagecache.cached(
            "post-likes-widget",
            model_name,
            post.pk,
            pagecache.version(),
            pagecache.version(pagecache.post_scope(post.pk, model_name)),
            build=build,
            slot=(model_name, post.pk),
        )
    else:
        markup = build()
    return mark_safe(markup.format(csrf=csrf_input))


def _read_summary(post: Post | Page, mine: Q | None) -> LikeSummary:
    """Window aggregates run over every like of the post before LIMIT applies,
    so the page costs the same one query for no likes or for thousands."""
    rows = (
        PostLike.objects.filter(**_of(post))
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
            "total",
            "mine",
            "user__username",
            "user__first_name",
            "user__last_name",
            "user__email",
        )
    )[:NAMES_SHOWN]
    summary = LikeSummary()
    for row in rows:
        summary.count = row["total"]
        summary.liked = bool(row["mine"])
        if row["user__username"] is not None:
            name = name_from_parts(
                row["user__first_name"],
                row["user__last_name"],
                row["user__username"],
            )
            summary.names.append(name)
            email = row["user__email"] or ""
            summary.faces.append(avatars.identicon_url(email, name))
            summary.photos.append(avatars.gravatar_url(email, FACE_SIZE))
    return summary


def over_rate_limit(request: HttpRequest) -> bool:
    """Count this like or unlike against the IP's allowance; True when spent.

    Without the cache, the post likes saved from the IP in the window are
    counted instead.
    """
    ip_address = client_ip(request)

    def liked_since(start) -> int:
        return (
            PostLike.objects.filter(
                ip_address=ip_address, created_at__gte=start
            ).count()
            + 1
        )

    return not within_limit(
        "like", ip_address or "unknown", RATE_LIMIT, RATE_WINDOW, fallback=liked_since
    )


def set_like(
    post: Post | Page, request: HttpRequest, want: bool | None
) -> tuple[bool, str]:
    """Like (True), unlike (False) or toggle (None) the post for this reader.

    Returns whether the reader now likes the post and the new visitor id to
    store in their cookie ("" when none is needed).
    """
    mine = _owned_by(request)
    if want is None:
        want = mine is None or not PostLike.objects.filter(mine, **_of(post)).exists()
    if not want:
        if mine is not None:
            PostLike.objects.filter(mine, **_of(post)).delete()
        return False, ""
    new_visitor = ""
    address = client_ip(request)
    like = PostLike(**_of(post), ip_address=address, network=network_of(address))
    if request.user.is_authenticated:
        like.user = request.user
    else:
        if (
            mine is None or not PostLike.objects.filter(mine, **_of(post)).exists()
        ) and _liked_from(like.network, post):
            raise LikeRefused(ALREADY_LIKED_HERE)
        like.visitor = visitor_id(request) or secrets.token_urlsafe(24)
        new_visitor = "" if mine is not None else like.visitor
    try:
        with transaction.atomic():
            like.save()
    except IntegrityError:
        pass  # already liked (a double click or a second tab): still liked
    return True, new_visitor


def _liked_from(network: str, post: Post | Page) -> bool:
    """Whether an anonymous reader on `network` liked `post` in the last day."""
    return PostLike.objects.filter(
        **_of(post),
        user=None,
        network=network,
        created_at__gte=timezone.now() - timedelta(days=1),
    ).exists()


INTENTS = {"like": True, "unlike": False}


def _wants_json(request: HttpRequest) -> bool:
    """fetch() from static/js/likes.js asks for JSON; a plain form, a page."""
    return (
        request.get_preferred_type(["text/html", "application/json"])
        == "application/json"
    )


@require_POST
def like_post(request: HttpRequest, pk: int) -> HttpResponse:
    """A post's Like button: a plain form post, or fetch() asking for JSON."""
    return like(request, get_object_or_404(Post.objects.published(), pk=pk))


@require_POST
def like_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A page's Like button, as a post's."""
    return like(request, get_object_or_404(Page.objects.published(), pk=pk))


def like(request: HttpRequest, post: Post | Page) -> HttpResponse:
    wants_json = _wants_json(request)
    if over_rate_limit(request):
        message = gettext(TOO_MANY_LIKES)
        if wants_json:
            data = like_summary(post, request).as_json()
            return JsonResponse({**data, "message": message}, status=429)
        messages.error(request, message)
        return redirect(post.get_absolute_url() + "#likes")

    try:
        liked, new_visitor = set_like(
            post, request, INTENTS.get(request.POST.get("intent"))
        )
    except LikeRefused as refusal:
        if wants_json:
            data = like_summary(post, request).as_json()
            return JsonResponse({**data, "message": str(refusal)}, status=429)
        messages.error(request, str(refusal))
        return redirect(post.get_absolute_url() + "#likes")
    message = (
        gettext("Thanks for the like!") if liked else gettext("Your like was removed.")
    )
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
            signed_visitor(new_visitor),
            max_age=VISITOR_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        )
    return response


@dataclass
class CommentLike:
    """One comment's likes, as its thread item and the JSON answer show them."""

    count: int
    liked: bool = False
    can_like: bool = False
    url: str = ""

    @property
    def line(self) -> str:
        if self.count == 0:
            return ""
        return ngettext(
            "Liked by %(count)s person", "Liked by %(count)s people", self.count
        ) % {"count": number_format(self.count, force_grouping=True)}

    # Ready-made attribute values for the thread's markup (comments/threads.py).
    @property
    def pressed(self) -> str:
        return "true" if self.liked else "false"

    @property
    def intent(self) -> str:
        return "unlike" if self.liked else "like"

    def as_json(self) -> dict:
        return {"count": self.count, "liked": self.liked, "line": self.line}


def attach_comment_likes(post: Post, comments: list, request: HttpRequest) -> None:
    """Set `like` (a CommentLike) on each comment of a discussion page.

    One query for the likes of every comment on the post and the reader's
    own, run even for a post without comments, so that the page's query count
    stays the same whatever the discussion.
    """
    user = request.user
    rows = (
        CommentFlag.objects.filter(
            flag=LIKEDIT_FLAG,
            comment_id__in=Comment.objects.for_post(post).values("pk"),
        )
        .values("comment_id")
        .annotate(
            count=Count("pk"),
            mine=Max(Case(When(user_id=user.pk, then=Value(1)), default=Value(0)))
            if user.is_authenticated
            else Value(0),
        )
        .order_by()
    )
    found = {row["comment_id"]: row for row in rows}
    can_like = user.is_authenticated and post.is_public
    url = url_pattern("comments:like_comment", "comment_id")
    for comment in comments:
        row = found.get(comment.pk, {})
        comment.like = CommentLike(
            count=row.get("count", 0),
            liked=bool(row.get("mine")),
            can_like=can_like,
            url=url.format(comment.pk),
        )


def set_comment_like(comment: Comment, user, want: bool | None) -> bool:
    """Like (True), unlike (False) or toggle (None) a comment for `user`.

    As django-comments-xtd's own feedback does, a like replaces a dislike.
    """
    mine = CommentFlag.objects.filter(comment=comment, user=user, flag=LIKEDIT_FLAG)
    if want is None:
        want = not mine.exists()
    if not want:
        mine.delete()
        return False
    try:
        with transaction.atomic():
            CommentFlag.objects.create(comment=comment, user=user, flag=LIKEDIT_FLAG)
    except IntegrityError:
        pass  # already liked
    CommentFlag.objects.filter(
        comment=comment, user=user, flag=DISLIKEDIT_FLAG
    ).delete()
    return True


@require_POST
def like_comment(request: HttpRequest, comment_id: int) -> HttpResponse:
    """A comment's Like button, for signed-in readers; form post or JSON."""
    comment = get_object_or_404(
        Comment.objects.approved().for_targets().select_related("content_type"),
        pk=comment_id,
    )
    model = TARGET_MODELS[comment.content_type.model]
    get_object_or_404(model.objects.published(), pk=comment.object_pk)
    wants_json = _wants_json(request)
    back = reverse("comments:permalink", args=[comment.pk])

    def refused(message: str, status: int) -> HttpResponse:
        if wants_json:
            return JsonResponse({"message": message}, status=status)
        messages.error(request, message)
        return redirect(back)

    if not request.user.is_authenticated:
        return refused(gettext("Sign in to like comments."), 403)
    if over_rate_limit(request):
        return refused(gettext(TOO_MANY_LIKES), 429)
    liked = set_comment_like(
        comment, request.user, INTENTS.get(request.POST.get("intent"))
    )
    message = (
        gettext("Thanks for the like!") if liked else gettext("Your like was removed.")
    )
    if wants_json:
        count = CommentFlag.objects.filter(comment=comment, flag=LIKEDIT_FLAG).count()
        data = CommentLike(count=count, liked=liked).as_json()
        return JsonResponse({**data, "message": message})
    messages.success(request, message)
    return redirect(back)
