"""A moderator works the queue in the admin; each result is checked on the
public post page: an approved reply appears nested under its parent, a
comment marked as spam disappears, and a banned commenter's next comment
never shows; a held reply is approved from the link in the moderators' mail."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from comments.models import Ban, Comment
from tests.e2e.test_accessibility import serious
from tests.factories import make_comment, make_post, make_user


def run_action(page: Page, comment: Comment, action: str) -> None:
    page.locator(f"input[name=_selected_action][value='{comment.pk}']").check()
    page.locator("select[name=action]").select_option(action)
    page.get_by_role("button", name="Go").click()


def test_moderator_approves_spams_and_bans_from_the_queue(
    page, browser, live_server, browser_watch, lenient_moderation
):
    browser_watch.expect_status("/favicon.ico", 404)
    make_user(username="mod", groups=("Moderators",))
    post = make_post(title="Held back")
    parent = make_comment(post=post, name="Ada", body="First!")
    held = make_comment(
        parent=parent, name="Grace", body="A held reply.", state=Comment.State.HELD
    )
    rude = make_comment(post=post, name="Troll", email="troll@example.net")

    reader = browser.new_context(base_url=live_server.url)
    anonymous = reader.new_page()
    try:
        anonymous.goto(post.get_absolute_url())
        expect(anonymous.get_by_text("A held reply.")).to_have_count(0)

        page.goto("/admin/")
        page.get_by_label("Username").fill("mod")
        page.get_by_label("Password").fill("a-long-test-password")
        page.get_by_role("button", name="Log in").click()
        page.goto("/admin/comments/comment/")
        # The queue opens on Pending, which holds just the held reply.
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        expect(page.locator("#result_list")).to_contain_text("A held reply.")
        run_action(page, held, "approve")
        expect(page.locator(".messagelist")).to_contain_text("Approve: 1 comment.")
        held.refresh_from_db()
        assert held.state == Comment.State.PUBLIC

        anonymous.goto(post.get_absolute_url())
        expect(
            anonymous.locator(f"#c{parent.pk} .comment-list #c{held.pk}")
        ).to_contain_text("A held reply.")

        page.goto("/admin/comments/comment/?state=public")
        run_action(page, rude, "spam")
        expect(page.locator(".messagelist")).to_contain_text("Mark as spam: 1 comment.")
        anonymous.goto(post.get_absolute_url())
        expect(anonymous.locator(f"#c{rude.pk}")).to_have_count(0)

        page.goto("/admin/comments/comment/?state=spam")
        run_action(page, rude, "ban_commenters")
        expect(page.locator(".messagelist")).to_contain_text("Banned 1 commenter")
        assert Ban.objects.filter(email__iexact="troll@example.net").exists()

        # The banned address comments again: kept as spam, never shown.
        anonymous.goto(post.get_absolute_url())
        anonymous.get_by_role("textbox", name="Name", exact=True).fill("Troll")
        anonymous.get_by_role("textbox", name="Email", exact=True).fill(
            "troll@example.net"
        )
        anonymous.get_by_role("textbox", name="Comment", exact=True).fill("Again!")
        anonymous.get_by_role("button", name="Post Comment").click()
        expect(anonymous.locator(".messages")).to_be_visible()
        expect(anonymous.get_by_text("Again!")).to_have_count(0)
        assert Comment.objects.get(comment="Again!").state == Comment.State.SPAM
    finally:
        reader.close()


def test_moderator_approves_a_held_reply_from_the_email_link(
    page, settings, mailoutbox, axe, html_checker
):
    """A first-time commenter's reply is held and mailed to the moderators;
    the Approve link shows the comment and a button, and only the button
    publishes it, nested under its parent."""
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    settings.INKWELL_COMMENT_MIN_SECONDS = 0
    make_user(username="mod", groups=("Moderators",))
    post = make_post(title="Ask the moderator")
    parent = make_comment(post=post, name="Ada", body="First!")

    page.goto(post.get_absolute_url())
    page.get_by_role("link", name="Reply to Ada").first.click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Grace")
    page.get_by_role("textbox", name="Email", exact=True).fill("grace@example.com")
    page.get_by_role("textbox", name="Comment", exact=True).fill("New here, hello.")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".messages")).to_contain_text("awaiting moderation")
    reply = Comment.objects.get(comment="New here, hello.")
    assert reply.state == Comment.State.HELD

    [mail] = [m for m in mailoutbox if m.to == ["mod@example.com"]]
    [approve] = re.findall(r"^Approve it: (\S+)$", mail.body, re.MULTILINE)
    response = page.goto(urlsplit(approve).path)
    moderate_html = response.text()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve this comment?")
    violations = serious(axe(page, "moderate-from-email"))
    reply.refresh_from_db()
    assert reply.state == Comment.State.HELD  # opening the link did nothing
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Done")
    done_html = page.content()
    page.get_by_role("link", name="See it on the site").click()
    expect(page.locator(f"#c{parent.pk} .comment-list #c{reply.pk}")).to_contain_text(
        "New here, hello."
    )

    assert violations == []
    assert (
        html_checker({"moderate-from-email": moderate_html, "moderated": done_html})
        == ""
    )
