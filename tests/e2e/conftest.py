"""The browser checks' harness (`make e2e`; never part of `make test`).

A real Chromium (Debian's, driven by Playwright) reads the site from
pytest-django's live server on a fresh test database. Every test that uses
the `page` fixture is watched: a console error, an uncaught exception, a
dialog (the sign of executed script), a request to another host or a failed
response fails it. Screenshots, axe reports and Nu checker output go to
e2e-artifacts/, kept whether the checks pass or fail.

To add a check: write a test taking `page` (and `live_server` for its URL),
then use `axe` for accessibility and `html_checker` for validity.
"""

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright

from blog.models import Post
from tests.factories import make_post, make_user

# Playwright's sync API keeps an event loop running in the main thread, so
# Django would refuse ORM calls from the tests without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "e2e-artifacts"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__e2e__/axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_configure(config: pytest.Config) -> None:
    missing = [str(p) for p in (Path(CHROMIUM), AXE_JS, VNU_JAR) if not p.exists()]
    if missing:
        raise pytest.UsageError(
            f"Missing {', '.join(missing)}: run ./.ci/browser-deps (make e2e does)."
        )
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser check gets a database the live server can see.

    Transactional, because the server thread must see the test's writes; with
    serialized rollback, because the flush after each test would otherwise
    drop what data migrations made (the Authors group, for one).
    """
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and not item.get_closest_marker("django_db"):
            item.add_marker(
                pytest.mark.django_db(transaction=True, serialized_rollback=True)
            )


def artifact_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")


@dataclass
class BrowserWatch:
    """What a page did that a reader should never see."""

    origin: str
    problems: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    expected_statuses: dict[str, int] = field(default_factory=dict)
    responses: dict[str, int] = field(default_factory=dict)

    def expect_status(self, path: str, status: int) -> None:
        """Let `path` answer `status` (>= 400) without failing the test."""
        self.expected_statuses[path] = status

    def on_console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        self.log.append(f"console.{message.type}: {message.text} ({url})")
        if message.type != "error":
            return
        # Chromium logs every 4xx/5xx as a console error. on_response judges
        # those it sees (it knows the expected ones); the rest, such as the
        # browser's own /favicon.ico request, count here.
        if "Failed to load resource" in message.text and (
            url in self.responses or urlsplit(url).path in self.expected_statuses
        ):
            return
        self.problems.append(f"console error: {message.text} ({url})")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def on_dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"{dialog.type} dialog: {dialog.message!r}")
        dialog.dismiss()

    def on_request(self, request) -> None:
        self.log.append(f"{request.method} {request.url}")
        parts = urlsplit(request.url)
        if parts.scheme in {"data", "blob", "about"}:
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"request to another host: {request.url}")

    def on_response(self, response) -> None:
        self.log.append(f"{response.status} {response.url}")
        self.responses[response.url] = response.status
        path = urlsplit(response.url).path
        if response.status >= 400 and self.expected_statuses.get(path) != (
            response.status
        ):
            self.problems.append(f"HTTP {response.status} for {response.url}")

    def on_request_failed(self, request) -> None:
        # Leaving a page cancels what it was still loading (often the icon).
        if request.failure == "net::ERR_ABORTED":
            self.log.append(f"aborted {request.url}")
            return
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    def assert_clean(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "The browser saw:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_watch(live_server) -> BrowserWatch:
    origin = urlsplit(live_server.url)
    return BrowserWatch(origin=f"{origin.scheme}://{origin.netloc}")


@pytest.fixture
def page(
    browser: Browser, live_server, browser_watch: BrowserWatch, request
) -> Iterator[Page]:
    """A fresh browser tab on the live server, watched and screenshotted."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("console", browser_watch.on_console)
    page.on("pageerror", browser_watch.on_page_error)
    page.on("dialog", browser_watch.on_dialog)
    page.on("request", browser_watch.on_request)
    page.on("response", browser_watch.on_response)
    page.on("requestfailed", browser_watch.on_request_failed)
    yield page
    name = artifact_name(request)
    try:
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    finally:
        (ARTIFACTS / f"{name}.log").write_text("\n".join(browser_watch.log) + "\n")
        context.close()
    browser_watch.assert_clean()


@pytest.fixture
def axe() -> Callable[[Page, str], list[dict]]:
    """Run axe-core's WCAG 2 A/AA rules on the page; return the violations.

    The whole report goes to e2e-artifacts/axe/NAME.json.
    """

    def run(page: Page, name: str) -> list[dict]:
        # The site's CSP refuses inline script (add_script_tag(path=...)), so
        # axe is loaded as a same-origin file that Playwright answers itself.
        page.route(
            f"**{AXE_URL}",
            lambda route: route.fulfill(path=AXE_JS, content_type="text/javascript"),
        )
        page.add_script_tag(url=AXE_URL)
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            WCAG_TAGS,
        )
        folder = ARTIFACTS / "axe"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(results, indent=2))
        return results["violations"]

    return run


@pytest.fixture
def html_checker() -> Callable[[dict[str, str]], str]:
    """Check documents with the Nu HTML checker; return its errors ("" if none).

    Takes {name: html}; saves each to e2e-artifacts/html/NAME.html and the
    checker's report to e2e-artifacts/html/vnu.txt.
    """

    def check(documents: dict[str, str]) -> str:
        folder = ARTIFACTS / "html"
        folder.mkdir(exist_ok=True)
        files = []
        for name, html in documents.items():
            path = folder / f"{name}.html"
            path.write_text(html, encoding="utf-8")
            files.append(str(path))
        result = subprocess.run(
            ["java", "-jar", str(VNU_JAR), "--errors-only", *files],
            capture_output=True,
            text=True,
            timeout=120,
        )
        report = (result.stdout + result.stderr).strip()
        (folder / "vnu.txt").write_text(report + "\n")
        if result.returncode != 0 and not report:
            report = f"vnu exited with {result.returncode}"
        return report

    return check


@dataclass
class Site:
    article: Post
    tagged: Post


@pytest.fixture
def site(live_server) -> Site:
    """The original article, plus a second post with tags by another author."""
    call_command("loaddata", "original_article", verbosity=0)
    article = Post.objects.get(slug="back-spasm-symptoms-you-should-know")
    tagged = make_post(
        title="Stretches for a stiff back",
        author=make_user(username="ada", first_name="Ada", last_name="Lovelace"),
        category=article.category,
        body="## Morning\n\nTen minutes, **every day**.\n\n- Cat–cow\n- Child’s pose",
        tags=("stretching", "posture"),
    )
    return Site(article=article, tagged=tagged)
