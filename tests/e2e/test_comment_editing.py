"""A reader fixes their comment in a real browser: in place with JavaScript
(the Edit link comes from /comments/mine/, never from the cached page), then
deletes it. The editor and the delete page go through axe and the Nu
checker. (Without JavaScript: tests/test_comment_editing.py.)"""

from playwright.sync_api import expect

from comments.models import Comment
from tests.e2e.test_accessibility import serious
from tests.factories import make_post


def post_comment(page, text: str) -> None:
    page.get_by_role("textbox", name="Name", exact=True).fill("Grace")
    page.get_by_role("textbox", name="Email", exact=True).fill("grace@example.com")
    page.get_by_role("textbox", name="Comment", exact=True).fill(text)
    page.get_by_role("button", name="Post Comment").click()


def test_reader_edits_in_place_then_deletes(
    page, axe, html_checker, lenient_moderation, settings
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    post = make_post(title="Typos welcome")
    page.goto(post.get_absolute_url())
    post_comment(page, "Helo, wrold.")
    comment = Comment.objects.get(user_email="grace@example.com")
    item = page.locator(f"#c{comment.pk}")
    expect(item.locator(".comment__content")).to_have_text("Helo, wrold.")

    edit = item.get_by_role("link", name="Edit your comment")
    expect(edit).to_be_visible()
    edit.click()
    box = item.get_by_role("textbox", name="Edit your comment")
    expect(box).to_be_focused()
    expect(box).to_have_value("Helo, wrold.")
    editor_violations = serious(axe(page, "comment-edit-in-place"))
    box.fill("Hello, *world*.")
    item.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**#c{comment.pk}")
    item = page.locator(f"#c{comment.pk}")
    expect(item.locator(".comment__content")).to_have_text("Hello, world.")
    expect(item.locator(".comment__edited")).to_have_text("(edited)")
    assert Comment.objects.get(pk=comment.pk).comment == "Hello, *world*."

    item.get_by_role("link", name="Delete your comment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete your comment?")
    delete_html = page.content()
    delete_violations = serious(axe(page, "comment-delete"))
    page.get_by_role("button", name="Delete my comment").click()
    expect(page.locator(".messages")).to_contain_text("Your comment is deleted.")
    expect(page.locator(f"#c{comment.pk}")).to_have_count(0)
    assert not Comment.objects.filter(pk=comment.pk).exists()

    assert editor_violations == []
    assert delete_violations == []
    assert html_checker({"comment-delete": delete_html}) == ""
