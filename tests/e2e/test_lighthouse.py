"""Lighthouse (npm `lighthouse`, driving Debian's Chromium, mobile profile)
on the home page, the original article with its 50-comment thread, a
category and a page: 100 for accessibility, best practices and SEO, and at
least MIN_PERFORMANCE for performance.

The aim for performance is 100 too. With the variable fonts these pages
reached it on some runs only: the simulated first paint came out at 0.95 s
or at 1.5 s from run to run, and the post page's Total Blocking Time at 0 or
up to 105 ms, each scoring 99. The cause, read from the reports and their
traces: Lighthouse's simulation counts a web font (fetched at VeryHigh
priority) as render-blocking whenever its download ended before the first
paint in the real trace, and on loopback that is a race of a few
milliseconds; then the faces are charged at the simulated mobile
throughput: the variable fonts (Fraunces 37 KB, Source Serif 4 51 KB, its
italic 52 KB more where a page has italics) ~0.5 s, bin/build-fonts's
static instances (13-14 KB each) one round trip, and the pages scored 100
on each of 12 runs since. The blocking time on the 50-comment page is the
thread laid out again when each face arrives. Tried and not kept:
preloading the two faces (the fonts then always end before the first paint:
LCP 1.8-2.1 s, worse), dropping static/js/theme.js (only the good runs got
faster), `content-visibility: auto` on comments (blocking time 0, but
screenshots and axe then see an empty thread). The bar is still set where
the pages held every run before, and each report keeps the real score.

Measured as readers get the site in production: `manage.py collectstatic`
(hashed, compressed files), gunicorn with blog/gunicorn.py and DEBUG off,
on a database of its own built by tests/e2e/theme_site.py. One Lighthouse
run per page (each takes some seconds; up to two more if one is short of
100, see below); the reports go to e2e-artifacts/lighthouse/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, CHROMIUM, ROOT
from tests.servers import free_ports

LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MIN_PERFORMANCE = 97
PAGES = {
    "home": "/",
    "post": None,  # the article's address, read from the database
    "category": "/category/back-spasm-symptoms/",
    "page": "/about/",
}
# gunicorn's port: the first free one here (tests/servers.py).
PORTS = range(8500, 8600)


def run(args: list[str], env: dict[str, str], **kwargs) -> str:
    result = subprocess.run(
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, **kwargs
    )
    assert result.returncode == 0, f"{args[:3]}: {result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def production_site(tmp_path_factory):
    """gunicorn on the theme's site, production settings; yields its URL."""
    work = tmp_path_factory.mktemp("lighthouse")
    (port,) = free_ports(1, PORTS)
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "lighthouse-only-secret-key-0123456789abcdefghijklmnop",
        "DATABASE_URL": f"sqlite:///{work / 'site.sqlite3'}",
        "MEDIA_ROOT": str(work / "media"),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    env.pop("REDIS_URL", None)
    python = sys.executable
    run([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    code = (
        "from tests.e2e.theme_site import build; "
        "print(build().article.get_absolute_url())"
    )
    article_url = (
        run([python, "manage.py", "shell", "-c", code], env).strip().splitlines()[-1]
    )
    log = (work / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(Path(python).with_name("gunicorn")),
            "-c",
            "blog/gunicorn.py",
            "blog.wsgi",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(
                "gunicorn did not answer: " + (work / "gunicorn.log").read_text()
            )
        yield base, article_url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


# Lighthouse's own word for a failure of its tracing rather than of the page
# (NO_NAVSTART, PROTOCOL_TIMEOUT, ...): it asks to be run again.
TRANSIENT = "Please run Lighthouse again"


def lighthouse(url: str, report: Path) -> dict:
    """One Lighthouse report on `url`; a run whose trace recording failed
    (Lighthouse says to run it again) is run again, up to twice."""
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    args = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=" + ",".join(CATEGORIES),
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
        "--no-first-run --disable-background-networking --disable-sync "
        "--disable-component-update",
    ]
    for _ in range(3):
        result = subprocess.run(
            args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        if result.returncode == 0 or TRANSIENT not in result.stderr + result.stdout:
            break
    assert result.returncode == 0, f"{args[:3]}: {result.stdout}\n{result.stderr}"
    return json.loads(report.read_text())


@pytest.mark.parametrize("name", list(PAGES))
def test_lighthouse_scores(production_site, name):
    base, article_url = production_site
    url = base + (PAGES[name] or article_url)
    urllib.request.urlopen(url, timeout=10).read()  # warm: caches, workers
    folder = ARTIFACTS / "lighthouse"
    folder.mkdir(exist_ok=True)
    # The performance score moves by one or two points from run to run here:
    # the simulated mobile timings scale what Lighthouse observed on a
    # machine others share, and each of gunicorn's sync-worker connections
    # is charged a new handshake or not depending on the order requests
    # happened to take. A page short of 100 gets up to two more runs, and
    # the last counts. Every report stays.
    for attempt in (1, 2, 3):
        report = folder / f"{name}{'' if attempt == 1 else f'-run{attempt}'}.json"
        result = lighthouse(url, report)
        scores = {
            key: round(result["categories"][key]["score"] * 100) for key in CATEGORIES
        }
        if scores == dict.fromkeys(CATEGORIES, 100):
            break
    wanted = {**dict.fromkeys(CATEGORIES, 100), "performance": MIN_PERFORMANCE}
    failing = {
        audit["id"]: audit.get("displayValue", audit["score"])
        for audit in result["audits"].values()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in {"binary", "numeric", "metricSavings"}
    }
    short = {key: score for key, score in scores.items() if score < wanted[key]}
    assert not short, f"{url}: {scores}; {failing}"
