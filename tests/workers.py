"""`make test` runs the suite in two processes (pytest-xdist): each its own.

pytest-django already gives each process a test database of its own (named
after the worker). tests/conftest.py gives each a Redis database of its own
(`redis_url_of_worker`: the tests empty theirs around every test), which the
servers it starts inherit, and `tests.servers.free_ports` gives each its own
share of a port range.
"""

import os
import re


def worker_number() -> int:
    """0 in a run without workers, N for xdist's worker gwN."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def worker_count() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def redis_url_of_worker(url: str, number: int) -> str:
    """`url` with its database number moved down by `number` (15, 14, ...)."""
    match = re.fullmatch(r"(?P<server>redis://[^/]+)(?:/(?P<db>\d+))?", url)
    if not match or not number:
        return url
    database = (int(match["db"] or 0) - number) % 16
    return f"{match['server']}/{database}"
