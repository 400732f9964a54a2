"""Pieces of pages that every reader sees alike, built once per content version.

A post's article, neighbours and related posts, its metadata, a page of post
summaries: they change only when something bumps the page cache's content
version (blog/pagecache.py), so they are kept in the shared cache under that
version and every process stops using them the moment anything changes. As
cached pages do, a fragment lives at most until the next scheduled post goes
live, since a post published by the clock sends no signal.

Unlike the page cache, fragments serve every reader, signed in or not, so
nothing that differs between readers may go into one: no CSRF token, no
reader's name, no "you like this", no staff-only link.

In templates: `{% load inkwell_fragments %}{% fragment "name" key… %}…
{% endfragment %}`; in Python: `cached("name", key…, build=function)`.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from blog import pagecache


def cached(name: str, *key: object, build: Callable[[], Any]) -> Any:
    """The value `build()` returned for `name` and `key` in this content version.

    `key` holds whatever tells two fragments of the same name apart (a post's
    id, a page's path); values are compared as text.
    """
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode()).hexdigest()
    cache_key = f"fragment:{pagecache.content_version()}:{name}:{digest}"
    entry = cache.get(cache_key)
    # The expiry is checked here too, as the page cache does: backends keep
    # entries by their own clock, in whole seconds.
    if entry is not None and entry[0] > time.time():
        return entry[1]
    value = build()
    seconds = lifetime()
    if seconds >= 1:
        cache.set(cache_key, (time.time() + seconds, value), timeout=seconds)
    return value


def lifetime() -> int:
    """Seconds a new fragment may live: whole seconds, rounded down, so that
    it is gone before the next scheduled post goes live."""
    return math.floor(
        pagecache.lifetime(float(settings.INKWELL_FRAGMENT_CACHE_SECONDS))
    )
