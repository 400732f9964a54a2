"""Redis killed, frozen and restarted under the site: a redis-server of the
test's own (never the machine's), stopped by its PID.

Marked `faults`: collected only with `-m faults` (.ci/run runs them).
"""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from blog import cache as redis_connection
from blog.settings import redis_cache
from comments.models import Comment
from tests.factories import comment_form_data, make_comment, make_post

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

PORT = 8117  # the range this project's helpers keep for this work


class RedisServer:
    def __init__(self, port: int, folder) -> None:
        self.port = port
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def signal(self, number: int) -> None:
        os.kill(self.process.pid, number)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()


@pytest.fixture
def redis_server(settings, tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(PORT, tmp_path)
    server.start()
    settings.CACHES = {
        "default": redis_cache(f"redis://127.0.0.1:{PORT}/0", timeout=0.5)
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    redis_connection.CircuitBreakerConnection.open_until = 0.0
    try:
        yield server
    finally:
        server.stop()
        redis_connection.CircuitBreakerConnection.open_until = 0.0


def timed_get(client, url: str):
    start = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - start


def test_a_stalled_redis_costs_one_timeout_not_one_per_cache_call(client, redis_server):
    url = make_post(title="Still served").get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    redis_server.signal(signal.SIGSTOP)
    try:
        first, first_took = timed_get(client, url)
        rest = [timed_get(client, url) for _ in range(5)]
    finally:
        redis_server.signal(signal.SIGCONT)
    assert first.status_code == 200
    assert b"Still served" in first.content
    assert first_took < 2.5  # one 0.5 s timeout (and a retry), not one per call
    # The breaker stays open (5 s): no later request waits for Redis.
    assert all(response.status_code == 200 for response, _ in rest)
    assert all(took < 0.5 for _, took in rest)
    health = client.get("/healthz")
    assert health.status_code == 200


@pytest.fixture
def quick_breaker(monkeypatch) -> None:
    """The breaker closes after 1 s, so a test need not wait 5 s for it."""
    monkeypatch.setattr(redis_connection, "RETRY_AFTER", 1.0)


def test_a_change_made_while_redis_stalls_shows_once_it_is_back(
    client, redis_server, settings, quick_breaker
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    post = make_post()
    url = post.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    redis_server.signal(signal.SIGSTOP)
    try:
        make_comment(post=post, body="Posted during the stall")
    finally:
        redis_server.signal(signal.SIGCONT)
    time.sleep(1.1)  # the breaker lets the next call through
    page = client.get(url)
    assert "Posted during the stall" in page.text
    assert page["X-Page-Cache"] == "miss"


def test_redis_killed_and_restarted_the_site_serves_throughout(
    client, redis_server, quick_breaker
):
    url = make_post(title="Always here").get_absolute_url()
    client.get(url)
    redis_server.signal(signal.SIGKILL)
    redis_server.process.wait()
    down = client.get(url)
    assert down.status_code == 200
    assert b"Always here" in down.content
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["cache"] != "ok"
    redis_server.start()
    time.sleep(1.1)
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    assert client.get("/healthz").json()["cache"] == "ok"


def test_rate_limits_hold_with_redis_killed(client, redis_server, settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    settings.INKWELL_COMMENT_RATE_LIMITS = [("ip", 5, 60)]
    post = make_post()
    redis_server.signal(signal.SIGKILL)
    redis_server.process.wait()
    answers = [
        client.post(
            "/comments/post/",
            comment_form_data(post, seconds_ago=60, comment=f"Burst {number}"),
        ).status_code
        for number in range(8)
    ]
    assert answers == [302] * 5 + [400] * 3
    assert Comment.objects.count() == 5


def test_rate_limits_hold_with_redis_stalled(client, redis_server, settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    settings.INKWELL_COMMENT_RATE_LIMITS = [("ip", 5, 60)]
    post = make_post()
    redis_server.signal(signal.SIGSTOP)
    try:
        answers = [
            client.post(
                "/comments/post/",
                comment_form_data(post, seconds_ago=60, comment=f"Stalled {number}"),
            ).status_code
            for number in range(8)
        ]
    finally:
        redis_server.signal(signal.SIGCONT)
    assert answers == [302] * 5 + [400] * 3
    assert Comment.objects.count() == 5
