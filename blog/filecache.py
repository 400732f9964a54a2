"""The cache on one machine: Django's FileBasedCache, culled now and then.

FileBasedCache lists its whole folder before every write, to cull it once it
holds MAX_ENTRIES: with the 10,000 entries a running site soon keeps, that
listing costs 7 ms, and a post page built after a change writes a dozen
entries (its fragments, thread, outline and likes line). Here the folder is
listed on the first write of each process and then once every `CULL_EVERY`
writes, so the cache may hold a few hundred entries past MAX_ENTRIES before
it is culled as Django culls it. Everything else (the file format, expiry,
`add`, `touch`) is Django's.
"""

from django.core.cache.backends.filebased import FileBasedCache


class FileCache(FileBasedCache):
    CULL_EVERY = 100

    def __init__(self, dir: str, params: dict) -> None:
        super().__init__(dir, params)
        self._writes = 0

    def _cull(self) -> None:
        # FileBasedCache.set() calls this before each write.
        if self._writes % self.CULL_EVERY == 0:
            super()._cull()
        self._writes += 1
