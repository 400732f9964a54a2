"""A throwaway Django for the bench scripts: a temporary SQLite database and
cache, production-like settings (no template debug, no query log).

    import sandbox
    WORKDIR = sandbox.start()   # before importing anything from Django's ORM

`start(database_url)` with a PostgreSQL address uses that database instead,
made empty first (it must be one of the bench's own: it is dropped).
"""

import os
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(database_url: str = "") -> tempfile.TemporaryDirectory:
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.TemporaryDirectory(prefix="inkwell-bench-")
    if database_url:
        empty_postgresql_database(database_url)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="blog.settings",
        DATABASE_URL=database_url or f"sqlite:///{workdir.name}/bench.sqlite3",
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


def empty_postgresql_database(url: str) -> None:
    """Drop and create the database `url` names, on its server."""
    from urllib.parse import urlsplit

    import psycopg

    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("inkwell_bench"):
        sys.exit(f"a bench database's name starts with inkwell_bench, not {name!r}")
    server = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
