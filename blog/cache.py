"""The Redis connection of the cache: after a failure, stop asking for a while.

django-redis with IGNORE_EXCEPTIONS turns a Redis error into a cache miss,
but each cache call still waits out its socket timeout: a stalled Redis (a
network partition, `kill -STOP`) would cost every request one timeout per
cache call. This connection class (settings.CACHES, CONNECTION_POOL_KWARGS)
is a circuit breaker shared by every connection of the process: once a
connection fails, every connection refuses at once for `RETRY_AFTER` seconds,
then one call tries again.
"""

import logging
import time

from redis.connection import Connection
from redis.exceptions import ConnectionError, TimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0  # seconds
_FAILURES = (ConnectionError, TimeoutError, OSError)


class CircuitBreakerConnection(Connection):
    open_until = 0.0  # monotonic time; the same for every connection

    @classmethod
    def guarded(cls, call, *args, refuse_while_open: bool = True, **kwargs):
        if refuse_while_open and time.monotonic() < cls.open_until:
            raise ConnectionError("Redis failed a moment ago; not asking yet.")
        try:
            return call(*args, **kwargs)
        except _FAILURES as error:
            if time.monotonic() >= cls.open_until:
                logger.warning(
                    "Redis failed (%s); serving without it for %s s",
                    error,
                    RETRY_AFTER,
                )
            cls.open_until = time.monotonic() + RETRY_AFTER
            raise

    def connect_check_health(self, *args, **kwargs):
        return self.guarded(super().connect_check_health, *args, **kwargs)

    def send_packed_command(self, *args, **kwargs):
        return self.guarded(super().send_packed_command, *args, **kwargs)

    def read_response(self, *args, **kwargs):
        # The answer to a command already sent is read even while open.
        return self.guarded(
            super().read_response, *args, refuse_while_open=False, **kwargs
        )
