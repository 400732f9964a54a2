"""The post page costs the same number of queries whatever its discussion."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import RequestContext, Template
from django.test import Client
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from django_comments.models import CommentFlag
from django_comments_xtd.models import LIKEDIT_FLAG
from django_tasks_db.models import DBTaskResult

from blog import pagecache
from comments.forms import blank_form
from comments.models import Comment, DiscussionSettings
from tests.factories import (
    comment_form_data,
    make_comment,
    make_discussion,
    make_post,
    make_user,
)
from tests.test_public_pages import PAGE_QUERIES, PAGE_QUERIES_WARM

pytestmark = pytest.mark.django_db

# Three of them are the discussion's: its outline, the comments of the page and
# their likes. An anonymous reader's next request finds the rendered thread in
# the cache and makes none of them, nor those of the post's other cached pieces
# (blog/pagecache.py).
POST_PAGE_QUERIES = PAGE_QUERIES["post"]
WARM_POST_PAGE_QUERIES = PAGE_QUERIES_WARM["post"]
THREAD_QUERIES = 3


@pytest.mark.parametrize("registered", [False, True], ids=["anonymous", "registered"])
@pytest.mark.parametrize("comments", [0, 10, 1000])
def test_post_page_query_count_does_not_grow_with_comments(
    client, django_assert_num_queries, settings, comments, registered
):
    settings.INKWELL_PAGE_CACHE = False  # the thread's own cache is measured
    # Tagged, as the pinned page's post: it asks for its related posts.
    post = make_post(tags=("spine",))
    users = (make_user(), None) if registered else ()
    make_discussion(post=post, comments=comments, users=users)
    with django_assert_num_queries(POST_PAGE_QUERIES):
        response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    # 50 threads of four comments on the first page.
    shown = min(comments, 200)
    assert response.content.decode().count('class="comment__body"') == shown
    # Nor the discussion settings, in the cache since the first request.
    with django_assert_num_queries(WARM_POST_PAGE_QUERIES):
        again = client.get(post.get_absolute_url())
    assert again.content.decode().count('class="comment__body"') == shown


def test_signed_in_readers_get_their_thread_fresh(client, django_assert_num_queries):
    """A signed-in reader's thread carries their own like buttons: it is
    rendered for them, every time, never taken from the shared cache."""
    post = make_post()
    make_discussion(post=post, comments=10)
    client.force_login(make_user())
    client.get(post.get_absolute_url())
    response = client.get(post.get_absolute_url())
    assert response.content.decode().count('class="comment-like"') == 10
    # Signed in, the session and the user are read too, the reader's likes
    # widget and the thread with their likes; the post and its other pieces
    # and the discussion settings are in the cache by now.
    with django_assert_num_queries(WARM_POST_PAGE_QUERIES + 2 + 1 + THREAD_QUERIES):
        client.get(post.get_absolute_url())


# The stock tree needs django-comments-xtd's URLs (its Reply links).
urlpatterns = [
    path("xtd/", include("django_comments_xtd.urls")),
    path("", include("blog.urls")),
]


@pytest.mark.urls(__name__)
def test_thread_renders_in_one_pass_where_the_stock_tree_pays_per_comment(rf):
    """xtd's comment_tree.html checks a permission per comment by a registered
    user (two queries each) and renders a template per comment with replies;
    ours reads the page in three queries, renders no template per comment,
    and serves the next anonymous reader from the cache."""
    post = make_post()
    make_discussion(post=post, comments=40, users=(make_user(),))
    request = rf.get(post.get_absolute_url())
    request.user = AnonymousUser()
    # Read once per site version, as on a running site.
    DiscussionSettings.current()
    pagecache.next_publication()
    blank_form(post, "")  # likewise the blank comment form's markup

    def cost(source: str) -> tuple[int, int, str]:
        templates = []
        record = lambda sender, **kwargs: templates.append(kwargs["template"].name)  # noqa: E731
        template_rendered.connect(record, dispatch_uid="count")
        try:
            with CaptureQueriesContext(connection) as queries:
                html = Template(source).render(RequestContext(request, {"post": post}))
        finally:
            template_rendered.disconnect(dispatch_uid="count")
        return len(queries), len(templates), html

    stock_queries, stock_templates, stock_html = cost(
        "{% load comments_xtd %}{% render_xtdcomment_tree for post %}"
    )
    ours = "{% load inkwell_comments %}{% get_discussion post as d %}{{ d.page.html }}"
    our_queries, our_templates, our_html = cost(ours)
    assert stock_html.count('class="comment') >= 40
    assert our_html.count('class="comment__body"') == 40
    assert stock_queries >= 80
    assert stock_templates >= 10
    assert our_queries == THREAD_QUERIES
    assert our_templates == 1  # the string template alone
    assert cost(ours) == (0, 1, our_html)


# The cache of rendered threads (anonymous readers) must never show stale or
# someone else's markup. The full-page cache is off so that it alone answers.


@pytest.fixture
def thread_cache_only(settings):
    settings.INKWELL_PAGE_CACHE = False


def thread_of(client, post) -> str:
    page = client.get(post.get_absolute_url()).content.decode()
    return page[page.index('id="comments"') : page.index('id="respond"')]


def test_cached_thread_shows_every_change_on_the_next_request(
    client, thread_cache_only
):
    author = make_user(first_name="Ada", last_name="Lovelace")
    post = make_post()
    first = make_comment(post=post, user=author, body="First words.")
    held = make_comment(post=post, body="Held back.", state="held")
    assert "Ada Lovelace" in thread_of(client, post)
    assert "Held back." not in thread_of(client, post)  # from the cache

    held.set_state("public")
    assert "Held back." in thread_of(client, post)
    author.first_name = "Augusta"
    author.save()
    assert "Augusta Lovelace" in thread_of(client, post)
    CommentFlag.objects.create(comment=first, user=make_user(), flag=LIKEDIT_FLAG)
    assert "Liked by 1 person" in thread_of(client, post)
    first.set_state("trash")
    assert "First words." not in thread_of(client, post)


def test_staff_markup_never_reaches_the_anonymous_cache(client, thread_cache_only):
    post = make_post()
    comment = make_comment(post=post)
    admin_link = f"/admin/comments/comment/{comment.pk}/change/"
    client.force_login(make_user(groups=("Moderators",)))
    moderated = thread_of(client, post)
    assert admin_link in moderated
    assert 'class="comment-like"' in moderated
    client.logout()
    anonymous = thread_of(client, post)
    assert admin_link not in anonymous
    assert 'class="comment-like"' not in anonymous
    assert "csrfmiddlewaretoken" not in anonymous


def test_cached_thread_stops_offering_reply_when_comments_close(
    client, thread_cache_only, monkeypatch
):
    """Closing after N days happens by the clock alone, with no change saved."""
    from comments import moderation

    DiscussionSettings.objects.create(close_after_days=10)
    post = make_post(published_at=timezone.now() - timedelta(days=9))
    make_comment(post=post)
    assert 'class="comment__reply"' in thread_of(client, post)
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(moderation.timezone, "now", lambda: later)
    assert 'class="comment__reply"' not in thread_of(client, post)


def test_a_discussion_is_looked_up_by_its_post_in_one_index(client, settings):
    """Its outline and its page of comments ask for one post's comments by
    content type and object id: an index on both answers them, so a cold
    thread costs the same on a blog of ten posts and of twenty thousand (on
    SQLite the content type's index alone read every comment on any post)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, "django_comments"
        )
    assert any(
        found["index"] and found["columns"] == ["content_type_id", "object_pk"]
        for found in constraints.values()
    )
    if connection.vendor != "sqlite":
        return  # PostgreSQL plans by statistics a test table does not have
    settings.INKWELL_PAGE_CACHE = False
    post = make_post()
    make_discussion(post=post, comments=10)
    with CaptureQueriesContext(connection) as queries:
        client.get(post.get_absolute_url())
    reads = [q["sql"] for q in queries if 'FROM "comments_comment"' in q["sql"]]
    assert reads
    with connection.cursor() as cursor:
        for sql in reads:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "(content_type_id=? AND object_pk=?)" in plan, plan


# Posting a comment: a fixed number of queries too (make bench measures its
# time under load), each comment after a reader's first (which reads what the
# cache then holds: the discussion settings, the site identity, content
# types), counted outside a test transaction, as a request makes them.
POSTING_QUERIES = {
    # As make bench posts it: the post; the same form or text sent before;
    # bans, an approved comment from that address, the spam filter's counts;
    # the comment's rows and its filter score (in its savepoint), in one
    # transaction; the confirmation mail queued.
    "anonymous": 15,
    # A signed-in reader's first comments are held: their session, account
    # and permissions, then as above, and the moderators' mail (who
    # moderates; the post's author, read with the post, is one of them).
    "signed in": 20,
}


def csrf_token(client: Client, post) -> str:
    """The token static/js/csrf.js fetches once the reader starts writing."""
    client.get(post.get_absolute_url())
    return client.get("/csrf-token").json()["token"]


def post_comment(client: Client, post, token: str, text: str) -> None:
    data = comment_form_data(post, comment=text, seconds_ago=60)
    data["csrfmiddlewaretoken"] = token
    assert client.post("/comments/post/", data).status_code == 302


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reader", POSTING_QUERIES)
def test_posting_a_comment_costs_a_fixed_number_of_queries(
    reader, django_assert_num_queries, database_tasks, settings
):
    settings.INKWELL_COMMENT_RATE_LIMITS = []
    client = Client(enforce_csrf_checks=True)
    if reader == "signed in":
        client.force_login(make_user())
    post = make_post()
    token = csrf_token(client, post)
    post_comment(client, post, token, "First words.")
    with django_assert_num_queries(POSTING_QUERIES[reader]):
        post_comment(client, post, token, "Second words.")
    comment = Comment.objects.get(comment="Second words.")
    held = reader == "signed in"
    assert comment.state == (Comment.State.HELD if held else Comment.State.UNCONFIRMED)
    # A mail queued for each: the confirmation link, or the moderators' mail.
    assert DBTaskResult.objects.count() == 2
