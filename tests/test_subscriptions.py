"""Subscriptions to new posts by email: subscribing with double opt-in,
the reader's own subscription page, one-click unsubscribe (#20.3).

The mailing of new posts is tests/test_subscription_mailing.py's.
"""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from blog.models import Subscriber
from blog.subscriptions import tokens
from tests.factories import (
    comment_form_data,
    make_category,
    make_post,
    make_subscriber,
)

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/subscribe/"


def link_in(mail, path: str) -> str:
    """The path of the one link to `path` in a mail's text part."""
    urls = set(re.findall(rf"https?://[^\s/]+({re.escape(path)}\S+/)", mail.body))
    assert len(urls) == 1, mail.body
    return urls.pop()


# The form


def test_every_page_has_the_subscription_form_in_its_footer(client):
    post = make_post(title="Spasms")
    for url in ("/", post.get_absolute_url(), "/search/?q=spasm"):
        page = client.get(url).content.decode()
        footer = page[page.index('<footer class="site-footer">') :]
        assert 'action="/subscribe/"' in footer, url
        assert 'name="email"' in footer, url


def test_the_footer_form_keeps_cached_pages_the_same_for_every_reader(client):
    """The page cache stores the page with an empty token: no cookie, and
    the second reader gets the first reader's bytes."""
    post = make_post()
    first = client.get(post.get_absolute_url())
    second = Client().get(post.get_absolute_url())
    assert "csrftoken" not in first.cookies
    assert "csrftoken" not in second.cookies
    assert first.content == second.content
    assert b'name="csrfmiddlewaretoken" value=""' in first.content


def test_subscribing_sends_a_confirmation_link_and_subscribes_no_one_yet(
    client, mailoutbox
):
    response = client.post(SUBSCRIBE, {"email": " Ada@Example.com "})

    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "ada@example.com"
    assert subscriber.state == Subscriber.State.PENDING
    assert subscriber.confirmed_at is None
    [mail] = mailoutbox
    assert mail.to == ["ada@example.com"]
    assert mail.subject == "Please confirm your subscription to Inkwell"
    assert "/subscribe/confirm/" in mail.alternatives[0][0]


def test_the_confirmation_link_shows_a_button_and_only_the_button_confirms(
    client, mailoutbox
):
    client.post(SUBSCRIBE, {"email": "ada@example.com"})
    confirm = link_in(mailoutbox[0], "/subscribe/confirm/")

    page = client.get(confirm)  # a mail scanner opening the link
    assert page.status_code == 200
    assert "Confirm my subscription" in page.content.decode()
    assert Subscriber.objects.get().state == Subscriber.State.PENDING

    response = client.post(confirm)
    subscriber = Subscriber.objects.get()
    assert subscriber.state == Subscriber.State.CONFIRMED
    assert subscriber.confirmed_at is not None  # the consent date
    assert response.status_code == 302
    assert response["Location"].startswith("/subscribe/manage/")
    assert "already subscribed" in client.get(confirm).content.decode()


def test_an_invalid_or_expired_confirmation_link_says_so(client, mailoutbox, settings):
    client.post(SUBSCRIBE, {"email": "ada@example.com"})
    confirm = link_in(mailoutbox[0], "/subscribe/confirm/")

    assert client.get(confirm[:-3] + "x/").status_code == 400
    later = signing.time.time() + settings.INKWELL_SUBSCRIPTION_CONFIRMATION_MAX_AGE
    with mock.patch("django.core.signing.time.time", return_value=later + 60):
        expired = client.post(confirm)
    assert expired.status_code == 410
    assert "This link has expired" in expired.content.decode()
    assert Subscriber.objects.get().state == Subscriber.State.PENDING


def test_a_link_made_for_another_address_does_not_work(client):
    subscriber = make_subscriber(state=Subscriber.State.PENDING)
    token = tokens.make_confirmation_token(subscriber)
    subscriber.email = "someone-else@example.com"
    subscriber.save()
    assert client.post(f"/subscribe/confirm/{token}/").status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.state == Subscriber.State.PENDING


def test_a_bad_address_is_refused_with_a_message(client, mailoutbox):
    response = client.post(SUBSCRIBE, {"email": "not an address"})
    assert response.status_code == 400
    assert "does not look like an email address" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert mailoutbox == []


def test_a_subscribed_address_gets_no_mail_and_keeps_its_categories(client, mailoutbox):
    health, news = make_category(name="Health"), make_category(name="News")
    make_subscriber(email="ada@example.com", categories=[health])

    response = client.post(
        SUBSCRIBE, {"email": "ada@example.com", "categories": [news.pk]}
    )

    # The same answer as for a new address: the form tells nobody who is in.
    assert "Check your inbox" in response.content.decode()
    assert mailoutbox == []
    subscriber = Subscriber.objects.get()
    assert subscriber.state == Subscriber.State.CONFIRMED
    assert list(subscriber.categories.all()) == [health]


def test_the_confirmation_mail_is_rate_limited_per_address(
    client, mailoutbox, settings
):
    settings.INKWELL_CONFIRMATION_MAILS_PER_ADDRESS = 2
    for number in range(4):
        response = client.post(
            SUBSCRIBE,
            {"email": "victim@example.com"},
            REMOTE_ADDR=f"198.51.100.{number}",
        )
        assert response.status_code == 200
    assert len(mailoutbox) == 2


def test_the_confirmation_mail_is_rate_limited_per_ip(client, mailoutbox, settings):
    settings.INKWELL_CONFIRMATION_MAILS_PER_IP = 3
    for number in range(5):
        client.post(SUBSCRIBE, {"email": f"person{number}@example.com"})
    assert len(mailoutbox) == 3


def test_the_rate_limit_holds_without_the_cache(
    cache_down, client, mailoutbox, settings
):
    """Redis away: the counts kept on the subscriber rows stand in."""
    settings.INKWELL_CONFIRMATION_MAILS_PER_ADDRESS = 2
    settings.INKWELL_CONFIRMATION_MAILS_PER_IP = 4
    for _ in range(3):
        client.post(SUBSCRIBE, {"email": "victim@example.com"})
    assert len(mailoutbox) == 2
    for number in range(3):
        client.post(SUBSCRIBE, {"email": f"person{number}@example.com"})
    # The IP's fourth ask (refused ones count) is its last one let through.
    assert len(mailoutbox) == 3


def test_categories_asked_for_are_kept_until_confirmation(client, mailoutbox):
    health = make_category(name="Health")
    make_category(name="News")
    client.post(SUBSCRIBE, {"email": "ada@example.com", "categories": [health.pk]})
    assert "Only posts in: Health" in mailoutbox[0].body
    client.post(link_in(mailoutbox[0], "/subscribe/confirm/"))
    assert list(Subscriber.objects.get().categories.all()) == [health]


def test_the_subscribe_page_lists_the_categories_to_choose_from(client):
    make_category(name="Health")
    page = client.get(SUBSCRIBE).content.decode()
    assert "Only posts in these categories" in page
    assert ">Health</label>" in page


def test_a_category_page_leads_to_the_form_with_its_category_ticked(client):
    health = make_category(name="Health", slug="health")
    news = make_category(name="News", slug="news")
    make_post(category=health)
    page = client.get(health.get_absolute_url()).content.decode()
    assert 'href="/subscribe/?category=health"' in page
    assert "New posts in Health by email" in page

    form = client.get("/subscribe/?category=health").content.decode()

    def box(category) -> str:
        [found] = re.findall(rf'<input[^>]*value="{category.pk}"[^>]*>', form)
        return found

    assert "checked" in box(health)
    assert "checked" not in box(news)


def test_without_javascript_the_form_comes_back_with_the_address_and_a_token(
    mailoutbox,
):
    """The footer form of a cached page has an empty token: the first press
    comes back ready to send, the second subscribes."""
    browser = Client(enforce_csrf_checks=True)
    browser.get("/")
    response = browser.post(
        SUBSCRIBE, {"email": "ada@example.com", "csrfmiddlewaretoken": ""}
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "Press Subscribe again" in page
    assert 'value="ada@example.com"' in page
    [token] = re.findall(
        r'<form class="subscribe-form".*?name="csrfmiddlewaretoken" value="([^"]+)"',
        page,
        re.DOTALL,
    )
    again = browser.post(
        SUBSCRIBE, {"email": "ada@example.com", "csrfmiddlewaretoken": token}
    )
    assert again.status_code == 200
    assert len(mailoutbox) == 1


# Leave a Reply


def test_ticking_subscribe_in_leave_a_reply_asks_the_commenter_to_confirm(
    client, mailoutbox, lenient_moderation
):
    post = make_post()
    client.post(reverse("comments:post"), comment_form_data(post, subscribe="on"))
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "ada@example.com"
    assert subscriber.state == Subscriber.State.PENDING
    assert subscriber.source == Subscriber.Source.COMMENT
    [mail] = [m for m in mailoutbox if "subscription" in m.subject]
    assert mail.to == ["ada@example.com"]


def test_leave_a_reply_without_the_box_ticked_subscribes_no_one(
    client, mailoutbox, lenient_moderation
):
    post = make_post()
    client.post(reverse("comments:post"), comment_form_data(post))
    assert not Subscriber.objects.exists()


def test_the_box_ticked_without_an_address_subscribes_no_one(
    client, mailoutbox, lenient_moderation
):
    """A signed-in reader whose account has no email address."""
    from comments.models import Comment
    from tests.factories import make_user

    client.force_login(make_user(email=""))
    post = make_post()
    client.post(reverse("comments:post"), comment_form_data(post, subscribe="on"))
    assert Comment.objects.get().user_email == ""  # the comment went in
    assert not Subscriber.objects.exists()


def test_leave_a_reply_offers_the_box(client):
    page = client.get(make_post().get_absolute_url()).content.decode()
    assert "Email me new posts too (I will confirm by email)." in page


# The reader's own subscription


def manage_url(subscriber) -> str:
    return f"/subscribe/manage/{tokens.make_manage_token(subscriber)}/"


def unsubscribe_url(subscriber) -> str:
    return f"/subscribe/unsubscribe/{tokens.make_manage_token(subscriber)}/"


def test_the_manage_page_changes_the_categories(client):
    health, news = make_category(name="Health"), make_category(name="News")
    subscriber = make_subscriber(categories=[health])
    page = client.get(manage_url(subscriber))
    assert page.status_code == 200
    assert "no-cache" in page["Cache-Control"]

    client.post(
        manage_url(subscriber), {"action": "categories", "categories": [news.pk]}
    )
    assert list(subscriber.categories.all()) == [news]
    client.post(manage_url(subscriber), {"action": "categories"})
    assert not subscriber.categories.exists()  # every post again


def test_the_manage_page_unsubscribes_and_subscribes_again(client):
    subscriber = make_subscriber(confirmed_at=None)
    first_consent = subscriber.confirmed_at

    client.post(manage_url(subscriber), {"action": "unsubscribe"})
    subscriber.refresh_from_db()
    assert subscriber.state == Subscriber.State.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    assert "Subscribe again" in client.get(manage_url(subscriber)).content.decode()

    client.post(manage_url(subscriber), {"action": "resubscribe"})
    subscriber.refresh_from_db()
    assert subscriber.state == Subscriber.State.CONFIRMED
    assert subscriber.confirmed_at > first_consent  # consent given anew


def test_one_click_unsubscribe_works_without_cookie_or_csrf_token():
    """RFC 8058: the mail program POSTs List-Unsubscribe=One-Click."""
    subscriber = make_subscriber()
    mail_program = Client(enforce_csrf_checks=True)
    response = mail_program.post(
        unsubscribe_url(subscriber),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.state == Subscriber.State.UNSUBSCRIBED


def test_opening_the_unsubscribe_link_only_asks(client):
    subscriber = make_subscriber()
    page = client.get(unsubscribe_url(subscriber))
    assert page.status_code == 200
    assert "Unsubscribe from new posts?" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.state == Subscriber.State.CONFIRMED


def test_an_altered_unsubscribe_link_does_nothing(client):
    subscriber = make_subscriber()
    token = tokens.make_manage_token(subscriber)
    response = client.post(f"/subscribe/unsubscribe/{token[:-2]}xx/")
    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.state == Subscriber.State.CONFIRMED


def test_the_unsubscribe_link_does_not_expire(client):
    subscriber = make_subscriber()
    url = unsubscribe_url(subscriber)
    years = signing.time.time() + timedelta(days=3650).total_seconds()
    with mock.patch("django.core.signing.time.time", return_value=years):
        assert client.post(url).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.state == Subscriber.State.UNSUBSCRIBED
