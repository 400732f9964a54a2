from pathlib import Path

import pytest
from django.core.cache import cache

E2E = Path(__file__).resolve().parent / "e2e"


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


@pytest.fixture(autouse=True)
def _isolated_cache(settings, tmp_path):
    """Each test starts with an empty cache of its own.

    Without REDIS_URL the file cache goes to a temporary folder; with it, the
    tests use the real Redis and clear it around each test.
    """
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    cache.clear()
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


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


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
