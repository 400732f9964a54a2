"""A reader likes a post in a real browser, with and without JavaScript."""

from playwright.sync_api import expect

from comments.models import PostLike
from tests.factories import make_post, make_user


def test_like_button_updates_in_place(page, live_server, axe, browser_watch):
    post = make_post(title="Liked in place")
    PostLike.objects.create(
        post=post, user=make_user(username="grace", first_name="Grace")
    )
    page.goto(post.get_absolute_url())
    # A marker that a full page load would wipe out.
    page.evaluate("window.stillTheSamePage = true")
    button = page.get_by_role("button", name="Like")
    line = page.locator(".likes__line")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(line).to_have_text("1 blogger likes this.")
    expect(page.locator(".likes__names li")).to_have_text(["Grace"])

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(line).to_have_text("2 bloggers like this.")
    expect(page.get_by_role("status")).to_have_text("Thanks for the like!")
    assert page.evaluate("window.stillTheSamePage") is True
    assert PostLike.objects.filter(post=post).count() == 2
    cookie = next(c for c in page.context.cookies() if c["name"] == "inkwell_visitor")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert axe(page, "likes-liked") == []

    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(line).to_have_text("1 blogger likes this.")
    assert page.evaluate("window.stillTheSamePage") is True
    assert PostLike.objects.filter(post=post).count() == 1
    browser_watch.assert_clean()


def test_like_button_works_without_javascript(browser, live_server):
    post = make_post(title="Liked the old way")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(post.get_absolute_url())
        page.get_by_role("button", name="Like").click()
        page.wait_for_url(f"**{post.get_absolute_url()}#likes")
        expect(page.locator(".messages")).to_have_text("Thanks for the like!")
        expect(page.locator(".likes__line")).to_have_text("1 blogger likes this.")
        expect(page.get_by_role("button", name="Like")).to_have_attribute(
            "aria-pressed", "true"
        )
    finally:
        context.close()
    assert PostLike.objects.filter(post=post).count() == 1
