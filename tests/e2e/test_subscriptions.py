"""A reader subscribes to new posts in a real browser: the footer's form,
the confirmation from the mailed link, a new post's mail, the manage page
and one-click unsubscribe from that mail; then the subscribe page without
JavaScript. Every new page is checked with axe and the Nu checker.

Mail is Django's locmem outbox (tasks run as they are enqueued,
tests/conftest.py); the post is published as the admin does, so its mail
goes when the save commits.
"""

from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from blog.models import Subscriber
from tests.e2e.test_accessibility import serious
from tests.e2e.test_flows_reader import link_in
from tests.factories import make_category, make_post


def test_reader_subscribes_confirms_gets_a_post_and_unsubscribes(
    page, live_server, mailoutbox, axe, html_checker
):
    make_category(name="Health")
    page.goto("/subscribe/")
    subscribe_violations = serious(axe(page, "subscribe"))
    page.goto("/")
    footer = page.locator(".footer-subscribe")
    footer.get_by_role("textbox", name="New posts by email").fill("ada@example.com")
    footer.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    done_html = page.content()
    done_violations = serious(axe(page, "subscribe-done"))
    assert Subscriber.objects.get().state == Subscriber.State.PENDING

    [confirmation] = mailoutbox
    response = page.goto(link_in(confirmation, "/subscribe/confirm/"))
    confirm_html = response.text()
    confirm_violations = serious(axe(page, "subscription-confirm"))
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your subscription")
    manage_html = page.content()
    manage_violations = serious(axe(page, "subscription-manage"))
    assert Subscriber.objects.get().state == Subscriber.State.CONFIRMED

    mailoutbox.clear()
    with transaction.atomic():
        post = make_post(title="Back Spasm Symptoms", published_at=timezone.now())
    [new_post] = mailoutbox
    assert new_post.subject == "Back Spasm Symptoms"
    assert post.get_absolute_url() in new_post.body
    unsubscribe = link_in(new_post, "/subscribe/unsubscribe/")
    assert new_post.extra_headers["List-Unsubscribe"].endswith(f"{unsubscribe}>")

    response = page.goto(unsubscribe)
    unsubscribe_html = response.text()
    unsubscribe_violations = serious(axe(page, "subscription-unsubscribe"))
    assert Subscriber.objects.get().state == Subscriber.State.CONFIRMED
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    unsubscribed_html = page.content()
    assert Subscriber.objects.get().state == Subscriber.State.UNSUBSCRIBED

    page.get_by_role("link", name="Changed your mind? Subscribe again").click()
    expect(page.get_by_role("button", name="Subscribe again")).to_be_visible()
    resubscribe_html = page.content()

    assert subscribe_violations == []
    assert done_violations == []
    assert confirm_violations == []
    assert manage_violations == []
    assert unsubscribe_violations == []
    assert (
        html_checker(
            {
                "subscribe-done": done_html,
                "subscription-confirm": confirm_html,
                "subscription-manage": manage_html,
                "subscription-unsubscribe": unsubscribe_html,
                "subscription-unsubscribed": unsubscribed_html,
                "subscription-resubscribe": resubscribe_html,
            }
        )
        == ""
    )


def test_the_subscribe_page_works_without_javascript(
    browser, live_server, mailoutbox, axe, html_checker
):
    """Without script the footer's empty token fails the CSRF check once:
    the page comes back with the address and a token, and the second press
    subscribes."""
    make_category(name="Health")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/subscribe/")
        subscribe_html = page.content()
        page.get_by_role("textbox", name="Your email address").fill("ada@example.com")
        page.get_by_role("checkbox", name="Health").check()
        page.locator(".subscribe-form").get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("alert")).to_contain_text("Press Subscribe again")
        again_html = page.content()
        page.locator(".subscribe-form").get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    finally:
        context.close()
    subscriber = Subscriber.objects.get()
    assert [c.name for c in subscriber.categories.all()] == ["Health"]
    assert len(mailoutbox) == 1
    assert (
        html_checker({"subscribe": subscribe_html, "subscribe-again": again_html}) == ""
    )
