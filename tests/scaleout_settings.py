"""Settings of the app servers that tests/test_scaleout.py starts.

Production settings (DJANGO_DEBUG=0 comes from the environment), with what
twenty clients on one address posting 200 comments in seconds would
otherwise trip over: the per-IP and per-address rate limits, the "too fast"
hold, and email confirmation (replies need an approved parent). Static
files are collected into a temporary folder (SCALEOUT_STATIC_ROOT), not the
checkout's staticfiles/, with hashed names as in production but without the
gzip/brotli copies (they triple collectstatic's time and no test reads them).
"""

import os

from blog.settings import *  # noqa: F403

STATIC_ROOT = os.environ["SCALEOUT_STATIC_ROOT"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}
INKWELL_COMMENT_RATE_LIMITS = []
INKWELL_COMMENT_MIN_SECONDS = 0
COMMENTS_XTD_CONFIRM_EMAIL = False
