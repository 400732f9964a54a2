"""`make bench`: Inkwell's performance harness.

    python bench/run.py [--quick] [--cached-only]

1. Builds its own data in a fresh database: a throwaway SQLite file, or,
   with DATABASE_URL pointing at PostgreSQL, a database named
   `<name>_bench` on that server (dropped and made anew). REDIS_URL, if set,
   is used as the cache as it would be in production.
2. Server time: every page type through Django's test client, in this
   process, production settings (DEBUG off), page cache off: queries and
   the median time and CPU time of several requests; the post with 500
   comments also with its thread cold and with every fragment cold.
3. Load: gunicorn (2 workers, production settings, blog/gunicorn.py) driven
   by Debian's `wrk` on 127.0.0.1, with the page cache on and then off:
   requests/s, p50 and p99 for the post page with 50 and 500 comments, the
   home page, for each of them a static file of about its size (WhiteNoise,
   "vs static": the page's share of that file's requests/s) and posting a
   comment (bench/settings.py turns the per-IP rate limits off for that);
   then the peak RSS (VmHWM) of each worker.
4. Behind nginx (Debian's, with the cache-purge module; configured by
   `manage.py nginx_config`, started and stopped here on 127.0.0.1:PORT+1):
   the cached post page with 50 comments beside nginx serving a file of the
   same bytes, and whether a comment approved in Inkwell shows through nginx
   on the next request.

Prints a table and writes bench/results.json. Takes 2 to 5 minutes.
--cached-only runs only the load part with the page cache on (the pages and
the static files, no comment posting) and writes nothing: for comparing the
page cache with the static files while working on it.
BENCH_KEEP=1 keeps the working folder (database, gunicorn.log) for a look.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results.json"
PORT = int(os.environ.get("BENCH_PORT", "8110"))
NGINX_PORT = PORT + 1
WORKDIR = Path(tempfile.mkdtemp(prefix="inkwell-bench-"))
SECRET_KEY = "bench-only-secret-key-never-used-anywhere-else-0123456789abcdef"


def bench_database_url() -> str:
    """A fresh database for the bench, never the one DATABASE_URL names."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{WORKDIR / 'bench.sqlite3'}"
    import psycopg

    parts = urlsplit(given)
    name = f"{parts.path.lstrip('/') or 'inkwell'}_bench"
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "blog.settings",
    "DATABASE_URL": bench_database_url(),
    "CACHE_DIR": str(WORKDIR / "cache"),
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": SECRET_KEY,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SITE_URL": f"http://127.0.0.1:{PORT}",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENVIRONMENT)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from blog import pagecache  # noqa: E402
from blog.models import Category, Post  # noqa: E402
from comments.models import Comment  # noqa: E402

COMMENT_COUNTS = (0, 50, 500, 1000)


# 1. Data -----------------------------------------------------------------


def build_data() -> dict[str, str]:
    """Posts in categories with tags, four posts with 0/50/500/1,000 comments
    (threads five deep, half by registered users); the URLs to measure."""
    from tests.factories import make_discussion

    User = get_user_model()
    authors = [
        User.objects.create_user(f"author{n}", f"author{n}@example.com", "x" * 20)
        for n in range(3)
    ]
    reader = User.objects.create_user("reader", "reader@example.com", "x" * 20)
    parents = [
        Category.objects.create(name=f"Topic {n}", slug=f"topic-{n}") for n in range(4)
    ]
    categories = parents + [
        Category.objects.create(name=f"Sub {n}", slug=f"sub-{n}", parent=parents[n % 4])
        for n in range(4)
    ]
    paragraph = (
        "Back pain has many causes. A **spasm** is a sudden tightening of a "
        "muscle; it can last seconds or days. [More](https://example.org/).\n\n"
    )
    body = "## Symptoms\n\n" + paragraph * 4 + "- stiffness\n- pain\n- cramps\n\n"
    now = timezone.now()
    posts = []
    for number in range(60):
        post = Post.objects.create(
            title=f"Post number {number} about back spasms",
            slug=f"post-{number}",
            author=authors[number % 3],
            category=categories[number % len(categories)],
            body=body * 2,
            status=Post.Status.PUBLISHED,
            published_at=now - datetime.timedelta(hours=number + 1),
        )
        post.tags.add("health", f"tag-{number % 10}")
        posts.append(post)
    urls = {
        "home": "/",
        "category": categories[0].get_absolute_url(),
        "tag": "/tag/health/",
    }
    for count, post in zip(COMMENT_COUNTS, posts[:4], strict=True):
        if count:
            make_discussion(
                post=post, comments=count, users=(reader, None), thread_sizes=(2, 6)
            )
        urls[f"post, {count} comments"] = post.get_absolute_url()
    for name, url in [
        ("search", "/search/?q=spasm"),
        ("feed", "/feed/"),
        ("sitemap", "/sitemap.xml"),
        ("sitemap, posts", "/sitemap-posts.xml"),
    ]:
        urls[name] = url if resolves(url) else ""
    urls["moderation queue"] = moderation_queue(posts[4], reader)
    # Rows inserted in bulk sent no signals.
    pagecache.forget_all_pages()
    return urls


def moderation_queue(post: Post, reader) -> str:
    """The admin's comment list (the moderation queue) of 300 held comments."""
    from tests.factories import make_discussion

    try:
        url = reverse("admin:comments_comment_changelist")
    except NoReverseMatch:
        return ""
    held = make_discussion(post=post, comments=300, users=(reader, None))
    Comment.objects.filter(pk__in=[c.pk for c in held]).update(
        state=Comment.State.HELD, is_public=False, reason="first-time commenter"
    )
    return f"{url}?state={Comment.State.HELD}"


def resolves(url: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(urlsplit(url).path)
    except Resolver404:
        return False
    return True


# 2. Server time ------------------------------------------------------------


def server_times(urls: dict[str, str], runs: int) -> dict[str, dict]:
    """Each page's median time, and its CPU time (this process: the test
    client, and SQLite, run here; the figure that holds on a busy machine).
    Fragments warm, and the post with 500 comments also cold: after a new
    comment (its thread, outline and likes line rebuilt) and after a change
    to the site (every fragment rebuilt)."""
    client = Client()
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("benchadmin"))
    busy = Post.objects.get(slug=urls["post, 500 comments"].rstrip("/").split("/")[-1])
    pages = {name: (url, None) for name, url in urls.items()}
    pages["post, 500 comments, thread cold"] = (
        urls["post, 500 comments"],
        lambda: pagecache.bump(pagecache.post_scope(busy.pk)),
    )
    pages["post, 500 comments, fragments cold"] = (
        urls["post, 500 comments"],
        pagecache.forget_all_pages,
    )
    results = {}
    with override_settings(INKWELL_PAGE_CACHE=False):
        for name, (url, before) in pages.items():
            if not url:
                results[name] = None
                continue
            who = staff if name == "moderation queue" else client
            assert who.get(url).status_code == 200, (name, url)  # warm up
            times, cpu_times = [], []
            for _ in range(runs):
                if before:
                    before()
                with CaptureQueriesContext(connection) as queries:
                    start, cpu_start = time.perf_counter(), time.process_time()
                    response = who.get(url)
                    times.append(time.perf_counter() - start)
                    cpu_times.append(time.process_time() - cpu_start)
            results[name] = {
                "url": url,
                "queries": len(queries),
                "median_ms": round(statistics.median(times) * 1000, 2),
                "cpu_ms": round(statistics.median(cpu_times) * 1000, 2),
                "bytes": len(response.content),
            }
    # And one page from the page cache, for comparison.
    url = urls["post, 50 comments"]
    client.get(url)
    times, cpu_times = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    assert response["X-Page-Cache"] == "hit"
    results["post, 50 comments (page cache hit)"] = {
        "url": url,
        "queries": 0,
        "median_ms": round(statistics.median(times) * 1000, 2),
        "cpu_ms": round(statistics.median(cpu_times) * 1000, 2),
        "bytes": len(response.content),
    }
    return results


# 3. Load -------------------------------------------------------------------


def similar_static_file(size: int) -> str:
    """The collected, hashed static file closest in size to `size` bytes."""
    manifest = json.loads((Path(settings.STATIC_ROOT) / "staticfiles.json").read_text())
    sizes = {
        hashed: (Path(settings.STATIC_ROOT) / hashed).stat().st_size
        for hashed in manifest["paths"].values()
    }
    best = min(sizes, key=lambda name: abs(sizes[name] - size))
    return settings.STATIC_URL + best


def comment_post_script(post_url: str) -> tuple[Path, str]:
    """A wrk Lua script that posts a new comment (different text each time)
    through the Leave a Reply form, with a CSRF cookie and token."""
    from comments.forms import CommentForm

    base = f"http://127.0.0.1:{PORT}"
    urllib.request.urlopen(base + post_url).read()  # the page, then its token
    with urllib.request.urlopen(base + "/csrf-token") as response:  # as csrf.js
        token = json.load(response)["token"]
        cookie = response.headers.get_all("Set-Cookie") or []
    csrf_cookie = next(c.split(";")[0] for c in cookie if c.startswith("csrftoken="))
    post = Post.objects.get(slug=post_url.rstrip("/").rsplit("/", 1)[-1])
    data = {k: str(v) for k, v in CommentForm(post).generate_security_data().items()}
    data.update(
        csrfmiddlewaretoken=token,
        reply_to="0",
        name="Bench Reader",
        email="bench@example.com",
        url="",
        honeypot="",
    )
    body = urlencode(data)
    run = time.monotonic_ns()  # the same text twice would be saved once
    script = WORKDIR / "post_comment.lua"
    script.write_text(
        f"""
counter = 0
id = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "{csrf_cookie}"
request = function()
  counter = counter + 1
  local body = "{body}&comment=Bench+comment+{run}-" .. id .. "-" .. counter
  return wrk.format(nil, "/comments/post/", nil, body)
end
"""
    )
    return script, "/comments/post/"


def comment_states() -> dict[str, int]:
    from django.db.models import Count

    # A new connection: SQLite could otherwise answer from an old snapshot.
    connection.close()
    rows = Comment.objects.order_by().values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


class Gunicorn:
    """gunicorn with blog/gunicorn.py, 2 workers, on 127.0.0.1:PORT."""

    def __init__(
        self,
        page_cache: bool,
        settings_module: str = "bench.settings",
        **environment: str,
    ) -> None:
        self.page_cache = page_cache
        self.settings_module = settings_module
        self.environment = environment

    def __enter__(self) -> Gunicorn:
        env = {
            **os.environ,
            "PAGE_CACHE": "1" if self.page_cache else "0",
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            **self.environment,
        }
        self.log = open(WORKDIR / "gunicorn.log", "a")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "blog/gunicorn.py",
                "blog.wsgi",
                "--workers=2",
                f"--bind=127.0.0.1:{PORT}",
                "--max-requests=0",
                "--access-logfile=/dev/null",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2)
                if len(self.workers()) == 2:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start; see {WORKDIR / 'gunicorn.log'}")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def peak_rss_mb(self) -> list[float]:
        peaks = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            kilobytes = int(re.search(r"VmHWM:\s+(\d+) kB", status)[1])
            peaks.append(round(kilobytes / 1024, 1))
        return peaks

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wrk(path: str, seconds: int, script: Path | None = None, port: int = PORT) -> dict:
    command = ["wrk", "--latency", "-t2", "-c8", f"-d{seconds}s", "--timeout", "10s"]
    if script:
        command += ["-s", str(script)]
    command.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50_ms": latency_ms(re.search(r"50%\s+([\d.]+\w+)", output)[1]),
        "p99_ms": latency_ms(re.search(r"99%\s+([\d.]+\w+)", output)[1]),
        "requests": int(re.search(r"(\d+) requests in", output)[1]),
        "non_2xx_3xx": int(errors[1]) if errors else 0,
    }


def latency_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)


def load(urls: dict[str, str], seconds: int, *, cached_only: bool = False) -> dict:
    pages = {
        "post, 50 comments": urls["post, 50 comments"],
        "post, 500 comments": urls["post, 500 comments"],
        "home": "/",
    }
    # Each page is measured against a static file of about its size through
    # the same gunicorn: serving those bytes from Python is the ceiling.
    statics = {}
    for name, path in pages.items():
        static = similar_static_file(len(Client().get(path).content))
        size = (
            (Path(settings.STATIC_ROOT) / static.removeprefix(settings.STATIC_URL))
            .stat()
            .st_size
        )
        statics[name] = (f"static file, {size // 1024} KB (WhiteNoise)", static)
    targets = {**pages, **dict(statics.values())}
    results = {}
    for page_cache in (True,) if cached_only else (True, False):
        mode = "page cache on" if page_cache else "page cache off"
        rows = {}
        with Gunicorn(page_cache) as server:
            for name, path in targets.items():
                wrk(path, 1)  # warm up the workers and the cache
                rows[name] = wrk(path, seconds)
            for name, (static_name, _) in statics.items():
                rows[name]["static_file"] = static_name
                rows[name]["share_of_static"] = round(
                    rows[name]["requests_per_s"]
                    / max(rows[static_name]["requests_per_s"], 0.1),
                    3,
                )
            if resolves("/comments/post/") and not cached_only:
                script, path = comment_post_script(pages["post, 50 comments"])
                before = comment_states()
                rows["post a comment"] = wrk(path, seconds, script)
                rows["post a comment"]["saved"] = {
                    state: count - before.get(state, 0)
                    for state, count in comment_states().items()
                    if count != before.get(state, 0)
                }
            rss = server.peak_rss_mb()
        results[mode] = {"targets": rows, "worker_peak_rss_mb": rss}
    results["behind nginx, page cache on"] = through_nginx(urls, seconds)
    return results


class Nginx:
    """Debian's nginx on 127.0.0.1:NGINX_PORT in front of the bench's
    gunicorn, configured by `manage.py nginx_config` (README, "Behind nginx")."""

    def __enter__(self) -> Nginx:
        folder = WORKDIR / "nginx"
        folder.mkdir(exist_ok=True)
        self.config = folder / "nginx.conf"
        output = io.StringIO()
        call_command(
            "nginx_config",
            standalone=str(folder),
            listen=f"127.0.0.1:{NGINX_PORT}",
            upstream=f"127.0.0.1:{PORT}",
            cache_dir=str(folder / "cache"),
            workers="1",
            stdout=output,
        )
        self.config.write_text(output.getvalue())
        subprocess.run(["nginx", "-c", str(self.config)], check=True)
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run(["nginx", "-c", str(self.config), "-s", "stop"], check=False)


def through_nginx(urls: dict[str, str], seconds: int) -> dict:
    """The cached post page through nginx beside nginx serving a file of the
    same bytes, and whether a comment approved in Inkwell shows through nginx
    on the next request."""
    from tests.factories import make_comment

    page = urls["post, 50 comments"]
    front = f"http://127.0.0.1:{NGINX_PORT}"
    purge_url = f"{front}/__purge"
    copy = Path(settings.STATIC_ROOT) / "bench-copy" / "post.html"
    rows = {}
    with (
        Gunicorn(True, FRONT_CACHE_PURGE_URL=purge_url),
        Nginx(),
        override_settings(
            INKWELL_FRONT_CACHE_PURGE_URL=purge_url, INKWELL_FRONT_CACHE_SECONDS=600
        ),
    ):
        body = urllib.request.urlopen(front + page).read()
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(body)
        static = f"{settings.STATIC_URL}bench-copy/post.html"
        try:
            for name, path in {
                "post, 50 comments": page,
                f"static file, {len(body) // 1024} KB (nginx)": static,
            }.items():
                wrk(path, 1, port=NGINX_PORT)
                rows[name] = wrk(path, seconds, port=NGINX_PORT)
        finally:
            shutil.rmtree(copy.parent)
        static_name = next(name for name in rows if name.startswith("static"))
        rows["post, 50 comments"]["static_file"] = static_name
        rows["post, 50 comments"]["share_of_static"] = round(
            rows["post, 50 comments"]["requests_per_s"]
            / max(rows[static_name]["requests_per_s"], 0.1),
            3,
        )
        post = Post.objects.get(slug=page.rstrip("/").rsplit("/", 1)[-1])
        text = f"Approved while nginx held the page {time.time_ns()}"
        held = make_comment(post=post, body=text, state=Comment.State.HELD)
        before = urllib.request.urlopen(front + page).read().decode()
        held.set_state(Comment.State.PUBLIC)  # no transaction: purged at once
        with urllib.request.urlopen(front + page) as response:
            after = response.read().decode()
            status = response.headers.get("X-Front-Cache")
    return {
        "targets": rows,
        "change_visible_on_next_request": text not in before and text in after,
        "next_request_after_change": status,
    }


# Report --------------------------------------------------------------------


def print_table(report: dict) -> None:
    print(f"\nInkwell bench: {report['database']}, cache: {report['cache']}")
    print(f"machine: {report['machine']}")
    print("\nServer time (test client, DEBUG off, page cache off)")
    print(f"{'page':<40}{'queries':>8}{'median':>11}{'CPU':>10}{'bytes':>10}")
    for name, row in report["server_time"].items():
        if row is None:
            print(f"{name:<40}{'n/a':>8}{'n/a':>11}{'':>10}{'':>10}")
        else:
            print(
                f"{name:<40}{row['queries']:>8}{row['median_ms']:>9.1f}ms"
                f"{row['cpu_ms']:>8.1f}ms{row['bytes']:>10}"
            )
    print_load(report["load"])
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")


def print_load(load_results: dict) -> None:
    for mode, result in load_results.items():
        print(f"\nUnder load: gunicorn, 2 workers, wrk -t2 -c8, {mode}")
        print(
            f"{'target':<40}{'req/s':>9}{'p50':>10}{'p99':>10}{'errors':>8}"
            f"{'vs static':>11}"
        )
        for name, row in result["targets"].items():
            share = row.get("share_of_static")
            print(
                f"{name:<40}{row['requests_per_s']:>9.1f}{row['p50_ms']:>8.1f}ms"
                f"{row['p99_ms']:>8.1f}ms{row['non_2xx_3xx']:>8}"
                + (f"{share:>10.0%}" if share is not None else "")
            )
        saved = result["targets"].get("post a comment", {}).get("saved")
        if saved is not None:
            print(f"comments saved while posting, by state: {saved}")
        if "worker_peak_rss_mb" in result:
            rss = ", ".join(f"{mb:.1f} MB" for mb in result["worker_peak_rss_mb"])
            print(f"peak RSS per worker (VmHWM): {rss}")
        if "change_visible_on_next_request" in result:
            print(
                "a comment approved shows through nginx on the next request: "
                f"{'yes' if result['change_visible_on_next_request'] else 'NO'} "
                f"(nginx: {result['next_request_after_change']})"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument(
        "--cached-only",
        action="store_true",
        help="only the load with the page cache on; writes no results.json",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (make bench does)", file=sys.stderr)
        return 1
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    urls = build_data()
    seconds = 3 if args.quick else 8
    if args.cached_only:
        print_load(load(urls, seconds, cached_only=True))
        return 0
    report = {
        "database": connection.vendor,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "machine": (
            f"{os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}, load average "
            f"{os.getloadavg()[0]:.1f} at start"
        ),
        "server_time": server_times(urls, runs=3 if args.quick else 7),
        "load": load(urls, seconds),
    }
    report["seconds"] = round(time.monotonic() - started, 1)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"Kept {WORKDIR} (database, cache, gunicorn.log)")
        else:
            shutil.rmtree(WORKDIR, ignore_errors=True)
