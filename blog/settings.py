"""Inkwell settings, read from the environment.

Every variable is optional: the defaults give a working single-machine site on
SQLite. Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY and
DJANGO_ALLOWED_HOSTS (README, "Configuration").
"""

import datetime
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-inkwell-development-key-never-use-in-production"

SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS",
    "127.0.0.1,localhost,testserver" if DEBUG else (_site.hostname or ""),
)
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "blog",
    "comments",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.redirects",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_comments_xtd",
    "django_comments",
    "markdownx",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
]

MIDDLEWARE = [
    # Behind proxies (TRUSTED_PROXIES), the reader's address from X-Forwarded-For.
    "blog.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Text answers gzipped (static files are WhiteNoise's, above), page cache
    # hits included.
    "blog.compression.TextCompressionMiddleware",
    # Anonymous pages from the shared cache (ARCHITECTURE.md, "Caching"),
    # served before everything below: blog/pagecache.py says how
    # a hit still gets what CSP, sessions, CSRF, auth and messages would add.
    "blog.pagecache.PageCacheMiddleware",
    # django-csp's, with Gravatar's pictures let in while it is on.
    "blog.middleware.SiteCSPMiddleware",
    # A database outage answers 503 with a static page, not a traceback.
    "blog.middleware.DatabaseUnavailableMiddleware",
    # The site's language and time zone, as chosen in the admin (blog/locale.py).
    "blog.locale.SiteLocaleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Old URLs (changed slugs, imported WordPress permalinks) answer 301:
    # django.contrib.redirects' middleware, but the old address of a draft or
    # private post stays a 404 (blog/redirects.py).
    "blog.redirects.RedirectFallbackMiddleware",
    # A post's thread joined into the page's bytes after rendering, rather than
    # copied through every level of the template (blog/splice.py).
    "blog.splice.SpliceMiddleware",
    # django-axes: turns a locked-out login into the lockout page; keep it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "blog.urls"
WSGI_APPLICATION = "blog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # LANGUAGE_CODE and LANGUAGE_BIDI: <html lang dir> (base.html).
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blog.context_processors.site",
                # {% cache %} timeout and versions; the page cache's CSRF
                # placeholder (blog/pagecache.py).
                "blog.pagecache.versions",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once: what several gunicorn
    # workers on one machine need. IMMEDIATE avoids "database is locked" on
    # transactions that read before they write. Connections persist (60 s, as
    # above): opening one, with its PRAGMAs, cost ~0.8 ms of every request.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_cache(url: str, timeout: float = 0.5) -> dict:
    """django-redis at `url`. Redis down or stalled is a cache miss, not a
    500; after one failure the process stops asking for a few seconds
    (blog/cache.py), so a stall costs one short timeout, not one per call."""
    from blog.cache import CircuitBreakerConnection

    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "inkwell",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": timeout,
            "SOCKET_TIMEOUT": timeout,
            "CONNECTION_POOL_KWARGS": {"connection_class": CircuitBreakerConnection},
        },
    }


REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # A file cache is shared by every process on this machine, so an
    # invalidation made by one gunicorn worker is seen by the others.
    CACHES = {
        "default": {
            # Django's FileBasedCache, its folder listed less often.
            "BACKEND": "blog.filecache.FileCache",
            "LOCATION": os.environ.get("CACHE_DIR", str(BASE_DIR / ".cache")),
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# `{% cache %}` fragments: each process's own memory. Their keys name the
# site version (blog/pagecache.py), so a process's copy is as current as a
# shared one would be, and a fragment costs a render per process and version
# (a millisecond or two) where a shared copy cost a write on every miss and
# a round trip on every hit.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "inkwell-fragments",
    "OPTIONS": {"MAX_ENTRIES": 2_000},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
]

# The site's language and time zone: these are the defaults, an administrator
# chooses others in the admin (Site identity); blog/locale.py applies them to
# every request, mail and background task. One language per site, so no
# LocaleMiddleware: readers all get the site's language.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en-us").strip().lower() or "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# The languages Inkwell ships a translation for (locale/); names in English,
# as Django's own list has them, and shown translated in the admin.
LANGUAGES = [
    ("en", "English"),
    ("ar", "Arabic"),
    ("de", "German"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("zh-hans", "Simplified Chinese"),
]
if LANGUAGE_CODE.partition("-")[0] not in {
    code.partition("-")[0] for code, _ in LANGUAGES
}:
    # Another language Django knows (LANGUAGE_CODE=ja): Django's own words in
    # it, ours in English until a catalogue is added (README, "Languages").
    from django.conf.locale import LANG_INFO

    if LANGUAGE_CODE not in LANG_INFO:
        raise ImproperlyConfigured(
            f"LANGUAGE_CODE={LANGUAGE_CODE!r} is not a language Django knows; "
            f"Inkwell ships {', '.join(code for code, _ in LANGUAGES)}."
        )
    LANGUAGES.append((LANGUAGE_CODE, LANG_INFO[LANGUAGE_CODE]["name"]))
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as the site always wrote them ("December 3, 2026"); other
# languages use Django's formats for their locale.
FORMAT_MODULE_PATH = ["blog.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_STORAGE_OPTIONS = ("endpoint_url", "region_name", "addressing_style")


def media_storage(url: str) -> dict:
    """STORAGES["default"]: the local disk (MEDIA_ROOT) for an empty `url`,
    or `s3://BUCKET[/PREFIX][?endpoint_url=…&region_name=…&addressing_style=…]`
    for an S3-compatible bucket that several machines share (blog/bucket.py).
    Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or
    wherever boto3 finds them), never from the URL."""
    if not url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    unknown = set(options) - set(MEDIA_STORAGE_OPTIONS)
    if parts.scheme != "s3" or not parts.hostname or parts.username or unknown:
        raise ImproperlyConfigured(
            f"MEDIA_STORAGE_URL={url!r}: expected s3://BUCKET[/PREFIX], optionally "
            f"with ?{'=…&'.join(MEDIA_STORAGE_OPTIONS)}=… (credentials go in "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)."
        )
    return {
        "BACKEND": "blog.bucket.MediaStorage",
        "OPTIONS": {
            "bucket_name": parts.hostname,
            "location": parts.path.strip("/"),
            **options,
        },
    }


STORAGES = {
    "default": media_storage(os.environ.get("MEDIA_STORAGE_URL", "")),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "blog.storage.StaticFilesStorage"
        )
    },
}

# In development (and tests) WhiteNoise serves straight from static/.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

SITE_ID = 1
FIXTURE_DIRS = [BASE_DIR / "fixtures"]
LOGIN_URL = "admin:login"

# Email: EMAIL_URL (smtp://user:pass@host:587/?tls=True) or Django's EMAIL_*.
if os.environ.get("EMAIL_URL"):
    globals().update(dj_email_url.parse(os.environ["EMAIL_URL"]))
else:
    EMAIL_BACKEND = os.environ.get(
        "EMAIL_BACKEND",
        "django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend",
    )
    EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", f"Inkwell <noreply@{_site.hostname or 'localhost'}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work (mail): the database queue; `manage.py db_worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Blog
INKWELL_SITE_NAME = os.environ.get("SITE_NAME", "Inkwell")
INKWELL_SITE_DESCRIPTION = os.environ.get(
    "SITE_DESCRIPTION", "Posts and reader discussions."
)
INKWELL_POSTS_PER_PAGE = 10
# How long a reader's browser remembers a post password they typed (as
# WordPress: 10 days), and how many revisions each post keeps.
INKWELL_POST_PASSWORD_SECONDS = int(
    os.environ.get("POST_PASSWORD_SECONDS", str(10 * 24 * 3600))
)
INKWELL_REVISIONS_KEPT = int(os.environ.get("REVISIONS_KEPT", "25"))

# Markdown editing (django-markdownx): one renderer for pages, feeds, preview.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "blog.markup.markdownify"
# The admin's WordPress import (blog/importing.py): the largest export and
# zip of its uploads folder it takes, in bytes (the command line has no limit).
WORDPRESS_IMPORT_MAX_SIZE = int(
    os.environ.get("WORDPRESS_IMPORT_MAX_SIZE", 200 * 1024 * 1024)
)
WORDPRESS_MEDIA_MAX_SIZE = int(
    os.environ.get("WORDPRESS_MEDIA_MAX_SIZE", 2 * 1024 * 1024 * 1024)
)

MARKDOWNX_MEDIA_PATH = "uploads/%Y/%m/"
MARKDOWNX_UPLOAD_MAX_SIZE = 5 * 1024 * 1024
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (2400, 2400), "quality": 85}

# Comments (django-comments-xtd, through our comments app).
COMMENTS_APP = "django_comments_xtd"
COMMENTS_XTD_MODEL = "comments.models.Comment"
COMMENTS_XTD_FORM_CLASS = "comments.forms.CommentForm"
# The deepest reply the library accepts, and the starting value of the
# "maximum reply depth" in the admin's Discussion settings (which may lower it).
COMMENTS_XTD_MAX_THREAD_LEVEL = 4  # levels 0..4: five deep
COMMENTS_XTD_CONFIRM_EMAIL = True
COMMENTS_XTD_THREADED_EMAILS = False
COMMENTS_XTD_LIST_ORDER = ("thread_id", "order")
COMMENT_MAX_LENGTH = 3000  # characters; the form says so when exceeded
# A comment failing the CSRF check comes back with its text (other pages:
# Django's own 403).
CSRF_FAILURE_VIEW = "comments.views.csrf_failure"
INKWELL_COMMENT_THREADS_PER_PAGE = 50  # top-level threads per discussion page
COMMENTS_XTD_APP_MODEL_OPTIONS = {
    "default": {
        "who_can_post": "all",
        "allow_flagging": False,
        "allow_feedback": True,
        "show_feedback": True,
    }
}

# Comment email (comments/notifications.py). Confirmation links expire; the
# mail asking for confirmation is limited per address and per IP, so nobody
# can use the form to mail a third party over and over.
# COMMENTS_XTD_CONFIRM_EMAIL (above) = False turns confirmation off.
INKWELL_COMMENT_CONFIRMATION_MAX_AGE = 3 * 24 * 3600  # seconds
INKWELL_CONFIRMATION_MAILS_PER_ADDRESS = 3
INKWELL_CONFIRMATION_MAILS_PER_IP = 10
INKWELL_CONFIRMATION_MAIL_WINDOW = 3600  # seconds

# Subscriptions to new posts by email (blog/subscriptions/). Each new post
# goes to the confirmed subscribers as one mail each, sent by the worker in
# batches of SUBSCRIPTION_BATCH_SIZE at SUBSCRIPTION_MAILS_PER_MINUTE (what
# the mail server accepts; 0: as fast as it takes them), with the post's
# summary or its full text (SUBSCRIPTION_MAIL_CONTENT: summary or full).
# The confirmation mail is limited per address and IP as the comments' is.
INKWELL_SUBSCRIPTION_MAIL_CONTENT = os.environ.get(
    "SUBSCRIPTION_MAIL_CONTENT", "summary"
).strip()
if INKWELL_SUBSCRIPTION_MAIL_CONTENT not in {"summary", "full"}:
    raise ImproperlyConfigured(
        "SUBSCRIPTION_MAIL_CONTENT is 'summary' or 'full', not "
        f"{INKWELL_SUBSCRIPTION_MAIL_CONTENT!r}."
    )
INKWELL_SUBSCRIPTION_MAILS_PER_MINUTE = int(
    os.environ.get("SUBSCRIPTION_MAILS_PER_MINUTE", "60")
)
INKWELL_SUBSCRIPTION_BATCH_SIZE = max(
    1, int(os.environ.get("SUBSCRIPTION_BATCH_SIZE", "50"))
)
INKWELL_SUBSCRIPTION_CONFIRMATION_MAX_AGE = 3 * 24 * 3600  # seconds

# Comment moderation (comments/moderation.py). The rules an administrator
# changes live in the admin ("Discussion settings"); these are the starting
# values and the spam traps' limits.
INKWELL_COMMENT_MIN_SECONDS = 3  # faster than this from form to post: held
# (per "ip" or "email", comments allowed, window in seconds)
INKWELL_COMMENT_RATE_LIMITS = [
    ("ip", 5, 60),
    ("ip", 30, 3600),
    ("email", 3, 60),
    ("email", 15, 3600),
]
INKWELL_MODERATION_LINK_MAX_AGE = 7 * 24 * 3600  # seconds
# How long after posting a reader may edit or delete their comment
# (comments/editing.py); a reply or a moderator's action locks it sooner.
INKWELL_COMMENT_EDIT_SECONDS = int(os.environ.get("COMMENT_EDIT_MINUTES", "15")) * 60
# The spam filter that learns from moderators (comments/spamfilter.py): it
# votes once it has learnt from this many spam and this many ham comments;
# a score at or above the spam cutoff sends a comment to spam, one at or
# below the ham cutoff is trusted, anything between is held. It sends
# nothing to spam (it holds it) until it has learnt from SPAM_MIN_DECISIONS
# of each kind: a filter that has seen one discussion is sure of topics it
# has never met (bench/spam_filter.py, by the calendar).
INKWELL_SPAM_FILTER_MIN_DECISIONS = 10
INKWELL_SPAM_FILTER_SPAM_MIN_DECISIONS = 100
INKWELL_SPAM_FILTER_SPAM_CUTOFF = 0.999
INKWELL_SPAM_FILTER_HAM_CUTOFF = 0.35
# Optional, and asked only after the local filter has not said spam.
AKISMET_API_KEY = os.environ.get("AKISMET_API_KEY", "")
AKISMET_TIMEOUT = 5  # seconds; past it the comment is held, not lost

TAGGIT_CASE_INSENSITIVE = True
# Tags box: "morning routine, stretching", commas only (blog/tags.py).
TAGGIT_TAGS_FROM_STRING = "blog.tags.tags_from_string"
TAGGIT_STRING_FROM_TAGS = "blog.tags.string_from_tags"

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A plain-http SITE_URL (a local trial of `make serve`) keeps cookies
    # usable over http; any real deployment's https SITE_URL gets them secure.
    SECURE_SSL_REDIRECT = env_bool(
        "DJANGO_SECURE_SSL_REDIRECT", _site.scheme == "https"
    )
    SESSION_COOKIE_SECURE = _site.scheme == "https"
    CSRF_COOKIE_SECURE = _site.scheme == "https"
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)

# Content-Security-Policy (django-csp 4): no inline script or style anywhere.
# While the administrator has Gravatar on, img-src also names
# https://secure.gravatar.com (blog.middleware.SiteCSPMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Admin login throttling (django-axes): 5 failed sign-ins from one address
# lock that address out for 15 minutes, whatever usernames it tried: trying
# one password on many usernames ("spraying") is held as trying many
# passwords on one (a username-and-address pair's failures are all among its
# address's, so the pair needs no limit of its own). Django's test client
# `login()` passes no request, which axes refuses: tests use `force_login`
# (or turn AXES_ENABLED off for that test).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_LOCKOUT_TEMPLATE = "axes_lockout.html"
AXES_RESET_ON_SUCCESS = True

# How many reverse proxies (or load balancers) stand in front of the app
# servers, each appending to X-Forwarded-For; 0 ignores the header
# (blog.middleware.TrustedProxyMiddleware).
INKWELL_TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

# Anonymous full-page cache (blog/pagecache.py); PAGE_CACHE=0 turns it off.
INKWELL_PAGE_CACHE = env_bool("PAGE_CACHE", True)
INKWELL_PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "600"))
# A shared HTTP cache in front (nginx, Varnish, a CDN; blog/frontcache.py):
# FRONT_CACHE_PURGE_URL is where it takes PURGE requests (nginx with the
# cache-purge module: `manage.py nginx_config`); FRONT_CACHE_SECONDS how long
# it may keep an anonymous page (s-maxage), by default 600 s with a purge
# address and 0 (not at all) without one.
INKWELL_FRONT_CACHE_PURGE_URL = os.environ.get("FRONT_CACHE_PURGE_URL", "").rstrip("/")
INKWELL_FRONT_CACHE_SECONDS = int(
    os.environ.get(
        "FRONT_CACHE_SECONDS", "600" if INKWELL_FRONT_CACHE_PURGE_URL else "0"
    )
)
# Pieces of pages shown alike to every reader ({% cache %} and
# pagecache.cached, under the content versions); FRAGMENT_CACHE_SECONDS=0
# turns them off. Short enough that superseded pieces soon leave Redis.
INKWELL_FRAGMENT_CACHE_SECONDS = int(os.environ.get("FRAGMENT_CACHE_SECONDS", "600"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
