"""Leave a Reply in a real browser: reply in place, the plain reply page,
and the discussion's accessibility and HTML validity."""

from playwright.sync_api import expect

from comments.models import Comment
from tests.factories import make_comment, make_post, make_user


def discussion(settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    author = make_user(username="writer", first_name="Wendy", last_name="Writer")
    post = make_post(title="Talk to me", author=author)
    first = make_comment(post=post, name="Ada", body="A *first* thought.")
    reply = make_comment(parent=first, user=author, body="The author answers.")
    make_comment(parent=reply, name="Ada", body="Thanks!")
    make_comment(post=post, name="Linus", body="Another thread.")
    return post, first


def test_reply_moves_the_form_under_the_comment_and_posts_there(
    page, live_server, settings, axe, lenient_moderation
):
    post, first = discussion(settings)
    page.goto(post.get_absolute_url())
    assert axe(page, "comments-thread") == []

    page.get_by_role("link", name="Reply to Ada").first.click()
    respond = page.locator(f"#c{first.pk} > #respond")
    expect(respond).to_be_visible()
    expect(page.locator("#reply-title")).to_have_text("Leave a Reply to Ada")
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_be_focused()
    cancel = page.get_by_role("link", name="Cancel reply")
    expect(cancel).to_be_visible()

    cancel.click()
    expect(page.locator(f"#c{first.pk} > #respond")).to_have_count(0)
    expect(page.locator("#reply-title")).to_have_text("Leave a Reply")
    expect(cancel).to_be_hidden()

    page.get_by_role("link", name="Reply to Ada").first.click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Grace")
    page.get_by_role("textbox", name="Email", exact=True).fill("grace@example.com")
    page.get_by_role("textbox", name="Comment", exact=True).fill("Replying in place.")
    page.get_by_role("button", name="Post Comment").click()
    new = Comment.objects.get(comment="Replying in place.")
    page.wait_for_url(f"**{post.get_absolute_url()}?cpage=1#c{new.pk}")
    assert new.parent_id == first.pk
    expect(page.locator(f"#c{first.pk} #c{new.pk}")).to_contain_text(
        "Replying in place."
    )


def test_reply_page_works_without_javascript(
    browser, live_server, settings, lenient_moderation
):
    post, first = discussion(settings)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(post.get_absolute_url())
        page.get_by_role("link", name="Reply to Ada").first.click()
        page.wait_for_url(f"**/comments/reply/{first.pk}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Reply to Ada")
        page.get_by_role("textbox", name="Name", exact=True).fill("Grace")
        page.get_by_role("textbox", name="Email", exact=True).fill("grace@example.com")
        page.get_by_role("textbox", name="Comment", exact=True).fill(
            "No script needed."
        )
        page.get_by_role("button", name="Post Comment").click()
        expect(
            page.locator(".comment__content", has_text="No script needed.")
        ).to_be_visible()
    finally:
        context.close()
    assert Comment.objects.get(comment="No script needed.").parent_id == first.pk


def test_form_with_errors_is_accessible_and_valid(
    page, live_server, settings, axe, html_checker, browser_watch
):
    post, _ = discussion(settings)
    page.goto(post.get_absolute_url())
    thread_html = page.content()
    page.get_by_role("textbox", name="Comment", exact=True).fill("Forgot my name.")
    browser_watch.expect_status("/comments/post/", 400)
    page.get_by_role("button", name="Post Comment").click()
    expect(page.get_by_text("Please give your name.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Forgot my name."
    )
    errors_html = page.content()  # before axe adds its script
    assert axe(page, "comments-form-errors") == []
    assert (
        html_checker({"comments-thread": thread_html, "comments-errors": errors_html})
        == ""
    )
