"""An author's flows in the admin, each result checked on the public site:
schedule a post (hidden), then publish it (on the home page, in its category,
in the feed); drop a picture into the editor and see it in the preview."""

import base64
import re
from datetime import timedelta
from io import BytesIO

import feedparser
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from blog.models import Post
from tests.factories import make_category, make_user


def sign_in(page: Page, username: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Log out").or_(
        page.get_by_role("button", name="Log out")
    ).wait_for()


def set_publish_time(page: Page, when) -> None:
    local = timezone.localtime(when)
    page.locator("#id_published_at_0").fill(local.strftime("%Y-%m-%d"))
    page.locator("#id_published_at_1").fill(local.strftime("%H:%M:%S"))


def test_author_schedules_then_publishes_a_post(
    page, browser, live_server, browser_watch
):
    # Django's admin links no icon, so Chromium asks for /favicon.ico.
    browser_watch.expect_status("/favicon.ico", 404)
    make_user(username="writer", groups=("Authors",))
    category = make_category(name="Stretching", slug="stretching")
    sign_in(page, "writer")
    page.goto("/admin/blog/post/add/")
    page.locator("#id_title").press_sequentially("Stretches for tomorrow")
    page.locator("#id_body").fill("Coming **soon**.")
    # The category is an autocomplete (select2) box.
    page.locator("#id_category + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill("Stretch")
    page.locator(".select2-results__option", has_text="Stretching").click()
    page.locator("#id_status").select_option("published")
    set_publish_time(page, timezone.now() + timedelta(days=2))
    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_text("was added successfully").wait_for()
    post = Post.objects.get(slug="stretches-for-tomorrow")
    assert post.is_scheduled
    assert post.category == category

    # Scheduled: nowhere for a reader, and its own URL is a 404.
    reader = browser.new_context(base_url=live_server.url)
    try:
        anonymous = reader.new_page()
        anonymous.goto("/")
        expect(anonymous.get_by_text("Stretches for tomorrow")).to_have_count(0)
        response = anonymous.goto(post.get_absolute_url())
        assert response.status == 404
        anonymous.goto(category.get_absolute_url())
        expect(anonymous.get_by_text("Stretches for tomorrow")).to_have_count(0)
        feed = feedparser.parse(anonymous.request.get("/feed/").body())
        assert "Stretches for tomorrow" not in [e.title for e in feed.entries]

        # The author brings it forward to now.
        set_publish_time(page, timezone.now() - timedelta(minutes=1))
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text("was changed successfully").wait_for()
        post.refresh_from_db()
        assert post.is_public

        anonymous.goto("/")
        anonymous.get_by_role(
            "link", name="Stretches for tomorrow", exact=True
        ).first.click()
        expect(anonymous.locator("h1")).to_have_text("Stretches for tomorrow")
        expect(anonymous.locator(".post__body strong")).to_have_text("soon")
        anonymous.goto(category.get_absolute_url())
        expect(
            anonymous.get_by_role("link", name="Stretches for tomorrow", exact=True)
        ).to_be_visible()
        response = anonymous.request.get("/feed/")
        assert response.ok
        feed = feedparser.parse(response.body())
        titles = [entry.title for entry in feed.entries]
        assert "Stretches for tomorrow" in titles
        link = feed.entries[titles.index("Stretches for tomorrow")].link
        assert link.endswith(post.get_absolute_url())
    finally:
        reader.close()


def one_pixel_png() -> str:
    buffer = BytesIO()
    Image.new("RGB", (1, 1), (200, 30, 30)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


DROP_PICTURE = """
([data, name]) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const file = new File([bytes], name, {type: "image/png"});
  const transfer = new DataTransfer();
  transfer.items.add(file);
  const editor = document.querySelector("#id_body");
  for (const type of ["dragenter", "dragover", "drop"]) {
    editor.dispatchEvent(
      new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer})
    );
  }
}
"""


def test_picture_dropped_into_the_editor_shows_in_the_preview(page, browser_watch):
    make_user(username="writer", groups=("Authors",))
    browser_watch.expect_status("/favicon.ico", 404)
    sign_in(page, "writer")
    page.goto("/admin/blog/post/add/")
    page.locator("#id_body").fill("A red dot:\n\n")
    page.locator("#id_body").press("End")

    with page.expect_response("**/markdownx/upload/") as upload:
        page.evaluate(DROP_PICTURE, [one_pixel_png(), "dot.png"])
    assert upload.value.status == 200
    body = page.locator("#id_body")
    expect(body).to_have_value(re.compile(r"!\[.*\]\(/media/uploads/"))
    picture = page.locator(".markdownx-preview img")
    expect(picture).to_have_count(1)
    source = picture.get_attribute("src")
    assert source.startswith("/media/uploads/") and source.endswith(".png")
    # The stored picture loads (the browser fetched it for the preview).
    expect(picture).to_have_js_property("naturalWidth", 1)
