"""The subscription pages: the form, and the pages behind the mailed links.

Opening a mailed link (GET) only shows a page with a button; the button
(POST) acts, because mail scanners and link previews fetch links. The one
exception is RFC 8058's one-click unsubscribe: mail programs POST to the
List-Unsubscribe address with no cookie and no CSRF token, so that view is
CSRF-exempt; its signed token is what authenticates it, and all it can do
is stop mail.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from blog import tokens as link_tokens
from blog.models import Category
from blog.subscriptions import tokens
from blog.subscriptions.forms import CategoriesForm, SubscribeForm
from blog.subscriptions.models import Subscriber
from blog.subscriptions.optin import request_subscription


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """The form on a page of its own (the footer's form sends here too)."""
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        if form.is_valid():
            request_subscription(
                form.cleaned_data["email"],
                ip_address=request.META.get("REMOTE_ADDR"),
                categories=list(form.cleaned_data["categories"]),
            )
            response = render(
                request,
                "blog/subscriptions/subscribe_done.html",
                {"email": form.cleaned_data["email"]},
            )
            patch_cache_control(response, private=True)
            return response
        return form_page(request, form, status=400)
    # From a category's page: that category ticked.
    chosen = Category.objects.filter(slug=request.GET.get("category", ""))
    return form_page(request, SubscribeForm(initial={"categories": chosen}))


def form_page(
    request: HttpRequest, form: SubscribeForm, *, problem: str = "", status: int = 200
) -> HttpResponse:
    response = render(
        request,
        "blog/subscriptions/subscribe.html",
        {"form": form, "problem": problem},
        status=status,
    )
    if status != 200:
        patch_cache_control(response, private=True)
    return response


def subscribe_again(request: HttpRequest, *, sent_without_token: bool) -> HttpResponse:
    """The form sent back with the reader's address and a token, when it
    failed the CSRF check (comments.views.csrf_failure sends it here): the
    page it came from was the shared copy (without JavaScript nothing fills
    its token in), or the security cookie had gone."""
    form = SubscribeForm(request.POST)
    form.is_valid()
    problem = (
        _(
            "One more step: without JavaScript your browser needs a second "
            "press to pass this site's security check. Press Subscribe again."
        )
        if sent_without_token
        else _(
            "Your browser's security check for this site had expired. Press "
            "Subscribe again."
        )
    )
    return form_page(request, form, problem=problem, status=403)


invalid_link = functools.partial(
    link_tokens.invalid_link, template="blog/subscriptions/link_invalid.html"
)


@require_http_methods(["GET", "POST"])
@never_cache  # one reader's link: never in the shared cache
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = tokens.confirming(token)
    except tokens.ExpiredToken:
        return invalid_link(request, expired=True)
    except tokens.InvalidToken:
        return invalid_link(request)
    manage_url = manage_path(subscriber)
    if request.method == "POST":
        with transaction.atomic():
            subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
            if subscriber.state != Subscriber.State.CONFIRMED:
                subscriber.confirm()
        return redirect(manage_url)
    return render(
        request,
        "blog/subscriptions/confirm.html",
        {"subscriber": subscriber, "manage_url": manage_url},
    )


def manage_path(subscriber: Subscriber) -> str:
    return reverse(
        "blog:subscription_manage", args=[tokens.make_manage_token(subscriber)]
    )


@require_http_methods(["GET", "POST"])
@never_cache
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """The reader's own subscription: its categories, stop, start again."""
    try:
        subscriber = tokens.managing(token)
    except tokens.InvalidToken:
        return invalid_link(request)
    form = CategoriesForm(initial={"categories": subscriber.categories.all()})
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "unsubscribe":
            subscriber.unsubscribe()
            messages.success(
                request, _("You are unsubscribed: no more new posts by email.")
            )
            return redirect(request.path)
        if action == "resubscribe":
            # The link proves the address is theirs: consent given anew, now.
            subscriber.confirm()
            messages.success(request, _("You are subscribed again."))
            return redirect(request.path)
        form = CategoriesForm(request.POST)
        if form.is_valid():
            subscriber.categories.set(form.cleaned_data["categories"])
            messages.success(request, _("Your choice of posts is saved."))
            return redirect(request.path)
    return render(
        request,
        "blog/subscriptions/manage.html",
        {"subscriber": subscriber, "form": form},
        status=400 if form.errors else 200,
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The List-Unsubscribe address: a page with a button; a POST (that
    button, or the mail program's one-click) unsubscribes at once."""
    try:
        subscriber = tokens.managing(token)
    except tokens.InvalidToken:
        return invalid_link(request)
    context = {"subscriber": subscriber, "manage_url": manage_path(subscriber)}
    if request.method == "POST":
        subscriber.unsubscribe()
        return render(request, "blog/subscriptions/unsubscribe_done.html", context)
    return render(request, "blog/subscriptions/unsubscribe.html", context)
