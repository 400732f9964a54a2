"""gunicorn settings for production: `gunicorn -c blog/gunicorn.py blog.wsgi`.

Environment: HOST (default 127.0.0.1: only the proxy in front on this machine
reaches it; 0.0.0.0 in a container), PORT (default 8000), BIND (overrides
both, e.g. unix:/run/inkwell.sock),
WEB_CONCURRENCY (worker count; default 2 x cores + 1, at most 8),
GUNICORN_TIMEOUT (seconds, default 30). Put a reverse proxy that terminates
TLS and sets X-Forwarded-Proto in front (README, "Production").
"""

import multiprocessing
import os

bind = os.environ.get("BIND") or (
    f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = int(
    os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 8)
)
# Sync workers: Inkwell's views are short and database-bound.
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow forever.
max_requests = 2000
max_requests_jitter = 200
# Access log to stdout, with the time each request took (in microseconds).
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(f)s" "%(a)s"'
# X-Forwarded-Proto is trusted from these addresses only (the proxy in front).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def post_worker_init(worker):
    """Each worker's loop runs with room on the frame stack (blog/framestack.py):
    otherwise CPython 3.11 maps and unmaps memory a hundred times a page."""
    from blog.framestack import with_room

    run = worker.run
    worker.run = lambda: with_room(run)
