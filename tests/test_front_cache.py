"""A shared HTTP cache in front (blog/frontcache.py): anonymous pages go out
as `public` with an `s-maxage`, personal ones never; every address sent that
way is purged once a change it shows is committed, and only those.

The front cache here is a small HTTP server of the test's own that records
the purge requests it gets; tests/test_nginx.py runs the real nginx."""

from __future__ import annotations

import datetime
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone

from blog import frontcache
from blog.models import FrontCachedPage
from comments.models import Comment
from tests.factories import make_category, make_comment, make_post, make_user
from tests.servers import free_ports

pytestmark = pytest.mark.django_db


class FrontCache(ThreadingHTTPServer):
    """Records `GET /__purge/<path>` (nginx's cache-purge module) and
    `PURGE <path>` (Varnish) requests; answers each with `status`."""

    def __init__(self, port: int) -> None:
        self.purged: list[tuple[str, str, str, str]] = []
        self.status = 200
        super().__init__(("127.0.0.1", port), PurgeHandler)

    def paths(self, method: str = "GET") -> set[str]:
        return {path for verb, _, path, _ in self.purged if verb == method}


class PurgeHandler(BaseHTTPRequestHandler):
    def _record(self) -> None:
        server: FrontCache = self.server
        server.purged.append(
            (
                self.command,
                self.headers.get("Host", ""),
                self.path,
                self.headers.get("Accept-Encoding", ""),
            )
        )
        self.send_response(server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PURGE = _record

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(autouse=True)
def _nothing_noted():
    frontcache.noted.clear()


@pytest.fixture
def front_cache(settings):
    (port,) = free_ports(1, range(8870, 8890))
    server = FrontCache(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.INKWELL_FRONT_CACHE_SECONDS = 600
    settings.INKWELL_FRONT_CACHE_PURGE_URL = f"http://127.0.0.1:{port}/__purge"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_without_a_front_cache_pages_stay_for_browsers_to_revalidate(client):
    post = make_post()
    response = client.get(post.get_absolute_url())
    assert response["Cache-Control"] == "no-cache"
    assert response["ETag"]


def test_anonymous_pages_go_out_public_for_the_front_cache(client, front_cache):
    post = make_post()
    for state in ("miss", "hit"):
        response = client.get(post.get_absolute_url())
        assert response["X-Page-Cache"] == state
        assert response["Cache-Control"] == "public, max-age=0, s-maxage=599"
    assert FrontCachedPage.objects.get().address == (
        f"http://testserver{post.get_absolute_url()}"
    )


def test_personal_pages_are_never_public(client, front_cache):
    post = make_post()
    client.force_login(make_user())
    response = client.get(post.get_absolute_url())
    assert "public" not in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert not FrontCachedPage.objects.exists()


def test_the_front_cache_keeps_nothing_past_the_next_scheduled_post(
    client, front_cache
):
    post = make_post()
    make_post(published_at=timezone.now() + datetime.timedelta(seconds=90))
    cache_control = client.get(post.get_absolute_url())["Cache-Control"]
    seconds = int(cache_control.rsplit("s-maxage=", 1)[1])
    assert 80 <= seconds <= 90


def test_an_approved_comment_purges_its_post_and_the_listings_not_other_posts(
    client, front_cache, django_capture_on_commit_callbacks
):
    category = make_category(slug="c")
    post, other = make_post(category=category), make_post(category=category)
    for url in (post.get_absolute_url(), other.get_absolute_url(), "/"):
        client.get(url)
    client.get(category.get_absolute_url())
    held = make_comment(post=post, state=Comment.State.HELD)
    assert front_cache.purged == []  # nothing public changed
    with django_capture_on_commit_callbacks(execute=True):
        held.set_state(Comment.State.PUBLIC)
    purged = front_cache.paths()
    assert f"/__purge{post.get_absolute_url()}" in purged
    assert "/__purge/" in purged  # the home page counts the comments
    assert f"/__purge{category.get_absolute_url()}" in purged
    assert f"/__purge{other.get_absolute_url()}" not in purged
    # Each address twice: the compressed copy and the plain one, on its host.
    encodings = {
        encoding
        for _, host, path, encoding in front_cache.purged
        if path == f"/__purge{post.get_absolute_url()}" and host == "testserver"
    }
    assert encodings == {"gzip", "identity"}
    # Purged addresses are forgotten until they are sent out again.
    assert set(FrontCachedPage.objects.values_list("address", flat=True)) == {
        f"http://testserver{other.get_absolute_url()}"
    }


def test_a_site_change_purges_every_page_it_sent(
    client, front_cache, django_capture_on_commit_callbacks
):
    post = make_post(title="Before")
    client.get(post.get_absolute_url())
    client.get("/?utm_source=x")  # not stored (unknown parameter): never public
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        post.title = "After"
        post.save()
    assert front_cache.paths() == {f"/__purge{post.get_absolute_url()}", "/__purge/"}
    assert not FrontCachedPage.objects.exists()


def test_a_failed_purge_is_tried_again_at_the_next_change(
    client, front_cache, django_capture_on_commit_callbacks
):
    post = make_post()
    client.get(post.get_absolute_url())
    front_cache.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(post=post)
    assert FrontCachedPage.objects.count() == 1  # still to purge
    front_cache.status = 404  # not held any more: as good as purged
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(post=post)
    assert not FrontCachedPage.objects.exists()


def test_a_front_cache_that_is_down_costs_the_change_nothing(
    client, settings, django_capture_on_commit_callbacks
):
    (port,) = free_ports(1, range(8870, 8890))  # nothing listens there
    settings.INKWELL_FRONT_CACHE_SECONDS = 600
    settings.INKWELL_FRONT_CACHE_PURGE_URL = f"http://127.0.0.1:{port}"
    post = make_post()
    client.get(post.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        comment = make_comment(post=post, body="Saved all the same")
    assert Comment.objects.get(pk=comment.pk).comment == "Saved all the same"
    assert FrontCachedPage.objects.count() == 1


def test_varnish_style_purges_without_a_path(
    client, settings, front_cache, django_capture_on_commit_callbacks
):
    settings.INKWELL_FRONT_CACHE_PURGE_URL = (
        settings.INKWELL_FRONT_CACHE_PURGE_URL.removesuffix("/__purge")
    )
    post = make_post()
    client.get(post.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(post=post)
    assert front_cache.paths("PURGE") == {post.get_absolute_url()}


def test_nginx_config_names_the_personal_cookies_and_the_purge_location(capsys):
    call_command("nginx_config", "--listen", "8080", "--upstream", "127.0.0.1:9000")
    config = capsys.readouterr().out
    assert "server 127.0.0.1:9000;" in config
    assert "listen 8080;" in config
    assert "FRONT_CACHE_PURGE_URL=http://127.0.0.1:8080/__purge" in config
    for cookie in ("sessionid", "messages", "inkwell_commenter", "inkwell_visitor"):
        assert cookie in config
    assert "proxy_cache_purge inkwell" in config
