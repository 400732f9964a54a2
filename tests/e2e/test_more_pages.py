"""axe and the Nu checker on the pages the other checks do not open, and
each key page at desktop and phone widths (screenshots in
e2e-artifacts/screenshots/; public pages must not scroll sideways at 360 px)."""

from django.utils import timezone
from playwright.sync_api import Page

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import serious
from tests.factories import make_discussion, make_user

WIDTHS = {"desktop": 1280, "phone": 360}


def long_thread(site):
    """The tagged post with ~30 comments in three threads nested five deep."""
    post = site.tagged
    make_discussion(post=post, comments=30, thread_sizes=(10,))
    return post


def sign_in(page: Page, username: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def test_listing_and_error_pages_have_no_serious_accessibility_violation(
    page, axe, site, browser_watch
):
    published = timezone.localtime(site.article.published_at)
    urls = {
        "category": site.article.category.get_absolute_url(),
        "tag": "/tag/stretching/",
        "author": "/author/ada/",
        "archive-year": f"/{published.year}/",
        "archive-month": f"/{published.year}/{published.month:02d}/",
        "404": "/no-such-page/",
    }
    browser_watch.expect_status("/no-such-page/", 404)
    found = {}
    for name, url in urls.items():
        page.goto(url)
        found[name] = serious(axe(page, name))

    assert found == {name: [] for name in urls}


def test_reply_page_and_long_thread_are_valid_html(page, site, html_checker):
    post = long_thread(site)
    response = page.goto(post.get_absolute_url())
    assert response.status == 200
    documents = {"post-long-thread": response.text()}
    depth = page.locator(".comment-list .comment-list .comment-list .comment-list li")
    assert depth.count() > 0, "the thread is not nested five deep"
    reply = page.get_by_role("link", name="Reply to Reader 0").first
    response = page.goto(reply.get_attribute("href"))
    assert response.status == 200
    documents["reply-page"] = response.text()

    assert html_checker(documents) == ""


def test_admin_post_editor_accessibility(browser, live_server, axe):
    make_user(username="writer", groups=("Authors",))
    # axe sets inline styles as it measures, which the admin's CSP blocks
    # (tests/e2e/test_security.py checks that CSP); here it must not.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    try:
        page = context.new_page()
        sign_in(page, "writer")
        page.goto("/admin/blog/post/add/")
        page.locator("#id_body").fill("## Preview\n\nSome **text**.")
        page.locator(".markdownx-preview h2").wait_for()
        violations = axe(page, "admin-post-editor")
    finally:
        context.close()

    assert serious(violations) == []


def test_key_pages_at_desktop_and_phone_widths(page, site, browser_watch):
    make_user(username="boss", is_staff=True, is_superuser=True)
    browser_watch.expect_status("/favicon.ico", 404)
    post = long_thread(site)
    public = {
        "home": "/",
        "post-long-thread": post.get_absolute_url(),
        "category": site.article.category.get_absolute_url(),
    }
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(exist_ok=True)
    too_wide = {}
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 800})
        for name, url in public.items():
            page.goto(url)
            page.screenshot(path=folder / f"{name}-{label}.png", full_page=True)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                too_wide[f"{name}-{label}"] = scroll_width
    sign_in(page, "boss")
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/admin/blog/post/add/")
        page.locator("#id_body").fill("## Preview\n\nSome **text**.")
        # Side by side when wide; on a phone, Preview shows it instead.
        switch = page.locator(".editor-views button", has_text="Preview")
        if switch.is_visible():
            switch.click()
        page.locator(".markdownx-preview h2").wait_for()
        page.screenshot(path=folder / f"admin-editor-{label}.png", full_page=True)
        if switch.is_visible():
            page.locator(".editor-views button", has_text="Write").click()
        # Unsaved text makes leaving ask first (static/js/editor-autosave.js).
        page.locator("#id_body").fill("")

    assert too_wide == {}
