"""Inkwell behind the real nginx, configured by `manage.py nginx_config`:
nginx keeps an anonymous post page and serves it without asking gunicorn,
keeps readers with personal cookies out of its cache, and a comment approved
in Inkwell shows through nginx on the very next request, compressed or not.

Starts gunicorn (production settings, a SQLite database of its own) and an
nginx of its own on ports of its own, and stops both. Needs Debian's nginx
with the cache-purge module (`.ci/run` installs them). Marked `faults`, as
the other tests that start servers: collected only with `-m faults`.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_ports

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[1]
PORTS = range(8890, 8900)
SETUP = """
from blog.models import Post
from comments.models import Comment
from tests.factories import make_comment, make_post
post = make_post(title="Behind nginx")
make_comment(post=post, body="First words", state=Comment.State.PUBLIC)
held = make_comment(post=post, body="Waiting words", state=Comment.State.HELD)
print(post.get_absolute_url(), held.pk)
"""


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: .ci/run installs it"
    work = tmp_path_factory.mktemp("nginx")
    front, app = free_ports(2, PORTS)
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "nginx-test-secret-key-0123456789abcdefghijklmnopqrstuv",
        "DATABASE_URL": f"sqlite:///{work / 'site.sqlite3'}",
        "CACHE_DIR": str(work / "cache"),
        "MEDIA_ROOT": str(work / "media"),
        "SITE_URL": f"http://127.0.0.1:{front}",
        "FRONT_CACHE_PURGE_URL": f"http://127.0.0.1:{front}/__purge",
        "PORT": str(app),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    python = sys.executable
    run([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    url, held = run([python, "manage.py", "shell", "-c", SETUP], env).split()[-2:]
    config = work / "nginx.conf"
    config.write_text(
        run(
            [
                python,
                "manage.py",
                "nginx_config",
                "--standalone",
                str(work),
                "--listen",
                f"127.0.0.1:{front}",
                "--upstream",
                f"127.0.0.1:{app}",
                "--cache-dir",
                str(work / "nginx-cache"),
                "--workers",
                "1",
            ],
            env,
        )
    )
    log = (work / "gunicorn.log").open("w")
    gunicorn = subprocess.Popen(
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
    run([nginx, "-c", str(config)], env)
    base = f"http://127.0.0.1:{front}"
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
        yield {"base": base, "url": url, "held": held, "env": env}
    finally:
        subprocess.run([nginx, "-c", str(config), "-s", "stop"], env=env, check=False)
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        log.close()


def fetch(url: str, **headers: str) -> tuple[str, str]:
    """The page's text and nginx's cache status for it."""
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return body.decode(), response.headers.get("X-Front-Cache", "")


def test_nginx_keeps_the_page_and_drops_it_when_a_comment_is_approved(site):
    page = site["base"] + site["url"]
    for encoding in ("gzip", "identity"):
        fetch(page, **{"Accept-Encoding": encoding})
        text, status = fetch(page, **{"Accept-Encoding": encoding})
        assert status == "HIT"
        assert "First words" in text
        assert "Waiting words" not in text
    approve = (
        "from comments.models import Comment; "
        f"Comment.objects.get(pk={site['held']}).set_state(Comment.State.PUBLIC)"
    )
    run([sys.executable, "manage.py", "shell", "-c", approve], site["env"])
    for encoding in ("gzip", "identity"):
        text, status = fetch(page, **{"Accept-Encoding": encoding})
        assert status == "MISS"
        assert "Waiting words" in text
        assert fetch(page, **{"Accept-Encoding": encoding})[1] == "HIT"


def test_readers_with_personal_cookies_get_pages_of_their_own(site):
    page = site["base"] + site["url"]
    fetch(page)
    assert fetch(page)[1] == "HIT"
    for cookie in ("sessionid=abc", "inkwell_commenter=x", "theme=dark; messages=y"):
        assert fetch(page, Cookie=cookie)[1] == "BYPASS"
    # Another cookie (the CSRF token a reader got by using a form) changes
    # nothing in the page: the shared copy.
    assert fetch(page, Cookie="csrftoken=abc")[1] == "HIT"


def test_nginx_serves_the_static_files_itself(site):
    with urllib.request.urlopen(site["base"] + site["url"], timeout=10) as response:
        html = response.read().decode()
    stylesheet = html.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    with urllib.request.urlopen(site["base"] + stylesheet, timeout=10) as response:
        cache_control = response.headers.get_all("Cache-Control")
        assert cache_control == ["public, max-age=31536000, immutable"]
        assert "X-Page-Cache" not in response.headers  # never reached gunicorn
