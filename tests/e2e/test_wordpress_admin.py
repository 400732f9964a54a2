"""An administrator moves a WordPress blog in from the admin: uploads a small
export, reads the dry run, confirms, and watches the import finish; the task
worker's part is played in this process, on the real database queue, while
the page follows it on its own. Every screen is checked by axe and the Nu
checker at a phone's and a desktop's width, in the light and dark schemes."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from blog import importing
from blog.models import ImportJob, Post, TaskWorker
from comments.models import Comment
from tests.factories import make_user
from tests.test_wordpress_import import comment_xml, item_xml, wxr

WIDTHS = (390, 1280)


@pytest.fixture
def worker_checked_in(database_tasks):
    """The queue is the database's; a worker has checked in (its work is
    done by the test, in this process)."""
    TaskWorker.objects.create(
        worker_id="e2e", host="localhost", pid=1, checked_in_at=timezone.now()
    )


def check_screen(page: Page, name: str, axe, documents: dict) -> list[str]:
    """axe at both widths, light and dark (a screenshot of each); the HTML
    for Nu."""
    problems = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            shot = f"wordpress-{name}-{width}-{scheme}"
            page.screenshot(path=f"e2e-artifacts/{shot}.png", full_page=True)
            problems += [
                f"{shot}: {v['id']} ({v['help']}) at "
                + ", ".join(" ".join(node["target"]) for node in v["nodes"])
                for v in axe(page, shot)
            ]
    page.emulate_media(color_scheme="light")
    documents[f"wordpress-{name}"] = page.content()
    return problems


def test_admin_imports_a_wordpress_export_from_the_browser(
    page, browser_watch, tmp_path, axe, html_checker, worker_checked_in
):
    browser_watch.expect_status("/favicon.ico", 404)
    make_user(username="boss", is_staff=True, is_superuser=True)
    export = tmp_path / "old-blog.xml"
    export.write_text(
        wxr(
            item_xml(comments=comment_xml(1) + comment_xml(2, parent=1))
            + item_xml(2, title="Second post", slug="second-post")
        ),
        encoding="utf-8",
    )
    broken = tmp_path / "broken.xml"
    broken.write_text(export.read_text().replace("</channel>", ""), encoding="utf-8")
    problems, documents = [], {}

    page.goto("/admin/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/blog/importjob/")
    expect(page.get_by_role("link", name="Download a WordPress export")).to_be_visible()
    problems += check_screen(page, "list", axe, documents)
    page.get_by_role("link", name="Import from WordPress").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import from WordPress")
    problems += check_screen(page, "upload", axe, documents)

    # A broken file: refused on the form, nothing kept.
    page.get_by_label("WordPress export file").set_input_files(broken)
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator(".errorlist")).to_contain_text("Nothing was imported.")
    problems += check_screen(page, "upload-refused", axe, documents)
    assert not ImportJob.objects.exists()

    page.get_by_label("WordPress export file").set_input_files(export)
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("#import-progress-text")).to_have_text(
        "Waiting for the task worker to start…"
    )
    problems += check_screen(page, "waiting", axe, documents)
    job = ImportJob.objects.get()

    importing.check_import.call(job.pk)  # the worker's dry run
    # The page notices on its own and shows the report.
    expect(
        page.get_by_role("heading", name="Dry run: what the import would do")
    ).to_be_visible()
    report = page.locator(".wordpress-import__report")
    expect(report.locator("tr", has_text="Posts")).to_contain_text("2")
    expect(report.locator("tr", has_text="Comments")).to_contain_text("2")
    problems += check_screen(page, "dry-run", axe, documents)
    assert not Post.objects.exists()

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-progress-text")).to_have_text(
        "Waiting for the task worker to start…"
    )
    # Halfway, as the worker would write it: the bar follows.
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING)
    importing.Progress(job.pk)(1, 2)
    expect(page.locator("#import-progress-text")).to_have_text(
        "1 of 2 items read and written"
    )
    expect(page.locator("#import-progress")).to_have_attribute("max", "2")
    problems += check_screen(page, "progress", axe, documents)

    importing.run_import.call(job.pk)  # the worker's import
    expect(page.get_by_role("heading", name="Report")).to_be_visible()
    expect(page.locator(".wordpress-import__state")).to_have_text("Imported")
    problems += check_screen(page, "report", axe, documents)
    assert Post.objects.count() == 2
    assert Comment.objects.count() == 2

    page.goto("/admin/blog/importjob/")
    expect(page.locator("#result_list")).to_contain_text("old-blog.xml")
    problems += check_screen(page, "list-after", axe, documents)

    assert problems == []
    assert html_checker(documents) == ""
