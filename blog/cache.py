"""Cache backends: the file cache (one machine) and a Redis cache that keeps
the site up while Redis is down."""

import io
import logging
import os
import pickle
import time
import zlib

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class FileCache(FileBasedCache):
    """Django's FileBasedCache (the same files), with a cheaper `get`.

    The page cache reads the content version on every request; Django's `get`
    spent more on its buffered file object than on the read itself.
    """

    def get(self, key, default=None, version=None):
        fname = self._key_to_file(key, version)
        try:
            fd = os.open(fname, os.O_RDONLY)
        except FileNotFoundError:
            return default
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(fd)
        content = io.BytesIO(b"".join(chunks))
        try:
            expiry = pickle.load(content)
        except EOFError:
            expiry = 0  # An empty file is expired, as in FileBasedCache.
        if expiry is not None and expiry < time.time():
            self._delete(fname)
            return default
        return pickle.loads(zlib.decompress(content.read()))


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one redis.Redis per connection pool.

    Django builds a new redis.Redis for every cache operation, and with
    redis-py 5+ that costs more than the round trip to Redis (about 150 µs of
    Python filling its response callbacks). A redis.Redis only wraps its
    pool and is safe to share between threads.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, except that an unreachable Redis is a cache miss.

    Django's backend raises on every connection error, which would turn a
    Redis outage into a site-wide 500. Here reads answer "not cached", writes
    are dropped, `incr` raises ValueError (what a missing key raises), and
    the error is logged at most once every ten seconds per process. Keep the
    socket timeouts short (settings.py) so that a dead Redis costs little.
    """

    _last_logged = 0.0

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def _failed(self, operation: str, exc: RedisError) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_logged >= 10:
            ResilientRedisCache._last_logged = now
            logger.warning(
                "Redis cache %s failed; serving without it: %s", operation, exc
            )

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            self._failed("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            self._failed("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as exc:
            self._failed("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            self._failed("add", exc)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            self._failed("set", exc)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            self._failed("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as exc:
            self._failed("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as exc:
            self._failed("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as exc:
            self._failed("delete_many", exc)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError as exc:
            self._failed("incr", exc)
            raise ValueError("The cache is unavailable.") from exc

    def clear(self):
        try:
            return super().clear()
        except RedisError as exc:
            self._failed("clear", exc)
            return False
