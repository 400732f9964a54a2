"""The authors' and moderators' desk in a real browser, on a 390 px phone and
at 1280 px: a moderator clears the queue with the row buttons, replies and
edits a comment; an author writes with the Write/Preview switch, pastes a
picture and previews before saving. axe and the Nu checker on each screen."""

import base64
import re
from io import BytesIO

from django.contrib.admin.models import LogEntry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from blog.models import MediaFile, Post
from comments.models import Comment
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import serious
from tests.factories import make_comment, make_post, make_user

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
State = Comment.State


def sign_in(page: Page, username: str) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Log out").or_(
        page.get_by_role("button", name="Log out")
    ).wait_for()


def check_screens(page: Page, axe, html_checker, screens: dict[str, str]) -> None:
    """Each screen at 390 and 1280 px, light and dark: no serious axe
    violation, no Nu checker error. In a context of its own, signed in as
    `page` is: axe sets inline styles as it measures, which the admin's CSP
    blocks (tests/e2e/test_security.py checks that CSP); here it must not."""
    browser = page.context.browser
    context = browser.new_context(
        base_url=page.url.split("/admin")[0],
        bypass_csp=True,
        storage_state=page.context.storage_state(),
    )
    violations, documents = {}, {}
    try:
        checked = context.new_page()
        for name, url in screens.items():
            for size in (PHONE, WIDE):
                for scheme in ("light", "dark"):
                    checked.set_viewport_size(size)
                    checked.emulate_media(color_scheme=scheme)
                    response = checked.goto(url)
                    label = f"{name}-{size['width']}-{scheme}"
                    checked.screenshot(path=ARTIFACTS / f"{label}.png", full_page=True)
                    violations[label] = serious(axe(checked, label))
            documents[name] = response.text()
    finally:
        context.close()
    assert violations == {label: [] for label in violations}
    assert html_checker(documents) == ""


def row(page: Page, comment: Comment):
    return page.locator("#result_list tbody tr").filter(
        has=page.locator(f"input[value='{comment.pk}']")
    )


def test_a_moderator_clears_the_queue_from_a_phone(
    browser: Browser, live_server, browser_watch, axe, html_checker
):
    make_user(username="mod", groups=("Moderators",))
    post = make_post(title="Held back")
    question = make_comment(
        post=post, name="Ada", body="Does this help a stiff back?", state=State.HELD
    )
    spam = make_comment(
        post=post, name="Bot", body="Cheap pills here", state=State.HELD
    )
    typo = make_comment(post=post, name="Grace", body="I has a typo")
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    page.on("console", browser_watch.on_console)
    page.on("pageerror", browser_watch.on_page_error)
    page.on("response", browser_watch.on_response)
    try:
        sign_in(page, "mod")
        # The front page says what waits, and leads to the queue.
        expect(page.get_by_role("heading", name="2 pending comments")).to_be_visible()
        page.get_by_role("link", name="Open the moderation queue").click()
        expect(page.locator("#result_list tbody tr")).to_have_count(2)

        # Row buttons: big enough to tap, back to the same tab.
        approve = row(page, question).get_by_role("button", name="Approve")
        box = approve.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
        spam_button = row(page, spam).get_by_role("button", name="Mark as spam")
        spam_button.click()
        expect(page.locator(".messagelist")).to_contain_text(
            "Mark as spam: the comment by Bot."
        )
        assert page.url.endswith("/admin/comments/comment/?state=held")
        expect(page.locator("#result_list tbody tr")).to_have_count(1)

        # Reply: the held question is approved with it.
        row(page, question).get_by_role("link", name="Reply").click()
        page.get_by_label("Your reply").fill("Yes: ten slow rounds, **every day**.")
        page.get_by_role("button", name="Publish reply").click()
        expect(page.locator(".messagelist")).to_contain_text("is published")
        question.refresh_from_db()
        assert question.state == State.PUBLIC
        answer = Comment.objects.get(parent_id=question.pk, user__username="mod")
        page.goto(post.get_absolute_url())
        expect(page.locator(f"#c{question.pk} #c{answer.pk}")).to_contain_text(
            "ten slow rounds"
        )
        expect(page.get_by_text("Cheap pills here")).to_have_count(0)

        # Edit a comment's text: logged with both texts.
        page.goto("/admin/comments/comment/?state=public")
        row(page, typo).get_by_role("link", name="Edit").click()
        page.get_by_label("Comment:").fill("I have a typo")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".messagelist")).to_contain_text("was changed")
        entry = LogEntry.objects.get(object_id=str(typo.pk))
        assert "I has a typo" in entry.get_change_message()
        assert "I have a typo" in entry.get_change_message()

        check_screens(
            page,
            axe,
            html_checker,
            {
                "desk-dashboard": "/admin/",
                "desk-queue": "/admin/comments/comment/?state=all",
                "desk-reply": f"/admin/comments/comment/{typo.pk}/reply/",
            },
        )
        browser_watch.assert_clean()
    finally:
        context.close()


def png(color=(200, 30, 30)) -> str:
    buffer = BytesIO()
    Image.new("RGB", (8, 6), color).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


PASTE_PICTURE = """
([data, name]) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const file = new File([bytes], name, {type: "image/png"});
  const transfer = new DataTransfer();
  transfer.items.add(file);
  const paste = {bubbles: true, cancelable: true, clipboardData: transfer};
  document.querySelector("#id_body").dispatchEvent(new ClipboardEvent("paste", paste));
}
"""


def test_an_author_writes_on_a_phone_and_previews_before_saving(
    browser: Browser, live_server, browser_watch, axe, html_checker
):
    make_user(username="writer", groups=("Authors",))
    make_post(title="Older", tags=("stretching", "morning routine"))
    buffer = BytesIO()
    Image.new("RGB", (12, 9), (160, 40, 40)).save(buffer, "PNG")
    stored = default_storage.save(
        "uploads/2026/11/door.png", ContentFile(buffer.getvalue())
    )
    door = MediaFile.objects.register(stored, size=len(buffer.getvalue()))
    door.description = "A red door"
    door.save()
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    page.on("console", browser_watch.on_console)
    page.on("pageerror", browser_watch.on_page_error)
    page.on("response", browser_watch.on_response)
    try:
        sign_in(page, "writer")
        page.goto("/admin/blog/post/add/")
        page.locator("#id_title").fill("Ten minutes on the floor")
        body = page.locator("#id_body")
        body.fill("Start on your back, then")
        body.press("End")
        with page.expect_response("**/markdownx/upload/") as upload:
            page.evaluate(PASTE_PICTURE, [png(), "floor.png"])
        assert upload.value.status == 200
        # At the cursor, on a line of its own, no blank lines added.
        expect(body).to_have_value(
            re.compile(
                r"^Start on your back, then\n!\[Describe this image\]"
                r"\(/media/uploads/[^)]+\.png\)$"
            )
        )
        value = body.input_value().replace("Describe this image", "A mat")
        body.fill(value + "\n\nBreathe **slowly**.")
        body.press("End")

        # A picture uploaded before, from the media library.
        page.get_by_role("button", name="Insert from the media library").click()
        dialog = page.get_by_role("dialog", name="Media library")
        expect(dialog).to_be_visible()
        page.screenshot(path=ARTIFACTS / "desk-media-picker-390.png")
        dialog.get_by_role("button", name="A red door").click()
        expect(dialog).to_be_hidden()
        assert body.input_value().endswith(
            f"Breathe **slowly**.\n![A red door]({door.url})"
        )
        page.locator("#id_tags").fill("morning routine, stretching")

        # The phone shows one view at a time.
        preview = page.locator(".markdownx-preview")
        expect(preview).to_be_hidden()
        page.locator(".editor-views button", has_text="Preview").click()
        expect(preview).to_be_visible()
        expect(body).to_be_hidden()
        expect(preview.locator("strong")).to_have_text("slowly")
        expect(preview.locator("img[alt='A mat']")).to_have_js_property(
            "naturalWidth", 8
        )
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width} px)"
        page.locator(".editor-views button", has_text="Write").click()
        expect(body).to_be_visible()

        # Preview before the first save, in a tab of its own.
        with context.expect_page() as opened:
            page.locator("input[name=_preview]").click()
        shown = opened.value
        shown.wait_for_load_state()
        expect(shown.get_by_role("heading", level=1)).to_have_text(
            "Ten minutes on the floor"
        )
        expect(shown.get_by_text("Preview — not saved")).to_be_visible()
        expect(shown.locator(".post__body img[alt='A mat']")).to_have_count(1)
        expect(shown.locator(".post__body img[alt='A red door']")).to_have_count(1)
        preview_html = shown.content()
        preview_violations = serious(axe(shown, "desk-post-preview"))
        shown.close()
        assert not Post.objects.filter(title="Ten minutes on the floor").exists()

        page.get_by_role("button", name="Save and continue editing").click()
        expect(page.get_by_text("was added successfully")).to_be_visible()
        post = Post.objects.get(title="Ten minutes on the floor")
        assert sorted(post.tags.names()) == ["morning routine", "stretching"]
        expect(page.locator("#id_tags")).to_have_value("morning routine, stretching")

        assert preview_violations == []
        assert html_checker({"desk-post-preview": preview_html}) == ""
        check_screens(
            page,
            axe,
            html_checker,
            {
                "desk-editor": f"/admin/blog/post/{post.pk}/change/",
                "desk-editor-new": "/admin/blog/post/add/",
                "desk-media-library": "/admin/blog/mediafile/",
                "desk-media-picture": f"/admin/blog/mediafile/{door.pk}/change/",
            },
        )
        browser_watch.assert_clean()
    finally:
        context.close()
