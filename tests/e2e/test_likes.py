"""A reader likes a post in a real browser, with and without JavaScript."""

from urllib.parse import urlsplit

from django.test import Client
from django_comments.models import CommentFlag
from playwright.sync_api import expect

from comments.models import PostLike
from tests.factories import make_comment, make_post, make_user


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
        # The shared page has no token for this reader: one more press, on
        # a page that has one.
        expect(page.get_by_role("heading", level=1)).to_have_text("Like this post?")
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


def test_signed_in_reader_likes_a_comment_in_place(
    page, live_server, axe, browser_watch
):
    post = make_post(title="A discussed post")
    comment = make_comment(post=post, name="Ada", body="Well said.")
    make_comment(post=post, name="Brian", body="I disagree.")
    reader = make_user(username="reader")
    signed_in = Client()
    signed_in.force_login(reader)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": signed_in.cookies["sessionid"].value,
                "domain": urlsplit(live_server.url).hostname,
                "path": "/",
            }
        ]
    )
    page.goto(post.get_absolute_url())
    page.evaluate("window.stillTheSamePage = true")
    item = page.locator(f"#c{comment.pk}")
    button = item.get_by_role("button", name="Like the comment by Ada")
    expect(button).to_have_attribute("aria-pressed", "false")

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(item.locator(".comment-like__line")).to_have_text("Liked by 1 person")
    assert page.evaluate("window.stillTheSamePage") is True
    assert CommentFlag.objects.filter(comment=comment, user=reader).count() == 1
    assert axe(page, "comment-liked") == []
    browser_watch.assert_clean()
