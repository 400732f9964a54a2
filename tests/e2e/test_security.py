"""The Content-Security-Policy holds in a real browser: no inline script or
style is needed by the admin's post editor (with the live preview) or by the
public post page."""

from django.core.management import call_command

from blog.models import Post
from tests.factories import make_user

REPORT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", event => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_admin_editor_and_post_page_run_under_the_csp(page, browser_watch):
    call_command("loaddata", "original_article", verbosity=0)
    article = Post.objects.get(slug="back-spasm-symptoms-you-should-know")
    make_user(username="boss", is_staff=True, is_superuser=True)
    browser_watch.expect_status("/favicon.ico", 404)
    page.add_init_script(REPORT_VIOLATIONS)

    response = page.goto("/admin/")
    assert "style-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/blog/post/{article.pk}/change/")
    page.locator("#id_body").press_sequentially("\n\n## Added *here*\n")
    page.locator(".markdownx-preview h2", has_text="Added here").wait_for()
    assert violations(page) == []
    # Saved, so leaving does not ask first (static/js/editor-autosave.js).
    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_text("was changed successfully").wait_for()
    assert violations(page) == []

    response = page.goto(article.get_absolute_url())
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    page.get_by_role("heading", name="Leave a Reply").wait_for()
    assert violations(page) == []
