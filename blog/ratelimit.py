"""Counts actions per key over a sliding window, in the shared cache; when the
cache does not answer, in the database.

The default cache is shared by the processes of one machine and Redis by many,
so every app server sees the same counts. A window is kept as ten slices
(`SLICES`): an action counts in the slice it fell in, and a new one is
allowed while the slices covering the last `window` seconds hold fewer than
`limit`. That is never more than `limit` in any `window` seconds, across
slice and window boundaries alike (a fixed window let twice `limit` through
around its edge); an action stops counting between 1 and 1.1 windows after
it was made.

Redis down or stalled (django-redis with IGNORE_EXCEPTIONS answers None,
and blog/cache.py's breaker refuses at once) must not turn a limit off: the
caller passes `fallback`, which counts the same actions from the rows they
left in the database. Without one, the action is allowed.
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable

from django.core.cache import cache
from django.utils.crypto import salted_hmac

SLICES = 10

# Counts the actions since the given time, this one included.
Fallback = Callable[[datetime.datetime], int]


def within_limit(
    scope: str,
    value: str,
    limit: int,
    window: int,
    *,
    fallback: Fallback | None = None,
) -> bool:
    """Count one more action by `value` in `scope`; False once past `limit`
    actions in the last `window` seconds.

    `value` (an email address, an IP) is stored only as a keyed hash.
    """
    now = time.time()
    width = window / SLICES
    current = int(now // width)
    hashed = salted_hmac("inkwell.ratelimit", value.strip().lower()).hexdigest()
    prefix = f"inkwell:rate:{scope}:{window}:{hashed[:20]}:"
    # A slice is read until the window has passed its end.
    lifetime = math.ceil((current + 1) * width - now + window)
    count = _increment(prefix + str(current), lifetime)
    if count is None:
        if fallback is None:
            return True
        since = datetime.datetime.fromtimestamp(now - window, tz=datetime.UTC)
        return fallback(since) <= limit
    # The slice the window's start falls in counts whole: never too few.
    earlier = [f"{prefix}{number}" for number in range(current - SLICES, current)]
    count += sum(filter(None, cache.get_many(earlier).values()))
    return count <= limit


def _increment(key: str, lifetime: int) -> int | None:
    """The slice's count with this action, or None if the cache did not answer
    (django-redis with IGNORE_EXCEPTIONS: Redis is away)."""
    cache.add(key, 0, timeout=lifetime)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=lifetime)
        return 1
