import os
import signal
from pathlib import Path

import pytest
from django.core.cache import cache, caches

from tests.workers import redis_url_of_worker, worker_number

E2E = Path(__file__).resolve().parent / "e2e"

if os.environ.get("REDIS_URL"):  # passed on to the servers tests start
    os.environ["REDIS_URL"] = redis_url_of_worker(
        os.environ["REDIS_URL"], worker_number()
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Keep the browser checks out of `make test`: they need Chromium and time.

    They run only when named, as `make e2e` does (`pytest tests/e2e`).
    """
    if collection_path != E2E:
        return None
    named = (Path(arg.split("::")[0]).resolve() for arg in config.args)
    if any(path == E2E or E2E in path.parents for path in named):
        return None
    return True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "scaleout: starts app servers sharing PostgreSQL and Redis; collected "
        "only when DATABASE_URL is PostgreSQL and REDIS_URL is set",
    )
    config.addinivalue_line(
        "markers",
        "faults: starts servers of its own (PostgreSQL, Redis) and kills, "
        "freezes and restarts them; slow, so collected only when asked for "
        "with `-m faults` (.ci/run does)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Deselect the scale-out tests unless PostgreSQL and Redis are there,
    and the fault tests unless `-m faults` asks for them.

    Several app servers need a database server and a cache they share: a
    SQLite file and the file cache are one machine's. CI runs them in its
    PostgreSQL run (.ci/run sets REDIS_URL there). The fault tests start
    their own servers (they need PostgreSQL's and Redis's programs
    installed, not running) and take a while; .ci/run runs them on their own.
    """
    from django.conf import settings

    shared = "postgresql" in settings.DATABASES["default"]["ENGINE"] and bool(
        settings.REDIS_URL
    )
    left_out = set() if shared else {"scaleout"}
    if "faults" not in (config.getoption("markexpr") or ""):
        left_out.add("faults")
    deselected = [
        item
        for item in items
        if any(item.get_closest_marker(name) for name in left_out)
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test starts with an empty cache of its own.

    Without REDIS_URL a local-memory cache (one per test process);
    with it, the tests use the real Redis and clear it around each test.
    Sessions then stay in the database as without Redis (production's
    cached_db would save the session query on signed-in pages), so the pinned
    query counts hold on every run; tests/test_scaleout.py uses the real
    cached sessions.
    """
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        from blog.settings import redis_cache

        settings.CACHES = {
            **settings.CACHES,
            "default": redis_cache(os.environ["REDIS_URL"]),
        }
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    else:
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "template_fragments": settings.CACHES["template_fragments"],
        }
    from blog.cache import CircuitBreakerConnection
    from blog.pagecache import recent_copies

    CircuitBreakerConnection.open_until = 0.0  # one test's outage stays its own

    cache.clear()
    caches["template_fragments"].clear()
    recent_copies.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Tasks run as they are enqueued, so `mailoutbox` sees mail at once.

    Tests of the real queue (deferred retries, the worker) switch back to the
    database backend with the `database_tasks` fixture.
    """
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """moto's S3-compatible server (server mode: real HTTP), in this process,
    on a port of its own: the media bucket of tests/test_media.py and of the
    app servers of tests/test_scaleout.py."""
    from moto.server import ThreadedMotoServer

    from tests.servers import free_ports

    [port] = free_ports(1, range(8140, 8150))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def restore_signals():
    """db_worker installs its own SIGINT/SIGTERM handlers; put pytest's back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories create users with passwords; the real hasher costs ~0.3 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lenient_moderation(settings, db):
    """Comments sent through the form are published: for tests about posting
    and mail, not about moderation (tests/test_moderation.py has those rules:
    first-time commenters held, too fast, rate limits)."""
    from comments.models import DiscussionSettings

    settings.INKWELL_COMMENT_MIN_SECONDS = 0
    settings.INKWELL_COMMENT_RATE_LIMITS = []
    DiscussionSettings.objects.create(hold_policy="never")


@pytest.fixture
def cache_down(settings):
    """The cache is a Redis that does not answer (nothing listens on its
    port, in this project's range): every call comes back empty or None, as
    django-redis with IGNORE_EXCEPTIONS answers during an outage."""
    from blog.settings import redis_cache

    settings.CACHES = {
        "default": redis_cache("redis://127.0.0.1:8199/0", timeout=0.2),
        "template_fragments": settings.CACHES["template_fragments"],
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
