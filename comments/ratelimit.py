"""Counts actions per key in fixed time windows, in the shared cache.

The default cache is shared by the processes of one machine and Redis by many,
so every app server sees the same counts.
"""

import math
import time

from django.core.cache import cache
from django.utils.crypto import salted_hmac


def within_limit(scope: str, value: str, limit: int, window: int) -> bool:
    """Count one more action by `value` in `scope`; False once past `limit`.

    `value` (an email address, an IP) is stored only as a keyed hash.
    """
    now = time.time()
    bucket = int(now // window)
    remaining = math.ceil((bucket + 1) * window - now)
    hashed = salted_hmac("inkwell.ratelimit", value.strip().lower()).hexdigest()
    key = f"inkwell:rate:{scope}:{window}:{hashed[:20]}:{bucket}"
    cache.add(key, 0, timeout=remaining)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=remaining)
        count = 1
    cache.touch(key, remaining)  # the file cache's incr() resets the timeout
    # None: Redis did not answer (django-redis with IGNORE_EXCEPTIONS), as the
    # old backend's ValueError did, counted as the first action.
    return (count or 1) <= limit
