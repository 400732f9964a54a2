"""A moderator works the queue in the admin; each result is checked on the
public post page: an approved reply appears nested under its parent, a
comment marked as spam disappears, and a banned commenter's next comment
never shows."""

from playwright.sync_api import Page, expect

from comments.models import Ban, Comment
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
        expect(page.locator(".messagelist")).to_contain_text("Approve: 1 comment(s).")
        held.refresh_from_db()
        assert held.state == Comment.State.PUBLIC

        anonymous.goto(post.get_absolute_url())
        expect(
            anonymous.locator(f"#c{parent.pk} .comment-list #c{held.pk}")
        ).to_contain_text("A held reply.")

        page.goto("/admin/comments/comment/?state=public")
        run_action(page, rude, "spam")
        expect(page.locator(".messagelist")).to_contain_text(
            "Mark as spam: 1 comment(s)."
        )
        anonymous.goto(post.get_absolute_url())
        expect(anonymous.locator(f"#c{rude.pk}")).to_have_count(0)

        page.goto("/admin/comments/comment/?state=spam")
        run_action(page, rude, "ban_commenters")
        expect(page.locator(".messagelist")).to_contain_text("Banned 1 commenter(s)")
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
