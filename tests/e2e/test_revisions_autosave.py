"""Revisions and autosave in the browser (#13.5), and the password form.

- The password form, before and after a wrong password, and the revisions
  screens (list and diff, light and dark) pass axe and the Nu checker.
- An author restores a revision in one click.
- An author types a new post, closes the tab (the page asks first), comes
  back and gets the text back from the browser's copy; saving clears it.
  The same on a post being edited, with the copy discarded.

Chromium asks "Leave site?" through a `beforeunload` dialog. The `page`
fixture fails a test on any dialog (tests/e2e/conftest.py), so the autosave
tests open their own tabs, watched the same way except for that one dialog,
which they accept and count. Playwright shows it only when asked:
`page.close(run_before_unload=True)`.
"""

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from blog.models import Post, Revision
from tests.e2e.conftest import ARTIFACTS, BrowserWatch
from tests.e2e.test_accessibility import serious
from tests.factories import make_post, make_user

AUTHOR = "writer"


def sign_in(page: Page, username: str = AUTHOR) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def watch(page: Page, browser_watch: BrowserWatch, *, on_dialog=None) -> Page:
    """Watch a tab as the `page` fixture does; `on_dialog` takes its dialogs."""
    page.on("console", browser_watch.on_console)
    page.on("pageerror", browser_watch.on_page_error)
    page.on("dialog", on_dialog or browser_watch.on_dialog)
    page.on("request", browser_watch.on_request)
    page.on("response", browser_watch.on_response)
    page.on("requestfailed", browser_watch.on_request_failed)
    return page


@pytest.fixture
def author():
    return make_user(username=AUTHOR, first_name="Wren", groups=("Authors",))


@pytest.fixture
def admin_context(browser: Browser, live_server, browser_watch, author) -> Iterator:
    """A browser with storage of its own, for the Author to sign in."""
    # Django's admin links no icon, so Chromium asks for /favicon.ico.
    browser_watch.expect_status("/favicon.ico", 404)
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20_000)
    yield context
    context.close()
    browser_watch.assert_clean()


class LeaveDialogs:
    """Accepts the "Leave site?" dialogs and counts them; any other dialog
    is a problem, as in the `page` fixture."""

    def __init__(self, browser_watch: BrowserWatch) -> None:
        self.browser_watch = browser_watch
        self.count = 0

    def __call__(self, dialog: Dialog) -> None:
        if dialog.type == "beforeunload":
            self.count += 1
            dialog.accept()
        else:
            self.browser_watch.on_dialog(dialog)


def autosaved(page: Page) -> dict:
    """The editor's copies in this browser's localStorage, by key."""
    return {
        key: json.loads(value)
        for key, value in page.evaluate(
            "() => Object.entries(localStorage)"
            ".filter(([key]) => key.startsWith('inkwell-autosave:'))"
        )
    }


def close_tab(page: Page, leave: LeaveDialogs) -> None:
    before = leave.count
    with page.expect_event("close"):
        page.close(run_before_unload=True)
    assert leave.count == before + 1, "closing with unsaved text did not ask first"


def test_password_form_passes_axe_and_the_nu_checker(page, axe, html_checker):
    post = make_post(title="Members only", body="The **secret**.", password="enter")
    response = page.goto(post.get_absolute_url())
    documents = {"password-form": response.text()}
    violations = {"password-form": serious(axe(page, "password-form"))}

    page.get_by_label("Password").fill("wrong")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Enter").click()
    documents["password-form-wrong"] = answer.value.text()
    expect(page.get_by_role("alert")).to_contain_text("password")
    violations["password-form-wrong"] = serious(axe(page, "password-form-wrong"))

    page.get_by_label("Password").fill("enter")
    page.get_by_role("button", name="Enter").click()
    expect(page.locator(".post__body strong")).to_have_text("secret")

    assert violations == {"password-form": [], "password-form-wrong": []}
    assert html_checker(documents) == ""


def test_revisions_screens_pass_axe_and_the_nu_checker_and_restore_in_one_click(
    browser, live_server, browser_watch, author, axe, html_checker
):
    browser_watch.expect_status("/favicon.ico", 404)
    post = make_post(
        title="Stretches",
        author=author,
        body="## Morning\n\nTen slow rounds.\n\n- Cat–cow\n- Child’s pose\n\nDone.",
        excerpt="Every morning.",
    )
    old = Revision.objects.of(post).get()
    post.body = (
        "## Morning\n\nTwenty slow rounds, <b>really</b>.\n\n- Cat–cow\n\n"
        "A new paragraph & more.\n\nDone."
    )
    post.save(revised_by=author)
    documents, violations = {}, {}
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(exist_ok=True)
    # axe sets inline styles as it measures, which the admin's CSP blocks
    # (tests/e2e/test_security.py checks that CSP); here it must not.
    for scheme in ("light", "dark"):
        context = browser.new_context(
            base_url=live_server.url, bypass_csp=True, color_scheme=scheme
        )
        try:
            page = watch(context.new_page(), browser_watch)
            sign_in(page)
            page.goto(f"/admin/blog/post/{post.pk}/change/")
            page.get_by_role("link", name="Revisions").click()
            expect(page.locator("h1")).to_have_text("Revisions of “Stretches”")
            documents[f"revisions-{scheme}"] = page.reload().text()
            violations[f"revisions-{scheme}"] = serious(
                axe(page, f"revisions-{scheme}")
            )
            for width in (360, 1280):
                page.set_viewport_size({"width": width, "height": 700})
                page.screenshot(path=folder / f"revisions-{scheme}-{width}.png")
            page.get_by_role("link", name="Compare").click()
            expect(page.locator("del").first).to_be_visible()
            documents[f"revision-diff-{scheme}"] = page.reload().text()
            violations[f"revision-diff-{scheme}"] = serious(
                axe(page, f"revision-diff-{scheme}")
            )
            for width in (360, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                page.screenshot(
                    path=folder / f"revision-diff-{scheme}-{width}.png",
                    full_page=True,
                )
            if scheme == "dark":
                page.get_by_role("button", name="Restore this revision").click()
                expect(page.locator(".messagelist .success")).to_contain_text(
                    "Restored"
                )
                expect(page.locator("#id_body")).to_have_value(old.body)
        finally:
            context.close()

    post.refresh_from_db()
    assert post.body == old.body
    assert Revision.objects.of(post).count() == 3
    assert violations == {name: [] for name in violations}
    assert html_checker(documents) == ""
    browser_watch.assert_clean()


def test_author_closes_the_tab_comes_back_and_recovers_the_text(
    admin_context: BrowserContext, browser_watch
):
    leave = LeaveDialogs(browser_watch)
    page = watch(admin_context.new_page(), browser_watch, on_dialog=leave)
    sign_in(page)
    page.goto("/admin/blog/post/add/")
    page.locator("#id_title").press_sequentially("Stretches for the evening")
    page.locator("#id_body").press_sequentially("Lie down.\n\nBreathe **slowly**.")
    page.wait_for_function(
        "() => Object.values(localStorage).some(v => v.includes('slowly'))"
    )
    close_tab(page, leave)

    page = watch(admin_context.new_page(), browser_watch, on_dialog=leave)
    page.goto("/admin/blog/post/add/")
    offer = page.get_by_role("region", name="Unsaved changes kept in this browser")
    expect(offer).to_be_visible()
    expect(page.locator("#id_body")).to_have_value("")
    (ARTIFACTS / "screenshots").mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "screenshots" / "autosave-offer.png")
    page.get_by_role("button", name="Restore unsaved changes").click()
    expect(offer).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("back in the form")
    expect(page.locator("#id_title")).to_have_value("Stretches for the evening")
    expect(page.locator("#id_slug")).to_have_value("stretches-for-the-evening")
    expect(page.locator("#id_body")).to_have_value("Lie down.\n\nBreathe **slowly**.")
    expect(page.locator(".markdownx-preview strong")).to_have_text("slowly")

    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_text("was added successfully").wait_for()
    post = Post.objects.get(slug="stretches-for-the-evening")
    assert post.body.replace("\r\n", "\n") == "Lie down.\n\nBreathe **slowly**."
    assert autosaved(page) == {}, "a saved post's copy stays in the browser"
    assert leave.count == 1  # saving did not ask

    page.goto("/admin/blog/post/add/")
    expect(page.locator(".autosave-offer")).to_have_count(0)


def test_unsaved_edits_survive_a_reload_and_can_be_discarded(
    admin_context: BrowserContext, browser_watch, author
):
    post = make_post(title="Morning", body="Ten slow rounds.", author=author)
    url = f"/admin/blog/post/{post.pk}/change/"
    leave = LeaveDialogs(browser_watch)
    page = watch(admin_context.new_page(), browser_watch, on_dialog=leave)
    sign_in(page)
    page.goto(url)
    page.locator("#id_body").press("End")
    page.locator("#id_body").press_sequentially(" Then ten more.")
    page.goto(url)  # asks first, then reloads
    assert leave.count == 1
    [copy] = autosaved(page).values()
    assert copy["fields"]["id_body"] == "Ten slow rounds. Then ten more."

    page.get_by_role("button", name="Discard them").click()
    expect(page.locator(".autosave-offer")).to_have_count(0)
    expect(page.locator("#id_body")).to_have_value("Ten slow rounds.")
    assert autosaved(page) == {}
    page.goto(url)  # nothing changed: no question, no offer
    assert leave.count == 1
    expect(page.locator(".autosave-offer")).to_have_count(0)
