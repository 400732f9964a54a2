"""The cache on one machine: Django's FileBasedCache, culled now and then,
replacing an entry without waiting for the disk, and incr() keeping the
entry's expiry.

FileBasedCache lists its whole folder before every write, to cull it past
MAX_ENTRIES: 7 ms with the 10,000 entries a running site soon keeps, and a
post page built after a change writes a dozen. Here it is listed on the
first write of each process and then every `CULL_EVERY` writes, so the cache
may hold a few hundred entries past MAX_ENTRIES before it is culled as
Django culls it. Each key's file name (a hash of the key) is worked out once
per process: it was half the cost of reading a content version.

Django writes each entry to a temporary file renamed over the old one, and
ext4 writes a file renamed over another to disk first (`auto_da_alloc`):
0.2 to 3 ms for every entry that changes (a content version bumped, a rate
limit counted), against 0.03 ms renamed to a free name. So the old file is
removed first: a reader in between finds no entry, as after an expiry.

Django's incr() writes the new value with the default timeout (300 s): a
content version that should never expire went after five minutes. Here
incr() keeps the entry's expiry, as Redis and Django's memory cache do.
"""

import contextlib
import os
import pickle
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache


class FileCache(FileBasedCache):
    CULL_EVERY = 100
    KNOWN_NAMES = 10_000

    def __init__(self, dir: str, params: dict) -> None:
        super().__init__(dir, params)
        self._writes = 0
        self._names: dict[tuple[str, int | None], str] = {}

    def _key_to_file(self, key: str, version: int | None = None) -> str:
        name = self._names.get((key, version))
        if name is None:
            if len(self._names) >= self.KNOWN_NAMES:
                self._names.clear()
            name = self._names[key, version] = super()._key_to_file(key, version)
        return name

    def _cull(self) -> None:
        # FileBasedCache.set() calls this before each write.
        if self._writes % self.CULL_EVERY == 0:
            super()._cull()
        self._writes += 1

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        # Django's set() renames its temporary file to the free name.
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._key_to_file(key, version))
        super().set(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        value = self.get(key, self._missing_key, version)
        try:
            with open(self._key_to_file(key, version), "rb") as f:
                # The expiry (a time, or None for never) is what Django's
                # file format holds first, as its _is_expired() reads it.
                expiry = pickle.load(f)
        except (FileNotFoundError, EOFError):
            value = self._missing_key
        if value is self._missing_key:
            raise ValueError(f"Key '{key}' not found")
        timeout = None if expiry is None else expiry - time.time()
        self.set(key, value + delta, timeout, version)
        return value + delta
