"""A post's thread is joined into the page after rendering (blog/splice.py):
the page is the same bytes as when the template writes it in place."""

import re

import pytest
from django.http import HttpResponse
from django.template import Context, Template

from blog import splice
from tests.factories import make_discussion, make_post, make_user

pytestmark = pytest.mark.django_db

SPLICE = "blog.splice.SpliceMiddleware"


def without_per_request_values(content: bytes) -> bytes:
    """Less what differs between any two renders: the reader's CSRF token and
    the comment form's timestamp (to the second) and its signature."""
    return re.sub(
        rb'name="(csrfmiddlewaretoken|timestamp|security_hash)" value="\w*"',
        b"",
        content,
    )


@pytest.fixture
def long_post():
    post = make_post(title="Thread “in quotes” ›")
    make_discussion(post=post, comments=30, users=(make_user(username="reader"), None))
    return post


@pytest.mark.parametrize("page_cache", [False, True])
def test_the_page_is_the_same_with_the_thread_spliced_in(
    client, settings, long_post, page_cache
):
    settings.INKWELL_PAGE_CACHE = page_cache
    spliced = client.get(long_post.get_absolute_url())
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != SPLICE]
    settings.INKWELL_PAGE_CACHE = False
    in_place = client.get(long_post.get_absolute_url())

    assert spliced.status_code == in_place.status_code == 200
    assert without_per_request_values(spliced.content) == without_per_request_values(
        in_place.content
    )
    assert spliced.content.count(b'class="comment"') == 30
    assert int(spliced["Content-Length"]) == len(spliced.content)


def test_a_signed_in_readers_thread_is_spliced_in_too(client, long_post):
    client.force_login(make_user(username="someone"))

    page = client.get(long_post.get_absolute_url())

    assert page.content.count(b'class="comment"') == 30


def test_outside_a_request_the_html_is_written_in_place():
    rendered = Template("<div>{{ html }}</div>").render(
        Context({"html": splice.deferred("<p>“Already” safe</p>".encode())})
    )

    assert rendered == "<div><p>“Already” safe</p></div>"


def test_a_marker_kept_in_a_fragment_is_refused_not_dropped():
    # A marker names HTML of the request that wrote it; one served again by a
    # later request (from a fragment) must fail loudly, not lose the thread.
    kept = []

    def first_view(request):
        kept.append(splice.deferred("<p>the thread</p>"))
        return HttpResponse(f"<main>{kept[0]}</main>")

    assert splice.SpliceMiddleware(first_view)(None).content == (
        b"<main><p>the thread</p></main>"
    )
    later = splice.SpliceMiddleware(lambda request: HttpResponse(kept[0]))
    with pytest.raises(KeyError):
        later(None)
