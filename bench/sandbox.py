"""A throwaway Django for the bench scripts: a temporary SQLite database and
cache, production-like settings (no template debug, no query log).

    import sandbox
    WORKDIR = sandbox.start()   # before importing anything from Django's ORM
"""

import os
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start() -> tempfile.TemporaryDirectory:
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.TemporaryDirectory(prefix="inkwell-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="blog.settings",
        DATABASE_URL=f"sqlite:///{workdir.name}/bench.sqlite3",
        CACHE_DIR=f"{workdir.name}/cache",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-not-used-anywhere-else-0123456789",
        DJANGO_ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    # WhiteNoise looks for collected static files, which a bench does not need.
    warnings.filterwarnings("ignore", message="No directory at")
    return workdir
