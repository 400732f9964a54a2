"""Production serving: deploy checks, security headers, throttling, health, faults."""

import datetime
import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from blog.models import TaskWorker
from blog.settings import redis_cache
from blog.storage import StaticFilesStorage
from comments.models import PostLike
from tests.factories import make_post, make_user

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "blog.example.com",
    "SITE_URL": "https://blog.example.com",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PAGE_CACHE"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def random_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def test_check_deploy_is_clean_with_production_values():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=random_secret_key(),
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


PRODUCTION_HEADERS = """
from django.test import Client
response = Client().get("/healthz", secure=True, headers={"host": "blog.example.com"})
print(dict(response.headers))
redirect = Client().get("/healthz", headers={"host": "blog.example.com"})
print(redirect.status_code, redirect["Location"])
"""


def test_production_sends_hsts_and_redirects_http_to_https(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        PRODUCTION_HEADERS,
        DJANGO_SECRET_KEY=random_secret_key(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        CACHE_DIR=str(tmp_path / "cache"),
        **PRODUCTION_ENV,
    )
    headers_line, redirect_line = result.stdout.strip().splitlines()[-2:]
    assert (
        "'Strict-Transport-Security': 'max-age=31536000; includeSubDomains; preload'"
        in (headers_line)
    ), result.stderr
    assert redirect_line == "301 https://blog.example.com/healthz"


@pytest.mark.django_db
def test_pages_send_a_csp_without_inline_code_and_security_headers(client):
    post = make_post()
    response = client.get(post.get_absolute_url())
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def failed_admin_login(client, username: str):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": "not-the-password", "next": "/admin/"},
        REMOTE_ADDR="203.0.113.7",
    )


@pytest.mark.django_db
def test_admin_login_locks_out_after_five_failures(client):
    make_user(username="editor", is_staff=True, is_superuser=True)
    for _ in range(4):
        assert failed_admin_login(client, "editor").status_code == 200
    locked = failed_admin_login(client, "editor")
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert b"try again in 15 minutes" in locked.content
    # Even the right password is refused during the lockout...
    right = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a-long-test-password"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert right.status_code == 429
    # ...but only for that username from that address.
    elsewhere = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a-long-test-password", "next": "/admin/"},
        REMOTE_ADDR="198.51.100.2",
    )
    assert elsewhere.status_code == 302


# Behind proxies: the reader's address from X-Forwarded-For, as many hops
# from the right as there are trusted proxies, and never otherwise.


def like_from(client, post, forwarded_for: str) -> str:
    """Like `post` through a proxy at 10.0.0.5; the address the like recorded."""
    client.post(
        reverse("comments:like_post", args=[post.pk]),
        {"intent": "like"},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    return PostLike.objects.get(post=post).ip_address


@pytest.mark.django_db
@pytest.mark.parametrize(
    "proxies, forwarded_for, recorded",
    [
        (0, "203.0.113.7", "10.0.0.5"),  # no proxy trusted: the header is a lie
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client wrote 6.6.6.6
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.5"),  # fewer hops than proxies
        (1, "not-an-address", "10.0.0.5"),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_reader_address_comes_from_trusted_proxies_only(
    client, settings, proxies, forwarded_for, recorded
):
    settings.INKWELL_TRUSTED_PROXIES = proxies
    assert like_from(client, make_post(), forwarded_for) == recorded


@pytest.mark.django_db
def test_login_throttling_tells_readers_apart_behind_a_proxy(client, settings):
    """Without the setting, everyone behind the proxy shares one lockout."""
    settings.INKWELL_TRUSTED_PROXIES = 1
    make_user(username="editor", is_staff=True)
    through_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(5):
        client.post(
            reverse("admin:login"),
            {"username": "editor", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="203.0.113.7",
            **through_proxy,
        )
    response = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a-long-test-password", "next": "/admin/"},
        HTTP_X_FORWARDED_FOR="198.51.100.2",
        **through_proxy,
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_admin_login_with_the_right_password_signs_in(client):
    make_user(username="editor", is_staff=True)
    failed_admin_login(client, "editor")
    response = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a-long-test-password", "next": "/admin/"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_client_still_signs_in(admin_client):
    assert admin_client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_healthz_reports_database_cache_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "tasks": {
            "status": "ok",
            "waiting_too_long": 0,
            "failed_last_day": 0,
            "worker": "ok",  # tasks run at once in tests: no worker to watch
        },
    }


@task()
def healthz_probe() -> None:
    """A task nobody runs: the queue check only counts rows."""


@pytest.mark.django_db
def test_healthz_says_degraded_for_stuck_and_failed_tasks(client, database_tasks):
    stuck = healthz_probe.enqueue()
    healthz_probe.enqueue()  # just enqueued: not stuck
    failed = healthz_probe.enqueue()
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    DBTaskResult.objects.filter(pk=stuck.id).update(enqueued_at=an_hour_ago)
    DBTaskResult.objects.filter(pk=failed.id).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now()
    )
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["tasks"] == {
        "status": "degraded",
        "waiting_too_long": 1,
        "failed_last_day": 1,
        "worker": "no worker has checked in (is `manage.py db_worker` running?)",
    }


@pytest.mark.django_db
def test_healthz_names_a_task_worker_that_has_not_checked_in_for_a_minute(
    client, database_tasks
):
    worker = TaskWorker.objects.create(
        worker_id="w1", host="app1", pid=42, checked_in_at=timezone.now()
    )
    assert client.get("/healthz").json()["tasks"]["worker"] == "ok"
    assert client.get("/healthz").json()["status"] == "ok"

    worker.checked_in_at = timezone.now() - datetime.timedelta(seconds=75)
    worker.save()
    response = client.get("/healthz")
    assert response.status_code == 200  # the site serves; mail waits
    assert response.json()["status"] == "degraded"
    assert response.json()["tasks"]["worker"] == ("no worker has checked in for 75 s")

    # Another worker that checked in just now is enough.
    TaskWorker.objects.create(
        worker_id="w2", host="app2", pid=7, checked_in_at=timezone.now()
    )
    assert client.get("/healthz").json()["tasks"]["worker"] == "ok"


DATABASE_DOWN = """
from django.test import Client
client = Client(raise_request_exception=False)
for path in ["/", "/healthz"]:
    response = client.get(path)
    print(path, response.status_code, response.get("Retry-After"))
    print(response.content.decode())
"""


def test_database_down_answers_503_not_a_traceback(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        DATABASE_DOWN,
        DATABASE_URL="postgres://inkwell@127.0.0.1:9/closed",
        CACHE_DIR=str(tmp_path / "cache"),
    )
    out = result.stdout
    assert "/ 503 60" in out, out + result.stderr
    assert "Temporarily unavailable" in out
    assert "Traceback" not in out
    assert "/healthz 503" in out
    health = json.loads(out[out.index('{"status"') :].splitlines()[0])
    assert health["status"] == "error"
    assert health["database"] == "error: OperationalError"
    assert health["cache"] == "ok"


def unreachable_redis(settings) -> None:
    settings.CACHES = {"default": redis_cache("redis://127.0.0.1:9/0", timeout=0.2)}


@pytest.mark.django_db
def test_site_keeps_serving_and_says_degraded_when_redis_is_down(
    client, settings, caplog
):
    post = make_post(title="Still here")
    unreachable_redis(settings)
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert b"Still here" in response.content
    assert "Redis failed" in caplog.text
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["cache"] == "error: no answer"
    assert health.json()["database"] == "ok"


def test_static_urls_are_hashed_and_worked_out_once(tmp_path, settings):
    settings.DEBUG = False  # in development the names are not hashed
    manifest = {"paths": {"css/site.css": "css/site.0123abcd.css"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    storage = StaticFilesStorage(location=tmp_path, base_url="/static/")
    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
    storage.hashed_files.clear()  # the manifest is not read again
    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        storage.url("css/missing.css")
