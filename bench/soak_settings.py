"""Settings of the Redis soak's gunicorn (bench/redis_soak.py): the bench's,
with comments published at once, so that each one bumps the versions."""

from bench.settings import *  # noqa: F403

COMMENTS_XTD_CONFIRM_EMAIL = False
