"""Scale-out: two app servers sharing one PostgreSQL database and one Redis.

Each test starts two gunicorn instances in production mode (DJANGO_DEBUG=0,
collected static files, tests/scaleout_settings.py) on ports of their own,
both pointed at the test database (committed data: `transactional_db`) and
at REDIS_URL. A change made through one instance must show on the other's
very next anonymous request (the page cache is shared through its content
version in Redis), a picture uploaded through one must be served by the other
(media in one S3 bucket: moto's server, tests/conftest.py; each server has a
media folder of its own, as two machines would), 200 comments posted at once
through both must each be saved once, in threads whose order, level and
nested_count hold together, and a double click sent to both at once must
save one comment.

Collected only when DATABASE_URL is PostgreSQL and REDIS_URL is set
(tests/conftest.py); `.ci/run` runs them in its PostgreSQL run.
"""

from __future__ import annotations

import io
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from django.db import connection
from PIL import Image

from blog.models import Menu, MenuItem
from comments.models import Comment, DiscussionSettings
from tests.factories import make_comment, make_page, make_post, make_user
from tests.servers import S3_CREDENTIALS, free_ports, media_storage_url, new_bucket
from tests.thread_integrity import thread_problems

pytestmark = [pytest.mark.scaleout, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
SECRET_KEY = secrets.token_urlsafe(50)  # one key for every instance
PASSWORD = "a-long-test-password"  # tests/factories.py
PORTS = range(8160, 8180)
CLIENTS = 20
COMMENTS_EACH = 10


def server_environment(**extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PAGE_CACHE", "SITE_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="tests.scaleout_settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        **extra,
    )
    return environment


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """Static files collected once, as `make serve` does (hashed names)."""
    folder = tmp_path_factory.mktemp("staticfiles")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=server_environment(SCALEOUT_STATIC_ROOT=str(folder)),
        check=True,
        timeout=120,
    )
    return folder


class AppServer:
    """One gunicorn instance (blog/gunicorn.py, two workers)."""

    def __init__(self, port: int, environment: dict[str, str], log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        environment = {
            **environment,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
            "SITE_URL": self.url,
        }
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(GUNICORN), "-c", "blog/gunicorn.py", "blog.wsgi"],
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn at {self.url} exited:\n{self.log_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"gunicorn at {self.url} did not start:\n{self.log_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # quick shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def errors(self) -> list[str]:
        """Access-log lines with a 5xx status, and tracebacks."""
        text = self.log.read_text(errors="replace")
        return [
            line
            for line in text.splitlines()
            if re.search(r'" 5\d\d ', line) or "Traceback" in line
        ]


@pytest.fixture
def servers(transactional_db, static_root, s3_endpoint, tmp_path):
    """Two app servers on the committed test database, the shared Redis and
    one media bucket (moto's S3 server); each has a media folder of its own,
    as on two machines."""
    database = urlsplit(os.environ["DATABASE_URL"])
    database_url = urlunsplit(
        database._replace(path="/" + connection.settings_dict["NAME"])
    )
    environment = server_environment(
        DATABASE_URL=database_url,
        SCALEOUT_STATIC_ROOT=str(static_root),
        MEDIA_STORAGE_URL=media_storage_url(s3_endpoint, new_bucket(s3_endpoint)),
        **S3_CREDENTIALS,
    )
    started = [
        AppServer(
            port,
            {**environment, "MEDIA_ROOT": str(tmp_path / f"media-{port}")},
            tmp_path / f"gunicorn-{port}.log",
        )
        for port in free_ports(2, PORTS)
    ]
    try:
        for server in started:
            server.wait_until_ready()
        yield started
        for server in started:
            assert server.errors() == [], server.log_text()
    finally:
        for server in started:
            server.stop()
        # The test database is flushed next; no server may hold it.
        connection.close()


# Forms out of pages


class FormReader(HTMLParser):
    """The fields of the form whose id or action matches, as a browser
    would send them (checked boxes, selected options, textareas)."""

    def __init__(self, *, form_id: str = "", action: str = "") -> None:
        super().__init__()
        self.form_id, self.action = form_id, action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = (self.form_id and attrs.get("id") == self.form_id) or (
                self.action and attrs.get("action") == self.action
            )
            return
        if not self.inside or ("name" not in attrs and tag != "option"):
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            value = attrs.get("value", "on" if kind == "checkbox" else "")
            self.fields.append((attrs["name"], value))
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = attrs["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text).removeprefix("\n")
            self.fields.append((self._textarea, text))
            self._textarea = None


def form_fields(html: str, **which: str) -> dict[str, str]:
    reader = FormReader(**which)
    reader.feed(html)
    assert reader.fields, f"no form {which} on the page"
    return dict(reader.fields)


# 1. A change through one instance, seen through the other


def anonymous_read(server: AppServer, path: str) -> httpx.Response:
    response = httpx.get(server.url + path, timeout=10)  # no cookies at all
    assert response.status_code == 200, response.text[:500]
    return response


def cached_page(server: AppServer, path: str) -> str:
    """The page as anonymous readers get it, served from the page cache."""
    anonymous_read(server, path)
    response = anonymous_read(server, path)
    assert response.headers["X-Page-Cache"] == "hit"
    return response.text


def test_a_change_through_one_server_shows_on_the_other_at_once(servers, settings):
    one, other = servers
    # The servers know the real hasher, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    editor = make_user(username="editor", is_staff=True, is_superuser=True)
    post = make_post(title="Spasms, an introduction", author=editor)
    held = make_comment(
        post=post, body="Held until a moderator says yes", state=Comment.State.HELD
    )
    page = post.get_absolute_url()

    before = cached_page(other, page)
    assert "Spasms, an introduction" in before
    assert "Held until a moderator says yes" not in before
    assert "Be the first to like this." in before

    # The editor signs in on one server; the session (cached_db, in Redis
    # and PostgreSQL) is good on the other too.
    admin = httpx.Client(base_url=one.url, timeout=10)
    login = admin.get("/admin/login/")
    response = admin.post(
        "/admin/login/?next=/admin/",
        data={
            **form_fields(login.text, form_id="login-form"),
            "username": "editor",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["location"] == "/admin/"
    session = admin.cookies["sessionid"]
    assert (
        httpx.get(
            f"{other.url}/admin/", cookies={"sessionid": session}, timeout=10
        ).status_code
        == 200
    )

    # Approve the comment (the moderation queue's action) on one server...
    changelist = admin.get("/admin/comments/comment/")
    response = admin.post(
        "/admin/comments/comment/",
        data={
            "csrfmiddlewaretoken": form_fields(
                changelist.text, form_id="changelist-form"
            )["csrfmiddlewaretoken"],
            "action": "approve",
            "_selected_action": str(held.pk),
            "index": "0",
        },
    )
    assert response.status_code == 302, response.text[:500]
    # ... and the other's next anonymous request shows it.
    response = anonymous_read(other, page)
    assert "Held until a moderator says yes" in response.text
    assert response.headers["X-Page-Cache"] == "miss"

    # Edit the post in the admin.
    assert "Spasms, an introduction" in cached_page(other, page)
    change = f"/admin/blog/post/{post.pk}/change/"
    fields = form_fields(admin.get(change).text, form_id="post_form")
    fields.update(title="Spasms, revised", body="New words about **spasms**.")
    response = admin.post(change, data={**fields, "_save": "Save"})
    assert response.status_code == 302, response.text[:2000]
    response = anonymous_read(other, page)
    assert "Spasms, revised" in response.text
    assert "New words about <strong>spasms</strong>." in response.text
    assert "Spasms, an introduction" not in response.text

    # A picture uploaded through one server is served by the other.
    picture = png_bytes()
    upload_form = form_fields(admin.get(change).text, form_id="post_form")
    response = admin.post(
        "/markdownx/upload/",
        files={"image": ("photo.png", picture, "image/png")},
        headers={
            "X-CSRFToken": upload_form["csrfmiddlewaretoken"],
            "X-Requested-With": "XMLHttpRequest",
            "Referer": one.url + change,
        },
    )
    assert response.status_code == 200, response.text[:500]
    code = response.json()["image_code"]
    picture_url = code[code.index("](") + 2 : -1]
    assert picture_url.startswith("/media/uploads/")
    served = httpx.get(other.url + picture_url, timeout=10)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (40, 30)

    # Like the post, as an anonymous reader of the first server.
    assert "Be the first to like this." in cached_page(other, page)
    reader = httpx.Client(base_url=one.url, timeout=10)
    like_url = f"/posts/{post.pk}/like/"
    likes_form = form_fields(reader.get(page).text, action=like_url)
    likes_form["csrfmiddlewaretoken"] = reader.get("/csrf-token").json()["token"]
    response = reader.post(like_url, data={**likes_form, "intent": "like"})
    assert response.status_code == 302, response.text[:500]
    response = anonymous_read(other, page)
    assert "1 blogger likes this." in response.text
    assert "Be the first to like this." not in response.text


def test_a_menu_change_through_one_server_shows_on_the_other_at_once(
    servers, settings
):
    one, other = servers
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    make_user(username="editor", is_staff=True, is_superuser=True)
    about = make_page(title="About", slug="about")
    menu = Menu.objects.create(name="Main", location="header")
    link = MenuItem.objects.create(menu=menu, page=about)
    assert '<a href="/about/">About</a>' in cached_page(other, "/")
    assert '<a href="/about/">About</a>' in cached_page(other, "/about/")

    admin = httpx.Client(base_url=one.url, timeout=10)
    login = admin.get("/admin/login/")
    response = admin.post(
        "/admin/login/?next=/admin/",
        data={
            **form_fields(login.text, form_id="login-form"),
            "username": "editor",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302, response.text[:500]
    change = f"/admin/blog/menu/{menu.pk}/change/"
    fields = form_fields(admin.get(change).text, form_id="menu_form")
    assert fields["items-0-id"] == str(link.pk)
    fields["items-0-label"] = "Who we are"
    response = admin.post(change, data={**fields, "_save": "Save"})
    assert response.status_code == 302, response.text[:2000]

    for path in ("/", "/about/"):
        response = anonymous_read(other, path)
        assert response.headers["X-Page-Cache"] == "miss"
        assert '<a href="/about/">Who we are</a>' in response.text


def png_bytes() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(output, "PNG")
    return output.getvalue()


# 2. Many readers posting into the same threads through both servers


class Poster:
    """One reader posting comments and replies, through either server."""

    def __init__(self, number: int, servers: list[AppServer], board: Board) -> None:
        self.number = number
        self.servers = servers
        self.board = board
        self.random = random.Random(number)
        self.clients = [httpx.Client(base_url=s.url, timeout=30) for s in servers]
        self.forms: dict[str, dict[str, str]] = {}

    def form(self, page: str) -> dict[str, str]:
        """The post's comment form (signed fields, CSRF cookie), fetched once
        from one server and sent to both: the servers share the secret key,
        and the signature holds for two hours."""
        if page not in self.forms:
            client = self.clients[self.number % 2]
            response = client.get(page)
            assert response.status_code == 200
            fields = form_fields(response.text, form_id="comment-form")
            # The token static/js/csrf.js fetches; one browser behind one
            # address in production: one CSRF cookie.
            token = client.get("/csrf-token")
            fields["csrfmiddlewaretoken"] = token.json()["token"]
            for each in self.clients:
                each.cookies.set("csrftoken", token.cookies["csrftoken"])
            self.forms[page] = fields
        return self.forms[page]

    def run(self, count: int) -> list[str]:
        problems = []
        for sequence in range(count):
            server = (self.number + sequence) % 2
            post_pk, page = self.board.posts[(self.number + sequence // 2) % 2]
            parent, level = (0, -1)
            # The first comment starts a thread; later ones mostly reply.
            if sequence and self.random.random() < 0.85:
                parent, level = self.board.pick_parent(post_pk, self.random)
            text = f"Comment {self.number}-{sequence} (scale-out)"
            data = {
                **self.form(page),
                "name": f"Reader {self.number}",
                "email": f"reader{self.number}@example.org",
                "url": "",
                "comment": text,
                "reply_to": str(parent),
            }
            data.pop("followup", None)
            data.pop("remember", None)
            response = self.clients[server].post("/comments/post/", data=data)
            match = re.fullmatch(
                r"/comments/(\d+)/", response.headers.get("location", "")
            )
            if response.status_code != 302 or match is None:
                problems.append(f"{text}: {response.status_code} {response.text[:300]}")
                continue
            self.board.posted(post_pk, int(match[1]), level + 1, parent, text)
        return problems


class Board:
    """What the posters have saved so far, shared between their threads."""

    def __init__(self, posts) -> None:
        self.posts = [(post.pk, post.get_absolute_url()) for post in posts]
        self.lock = threading.Lock()
        self.open: dict[int, list[tuple[int, int]]] = {pk: [] for pk, _ in self.posts}
        self.saved: dict[str, tuple[int, int]] = {}  # text -> (id, parent)

    def pick_parent(self, post_pk: int, chooser: random.Random) -> tuple[int, int]:
        with self.lock:
            candidates = self.open[post_pk]
            return chooser.choice(candidates) if candidates else (0, -1)

    def posted(self, post_pk: int, pk: int, level: int, parent: int, text: str):
        with self.lock:
            if level < 4:  # COMMENTS_XTD_MAX_THREAD_LEVEL: no replies below 4
                self.open[post_pk].append((pk, level))
            self.saved[text] = (pk, parent)


def test_concurrent_comments_through_two_servers_keep_threads_consistent(servers):
    DiscussionSettings.objects.create(hold_policy="never", hold_links=0)
    posts = [make_post(title=f"Busy post {n}") for n in range(2)]
    board = Board(posts)
    posters = [Poster(number, servers, board) for number in range(CLIENTS)]

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda poster: poster.run(COMMENTS_EACH), posters))
    elapsed = time.monotonic() - started

    problems = [problem for result in results for problem in result]
    assert problems == []
    expected = CLIENTS * COMMENTS_EACH
    assert len(board.saved) == expected

    # Every comment saved exactly once, where it was sent, and public.
    comments = Comment.objects.filter(object_pk__in=[str(p.pk) for p in posts])
    rows = list(comments.values_list("comment", "pk", "parent_id", "state"))
    assert len(rows) == expected
    for text, pk, parent_id, state in rows:
        saved_pk, parent = board.saved[text]
        assert (pk, state) == (saved_pk, Comment.State.PUBLIC)
        assert parent_id == (parent or pk)
    threads = comments.values("thread_id").distinct().count()
    replies = sum(1 for _, pk, parent_id, _ in rows if parent_id != pk)
    assert replies > expected // 2

    # Order, level and nested_count agree with the tree in every thread.
    assert thread_problems(comments) == []

    # Each server shows every comment of both posts.
    for server in servers:
        for post in posts:
            html = anonymous_read(server, post.get_absolute_url()).text
            shown = {int(pk) for pk in re.findall(r'id="c(\d+)"', html)}
            assert shown == set(
                comments.filter(object_pk=str(post.pk)).values_list("pk", flat=True)
            )

    print(
        f"\n{expected} comments ({replies} replies, {threads} threads) by "
        f"{CLIENTS} clients through 2 servers in {elapsed:.1f} s; threads consistent"
    )


# 3. Double clicks: the same form sent twice at once, once to each server

PAIRS = 6


def test_a_double_click_through_both_servers_saves_each_comment_once(servers):
    DiscussionSettings.objects.create(hold_policy="never", hold_links=0)
    post = make_post(title="Double clicks")
    page = post.get_absolute_url()

    def page_view(number: int) -> tuple[str, dict[str, str]]:
        """One reader's visit: a CSRF cookie and the form of that page view."""
        server = servers[number % 2]
        response = httpx.get(server.url + page, timeout=10)
        fields = form_fields(response.text, form_id="comment-form")
        token = httpx.get(server.url + "/csrf-token", timeout=10)  # as csrf.js does
        fields["csrfmiddlewaretoken"] = token.json()["token"]
        fields.update(
            name=f"Clicker {number}",
            email=f"clicker{number}@example.org",
            comment=f"Clicked twice ({number})",
        )
        fields.pop("followup", None)
        fields.pop("remember", None)
        return token.cookies["csrftoken"], fields

    views = [page_view(number) for number in range(PAIRS)]
    ready = threading.Barrier(2 * PAIRS)

    def send(job: tuple[int, int]) -> tuple[int, str]:
        number, server = job
        cookie, fields = views[number]
        ready.wait(timeout=30)
        response = httpx.post(
            f"{servers[server].url}/comments/post/",
            data=fields,
            cookies={"csrftoken": cookie},
            timeout=30,
        )
        return response.status_code, response.headers.get("location", "")

    jobs = [(number, server) for number in range(PAIRS) for server in (0, 1)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        answers = list(pool.map(send, jobs))

    rows = Comment.objects.filter(object_pk=str(post.pk))
    saved = sorted(rows.values_list("comment", flat=True))
    assert saved == sorted(f"Clicked twice ({number})" for number in range(PAIRS))
    for number in range(PAIRS):
        first, second = answers[2 * number], answers[2 * number + 1]
        # Both clicks get the same answer: the one comment's permalink.
        assert first == second
        assert first[0] == 302
        assert (
            first[1] == rows.get(comment=f"Clicked twice ({number})").get_absolute_url()
        )
