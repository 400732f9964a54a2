"""Pages and menus in a browser: axe and the Nu checker on a page, on the
header menu at 360 px (closed and open, by keyboard, without JavaScript too)
and on the menu editor; an editor writes a page and puts it in the header
menu, and readers find it there. Screenshots, light and dark, at 360 and
1280 px go to e2e-artifacts/screenshots/."""

from playwright.sync_api import Page, expect

from blog.models import Menu, MenuItem
from blog.models import Page as BlogPage
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import serious
from tests.e2e.test_more_pages import sign_in
from tests.factories import make_category, make_comment, make_page, make_user

WIDTHS = {"phone": 360, "desktop": 1280}


def pages_and_menu() -> BlogPage:
    """About › Contact (with comments), a Header menu with a sub-link, a
    category and a custom link, and a Footer menu."""
    about = make_page(
        title="About",
        slug="about",
        body="## Who writes here\n\nA physiotherapist and her **notes**.",
    )
    contact = make_page(
        title="Contact",
        slug="contact",
        parent=about,
        body="Write to me; I answer within a week.",
        allow_comments=True,
    )
    make_comment(post=contact, body="Do you answer on weekends?")
    header = Menu.objects.create(name="Main", location="header")
    top = MenuItem.objects.create(menu=header, page=about, order=10)
    MenuItem.objects.create(menu=header, page=contact, parent=top, order=10)
    MenuItem.objects.create(
        menu=header, category=make_category(name="Back pain"), order=20
    )
    MenuItem.objects.create(
        menu=header, url="https://example.org/", label="Elsewhere", order=30
    )
    footer = Menu.objects.create(name="Small print", location="footer")
    MenuItem.objects.create(menu=footer, page=about, label="Imprint")
    return contact


def test_a_page_and_its_header_menu_are_accessible_valid_and_work_by_keyboard(
    page: Page, axe, html_checker
):
    contact = pages_and_menu()
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(exist_ok=True)
    found, documents = {}, {}

    page.set_viewport_size({"width": 1280, "height": 800})
    response = page.goto(contact.get_absolute_url())
    documents["page"] = response.text()
    expect(page.locator("h1")).to_have_text("Contact")
    expect(page.get_by_text("Do you answer on weekends?")).to_be_visible()
    nav = page.get_by_role("navigation", name="Site")
    expect(nav.get_by_role("link", name="About", exact=True)).to_be_visible()
    found["page-desktop"] = serious(axe(page, "page-desktop"))

    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(contact.get_absolute_url())
    toggle = nav.locator("summary")
    expect(toggle).to_be_visible()
    expect(nav.get_by_role("link", name="About", exact=True)).to_be_hidden()
    found["menu-phone-closed"] = serious(axe(page, "menu-phone-closed"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Keyboard only: Tab reaches the button, Enter opens it, Tab the links.
    page.locator("body").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == "Menu"
    page.keyboard.press("Enter")
    expect(nav.get_by_role("link", name="About", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Contact", exact=True)).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "About"
    found["menu-phone-open"] = serious(axe(page, "menu-phone-open"))
    documents["menu-phone-open"] = page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(contact.get_absolute_url())
            page.screenshot(path=folder / f"page-{label}-{scheme}.png", full_page=True)
            if label == "phone":
                nav.locator("summary").click()
                page.screenshot(path=folder / f"menu-open-{label}-{scheme}.png")

    assert {name: problems for name, problems in found.items() if problems} == {}
    assert html_checker(documents) == ""


def test_the_header_menu_opens_without_javascript(browser, live_server):
    pages_and_menu()
    context = browser.new_context(
        base_url=live_server.url,
        java_script_enabled=False,
        viewport={"width": 360, "height": 800},
    )
    try:
        page = context.new_page()
        page.goto("/")
        nav = page.get_by_role("navigation", name="Site")
        link = nav.get_by_role("link", name="Elsewhere")
        expect(link).to_be_hidden()
        nav.locator("summary").press("Enter")
        expect(link).to_be_visible()
        nav.get_by_role("link", name="About", exact=True).click()
        expect(page.locator("h1")).to_have_text("About")
    finally:
        context.close()


def test_an_editor_writes_a_page_and_adds_it_to_the_header_menu(
    browser, live_server, axe, html_checker, browser_watch
):
    make_user(username="editor", groups=("Editors",))
    header = Menu.objects.create(name="Main", location="header")
    MenuItem.objects.create(menu=header, url="/", label="Home", order=10)
    MenuItem.objects.create(menu=header, url="/feed/", label="Feed", order=20)
    # axe sets inline styles as it measures, which the admin's CSP blocks
    # (tests/e2e/test_security.py checks that CSP); here it must not.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    try:
        page = context.new_page()
        sign_in(page, "editor")
        page.goto("/admin/blog/page/add/")
        page.locator("#id_title").press_sequentially("Colophon")
        expect(page.locator("#id_slug")).to_have_value("colophon")
        page.locator("#id_body").fill("Set in **system fonts**.")
        page.locator(".markdownx-preview strong").wait_for()
        page.locator("#id_status").select_option("published")
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text("was added successfully").wait_for()
        colophon = BlogPage.objects.get(slug="colophon")

        response = page.goto(f"/admin/blog/menu/{header.pk}/change/")
        editor_html = response.text()
        editor = page.locator("#items-group")
        expect(editor.get_by_role("button", name="Move up")).to_have_count(3)
        found = serious(axe(page, "menu-editor"))
        new_link = editor.locator("#items-2")  # the blank form for a new link
        new_link.locator(".field-page .select2-selection").click()
        page.locator(".select2-search__field").fill("Colo")
        page.locator(".select2-results__option", has_text="Colophon").click()
        # Two places up, by the buttons: no numbers typed.
        new_link.get_by_role("button", name="Move up").click()
        new_link.get_by_role("button", name="Move up").click()
        expect(editor.get_by_role("status")).to_have_text(
            "“Colophon” is now number 1 of 3."
        )
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text("was changed successfully").wait_for()
        assert [item.text for item in header.items.all()] == [
            "Colophon",
            "Home",
            "Feed",
        ]
        assert (
            header.items.get(page=colophon).order < header.items.get(label="Home").order
        )
    finally:
        context.close()

    reader = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 800}
    )
    try:
        anonymous = reader.new_page()
        anonymous.goto("/")
        nav = anonymous.get_by_role("navigation", name="Site")
        nav.locator("summary").click()
        links = nav.get_by_role("link")
        expect(links.first).to_have_text("Colophon")
        links.first.click()
        expect(anonymous.locator("h1")).to_have_text("Colophon")
        expect(anonymous.locator(".post__body strong")).to_have_text("system fonts")
    finally:
        reader.close()

    assert found == []
    assert html_checker({"menu-editor": editor_html}) == ""
