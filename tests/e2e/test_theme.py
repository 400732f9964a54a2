"""The theme as readers see it: the home page, the original article with its
50-comment thread, a category and a page, in light and dark, on a phone
(360 px) and a desktop (1280 px). Each is screenshotted into e2e-artifacts/
(theme-NAME-SCHEME-WIDTH.png) and checked with axe; the HTML with the Nu
checker. The dark toggle remembers the reader's choice without a flash.
"""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import expect

from blog import avatars
from tests.e2e.conftest import ARTIFACTS, BrowserWatch
from tests.e2e.test_accessibility import serious
from tests.e2e.theme_site import build
from tests.factories import set_site_identity

WIDTHS = {"phone": (360, 780), "desktop": (1280, 900)}


@pytest.fixture
def theme_site(live_server):
    return build()


def urls(site) -> dict[str, str]:
    return {
        "home": "/",
        "post": site.article.get_absolute_url(),
        "category": site.article.category.get_absolute_url(),
        "page": site.page.get_absolute_url(),
    }


def watched(browser, live_server, watch: BrowserWatch, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    page.on("request", watch.on_request)
    page.on("response", watch.on_response)
    page.on("requestfailed", watch.on_request_failed)
    return context, page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_in_both_schemes_and_widths(
    browser, live_server, browser_watch, axe, theme_site, scheme
):
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        context, page = watched(
            browser,
            live_server,
            browser_watch,
            color_scheme=scheme,
            viewport={"width": width, "height": height},
        )
        try:
            for name, url in urls(theme_site).items():
                page.goto(url)
                page.evaluate("document.fonts.ready")
                shot = f"theme-{name}-{scheme}-{width_name}"
                page.screenshot(path=ARTIFACTS / f"{shot}.png", full_page=True)
                problems += [f"{shot}: {p}" for p in serious(axe(page, shot))]
        finally:
            context.close()
    browser_watch.assert_clean()
    assert problems == []


def test_theme_pages_are_valid_html(page, html_checker, theme_site):
    documents = {}
    for name, url in urls(theme_site).items():
        response = page.goto(url)
        assert response.status == 200, url
        documents[f"theme-{name}"] = response.text()
    assert html_checker(documents) == ""


def test_dark_toggle_is_remembered_and_set_before_the_first_paint(
    browser, live_server, browser_watch, theme_site
):
    context, page = watched(browser, live_server, browser_watch, color_scheme="light")
    try:
        page.goto("/")
        toggle = page.get_by_role("button", name="Dark mode")
        expect(toggle).to_have_attribute("aria-pressed", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        assert page.evaluate("getComputedStyle(document.body).colorScheme") == "dark"
        # On the next page the scheme is set while <head> is parsed, before
        # the body exists: there is no frame in the light scheme.
        page.add_init_script(
            "new MutationObserver((_, watcher) => { if (document.body) {"
            " window.__firstScheme = document.documentElement.getAttribute("
            "'data-theme'); watcher.disconnect(); } })"
            ".observe(document, {childList: true, subtree: true});"
        )
        page.goto(urls(theme_site)["post"])
        assert page.evaluate("window.__firstScheme") == "dark"
        expect(page.get_by_role("button", name="Dark mode")).to_have_attribute(
            "aria-pressed", "true"
        )
        page.get_by_role("button", name="Dark mode").click()
        page.reload()
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
    finally:
        context.close()
    browser_watch.assert_clean()


def test_code_blocks_have_a_copy_button_that_copies(
    browser, live_server, browser_watch, theme_site
):
    context, page = watched(browser, live_server, browser_watch)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        page.goto(theme_site.tagged.get_absolute_url())
        button = page.get_by_role("button", name="Copy code block 1")
        button.click()
        expect(button).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("def routine(minutes=10):")
        expect(page.locator(".toc a")).to_have_text(
            ["Before you start", "Morning", "Evening"]
        )
    finally:
        context.close()
    browser_watch.assert_clean()


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_short_page_keeps_its_footer_at_the_foot_of_the_window(
    browser, live_server, browser_watch, theme_site, width
):
    viewport_width, height = WIDTHS[width]
    context, page = watched(
        browser,
        live_server,
        browser_watch,
        viewport={"width": viewport_width, "height": height},
    )
    try:
        page.goto("/search/")
        bottom = page.evaluate(
            "document.querySelector('.site-footer').getBoundingClientRect().bottom"
        )
        widths = page.evaluate(
            "['main', '.site-header__inner'].map("
            "s => document.querySelector(s).getBoundingClientRect().width)"
        )
    finally:
        context.close()
    assert abs(bottom - height) <= 1
    main_width, header_width = widths
    assert main_width == header_width  # as wide as the header, not its text


# A 1 by 1 red PNG, Gravatar's answer for someone who has a picture.
RED_PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005050200"
    "5fc8f1d20000000049454e44ae426082"
)


def test_with_gravatar_on_an_unreachable_picture_leaves_the_identicon(
    browser, live_server, browser_watch, theme_site
):
    """Ada's Gravatar picture arrives and covers her identicon; every other
    one fails (Gravatar unreachable) and is taken away by static/js/faces.js,
    so the identicon under it shows without the broken-image mark."""
    set_site_identity(gravatar=True)
    ada = hashlib.sha256(b"ada@example.com").hexdigest()
    asked = []

    def gravatar(route):
        asked.append(route.request.url)
        if f"/avatar/{ada}?" in route.request.url:
            route.fulfill(status=200, content_type="image/png", body=RED_PIXEL)
        else:
            route.abort()

    context, page = watched(
        browser, live_server, browser_watch, viewport={"width": 360, "height": 780}
    )
    try:
        page.route(f"{avatars.GRAVATAR_ORIGIN}/**", gravatar)
        page.goto(urls(theme_site)["post"])
        # Scrolled through the thread: every lazy picture has been asked for.
        for _ in range(40):
            page.mouse.wheel(0, 700)
        page.wait_for_function(
            "[...document.querySelectorAll('img.avatar--photo')]"
            ".every(img => img.complete)"
        )
        photos = page.eval_on_selector_all(
            "img.avatar--photo", "all => all.map(img => img.src)"
        )
        assert photos and all(f"/avatar/{ada}?" in src for src in photos)
        faces = page.locator(".face > img.avatar:not(.avatar--photo)")
        assert faces.count() > len(photos)  # every face keeps its identicon
        page.locator(".comment-list .face").first.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "theme-gravatar-unreachable-phone.png")
    finally:
        context.close()
    assert asked
    # The requests to Gravatar were this test's own, answered in the browser.
    browser_watch.problems = [
        problem
        for problem in browser_watch.problems
        if avatars.GRAVATAR_ORIGIN not in problem
    ]
    browser_watch.assert_clean()
