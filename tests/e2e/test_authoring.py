"""An author writes a post in the admin, with the live preview, and publishes it.

The body carries an image whose error handler would open a dialog: the preview
and the published page must both show it sanitised (the `page` fixture fails
the test on any dialog).
"""

import re

from tests.factories import make_user

BODY = """## Why we stretch

Stretching is **good for the back**.

<img src="data:," onerror="alert('script ran')" alt="">
"""


def test_author_writes_previews_and_publishes_a_post(page, browser_watch):
    make_user(username="writer", groups=("Authors",))
    # Django's admin links no icon, so Chromium asks for /favicon.ico.
    browser_watch.expect_status("/favicon.ico", 404)

    page.goto("/admin/")
    page.get_by_label("Username").fill("writer")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Posts").first.click()
    page.get_by_role("link", name="Add post").click()

    page.locator("#id_title").press_sequentially("Stretching at your desk")
    assert page.locator("#id_slug").input_value() == "stretching-at-your-desk"
    page.locator("#id_body").press_sequentially(BODY)
    preview = page.locator(".markdownx-preview")
    preview.locator("h2", has_text="Why we stretch").wait_for()
    assert preview.locator("strong").inner_text() == "good for the back"
    page.locator("#id_status").select_option("published")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("was added successfully").wait_for()

    page.goto("/")
    page.get_by_role("link", name="Stretching at your desk", exact=True).click()
    assert page.locator("h1").inner_text() == "Stretching at your desk"
    body = page.locator(".post__body")
    assert body.locator("h2").inner_text() == "Why we stretch"
    assert body.locator("strong").inner_text() == "good for the back"

    markdownx_assets = {
        url: status
        for url, status in browser_watch.responses.items()
        if re.search(r"/static/markdownx/.+\.(js|css)$", url)
    }
    assert len(markdownx_assets) == 2, markdownx_assets
    assert set(markdownx_assets.values()) == {200}
    browser_watch.assert_clean()
