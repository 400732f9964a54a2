"""A reader's flow without an account, in a real browser: like and unlike a
post, comment, confirm the comment from the mailed link, ask for follow-up
mail, then stop it from a follow-up mail's link. The confirmation and
unsubscribe pages are checked with axe and the Nu checker on the way.

Mail is Django's locmem outbox: the live server runs in the test's process
and tests/conftest.py runs tasks as they are enqueued.
"""

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from comments import moderation
from comments.models import Comment, PostLike
from tests.e2e.test_accessibility import serious
from tests.factories import make_comment, make_post, make_user


def link_in(mail, path: str) -> str:
    """The path of the one link to `path` in a mail's text part."""
    urls = re.findall(rf"https?://\S+{re.escape(path)}\S+/", mail.body)
    assert len(set(urls)) == 1, mail.body
    return urlsplit(urls[0]).path


def test_reader_likes_comments_confirms_and_unsubscribes(
    page, live_server, mailoutbox, axe, html_checker, lenient_moderation
):
    author = make_user(username="writer", first_name="Wendy")
    post = make_post(title="Talk to me", author=author)
    page.goto(post.get_absolute_url())

    like = page.get_by_role("button", name="Like")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".likes__line")).to_have_text("1 blogger likes this.")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "false")
    assert PostLike.objects.filter(post=post).count() == 0

    page.get_by_role("textbox", name="Name", exact=True).fill("Grace")
    page.get_by_role("textbox", name="Email", exact=True).fill("grace@example.com")
    page.get_by_role("textbox", name="Comment", exact=True).fill("Count me *in*.")
    page.get_by_role("checkbox", name="Notify me of follow-up comments").check()
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".messages")).to_contain_text(
        "We sent a link to grace@example.com"
    )
    expect(page.locator(".comment__content", has_text="Count me in")).to_have_count(0)
    comment = Comment.objects.get(user_email="grace@example.com")
    assert comment.state == Comment.State.UNCONFIRMED
    assert comment.followup is True

    [confirmation] = mailoutbox
    assert confirmation.to == ["grace@example.com"]
    response = page.goto(link_in(confirmation, "/comments/confirm/"))
    confirm_html = response.text()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your comment")
    expect(page.locator("blockquote em")).to_have_text("in")
    confirm_violations = serious(axe(page, "comment-confirmation"))
    page.get_by_role("button", name="Confirm my comment").click()
    page.wait_for_url(f"**{post.get_absolute_url()}*#c{comment.pk}")
    expect(page.locator(f"#c{comment.pk} .comment__content")).to_have_text(
        "Count me in."
    )
    comment.refresh_from_db()
    assert comment.state == Comment.State.PUBLIC

    # Another reader's held comment is approved: Grace hears of it.
    mailoutbox.clear()
    other = make_comment(
        post=post, name="Linus", body="Me too.", state=Comment.State.HELD
    )
    assert moderation.apply_action(other, "approve")
    [followup] = [m for m in mailoutbox if m.to == ["grace@example.com"]]
    assert "Me too." in followup.body
    unsubscribe = link_in(followup, "/comments/unsubscribe/")
    assert followup.extra_headers["List-Unsubscribe"].endswith(f"{unsubscribe}>")

    response = page.goto(unsubscribe)
    unsubscribe_html = response.text()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Stop emails about this discussion?"
    )
    unsubscribe_violations = serious(axe(page, "unsubscribe"))
    comment.refresh_from_db()
    assert comment.followup is True  # opening the link changes nothing
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    done_html = page.content()
    comment.refresh_from_db()
    assert comment.followup is False

    assert confirm_violations == []
    assert unsubscribe_violations == []
    assert (
        html_checker(
            {
                "comment-confirmation": confirm_html,
                "unsubscribe": unsubscribe_html,
                "unsubscribe-done": done_html,
            }
        )
        == ""
    )
