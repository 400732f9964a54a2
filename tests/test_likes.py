"""Readers like posts: "3 bloggers like this", once each, with or without JS."""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_comments.models import CommentFlag
from django_comments_xtd.models import DISLIKEDIT_FLAG, LIKEDIT_FLAG

from blog import avatars
from blog.models import Post
from comments import likes
from comments.models import Comment, PostLike
from tests.factories import make_comment, make_discussion, make_post, make_user
from tests.test_public_pages import PAGE_QUERIES

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def like_url(post: Post) -> str:
    return reverse("comments:like_post", args=[post.pk])


def without_faces(page: str) -> str:
    """The page without the likers' avatars (blog/avatars.py)."""
    return re.sub(r'<img class="avatar" [^>]*>', "", page)


def likes_line(client: Client, post: Post) -> str:
    page = client.get(post.get_absolute_url()).content.decode()
    start = page.index('<p class="likes__line"')
    return page[page.index(">", start) + 1 : page.index("</p>", start)]


def test_anonymous_like_sets_a_private_cookie_and_counts_once(client):
    post = make_post()
    response = client.post(like_url(post), {"intent": "like"})

    cookie = response.cookies[likes.VISITOR_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == likes.VISITOR_COOKIE_AGE
    like = PostLike.objects.get(post=post)
    assert likes.visitor_from_cookie(cookie.value) == like.visitor
    assert like.user is None
    assert like.ip_address == "127.0.0.1"

    second = client.post(like_url(post), {"intent": "like"})
    assert PostLike.objects.filter(post=post).count() == 1
    assert likes.VISITOR_COOKIE not in second.cookies
    assert likes_line(client, post) == "1 blogger likes this."


def test_clicking_again_unlikes(client):
    post = make_post()
    client.post(like_url(post))
    assert PostLike.objects.filter(post=post).count() == 1
    client.post(like_url(post))
    assert not PostLike.objects.filter(post=post).exists()


def test_another_anonymous_reader_adds_their_own_like(client):
    post = make_post()
    client.post(like_url(post), {"intent": "like"})
    Client(REMOTE_ADDR="203.0.113.9").post(like_url(post), {"intent": "like"})
    assert PostLike.objects.filter(post=post).count() == 2
    assert PostLike.objects.values("visitor").distinct().count() == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [("198.51.100.7", "198.51.100.7"), ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9")],
    ids=["ipv4", "ipv6-same-64"],
)
def test_one_network_gives_a_post_one_anonymous_like_a_day(first, second):
    post = make_post()
    Client(REMOTE_ADDR=first).post(like_url(post), {"intent": "like"})
    for _ in range(3):  # no cookie, or a made-up one: a new reader each time
        stuffer = Client(REMOTE_ADDR=second)
        stuffer.cookies[likes.VISITOR_COOKIE] = "x" * 32
        response = stuffer.post(like_url(post), {"intent": "like"}, **JSON)
        assert response.status_code == 429
        assert "already liked this post today" in response.json()["message"]
    assert PostLike.objects.filter(post=post).count() == 1
    # Another post, another /64, or a day later: counted.
    Client(REMOTE_ADDR=second).post(like_url(make_post()), {"intent": "like"})
    Client(REMOTE_ADDR="2001:db8:1:3::1").post(like_url(post), {"intent": "like"})
    PostLike.objects.update(created_at=timezone.now() - timedelta(days=1, seconds=1))
    Client(REMOTE_ADDR=second).post(like_url(post), {"intent": "like"})
    assert PostLike.objects.filter(post=post).count() == 3


def test_the_reader_who_liked_can_still_unlike_and_like_again(client):
    post = make_post()
    client.post(like_url(post), {"intent": "like"})
    client.post(like_url(post), {"intent": "unlike"})
    client.post(like_url(post), {"intent": "like"})
    assert PostLike.objects.filter(post=post).count() == 1


def test_a_forged_visitor_cookie_is_replaced(client):
    post = make_post()
    PostLike.objects.create(post=post, visitor="a" * 32, network="203.0.113.1")
    client.cookies[likes.VISITOR_COOKIE] = "a" * 32  # someone else's id, unsigned
    response = client.post(like_url(post), {"intent": "unlike"})
    assert PostLike.objects.filter(visitor="a" * 32).exists()  # not theirs to undo
    client.post(like_url(post), {"intent": "like"})
    mine = PostLike.objects.exclude(visitor="a" * 32).get()
    cookie = client.cookies[likes.VISITOR_COOKIE].value
    assert likes.visitor_from_cookie(cookie) == mine.visitor
    assert response.status_code == 302


def test_signed_in_reader_likes_by_account_and_is_named(client):
    post = make_post()
    reader = make_user(username="ann", first_name="Ann", last_name="Reader")
    client.force_login(reader)

    response = client.post(like_url(post), {"intent": "like"})
    assert likes.VISITOR_COOKIE not in response.cookies
    assert PostLike.objects.get(post=post).user == reader
    page = client.get(post.get_absolute_url()).content.decode()
    assert "<li>Ann Reader</li>" in without_faces(page)
    assert 'value="unlike" aria-pressed="true"' in page

    client.post(like_url(post), {"intent": "unlike"})
    assert not PostLike.objects.filter(post=post).exists()
    assert (
        'aria-pressed="false"' in client.get(post.get_absolute_url()).content.decode()
    )


@pytest.mark.parametrize(
    ("count", "line"),
    [
        (0, "Be the first to like this."),
        (1, "1 blogger likes this."),
        (3, "3 bloggers like this."),
    ],
)
def test_the_line_counts_bloggers(client, count, line):
    post = make_post()
    for _ in range(count):
        PostLike.objects.create(post=post, user=make_user())
    assert likes_line(client, post) == line


def test_anonymous_likes_count_but_only_signed_in_likers_are_named(client):
    post = make_post()
    PostLike.objects.create(post=post, visitor="a" * 32)
    PostLike.objects.create(post=post, user=make_user(username="bob"))
    page = client.get(post.get_absolute_url()).content.decode()
    assert "2 bloggers like this." in page
    names = without_faces(page)
    assert '<ul class="likes__names" data-likes-names><li>bob</li></ul>' in names
    assert page.count('<img class="avatar" src="data:image/png;base64,') >= 1


def test_likers_are_named_in_the_order_they_liked(client):
    post = make_post()
    zoe, adam = make_user(username="zoe"), make_user(username="adam")
    PostLike.objects.create(post=post, visitor="a" * 32)
    PostLike.objects.create(post=post, user=adam)
    PostLike.objects.create(post=post, user=zoe)
    page = client.get(post.get_absolute_url()).content.decode()
    assert "<li>adam</li><li>zoe</li>" in without_faces(page)


def test_liker_names_are_escaped(client):
    post = make_post()
    PostLike.objects.create(post=post, user=make_user(username="<script>"))
    page = client.get(post.get_absolute_url()).content.decode()
    assert "<li>&lt;script&gt;</li>" in without_faces(page)
    assert "<script>" not in page.split('id="likes"')[1].split("</section>")[0]


def test_no_javascript_flow_redirects_to_the_likes_with_a_message(client):
    post = make_post()
    response = client.post(like_url(post), follow=True)
    assert response.redirect_chain == [(post.get_absolute_url() + "#likes", 302)]
    page = response.content.decode()
    assert "Thanks for the like!" in page
    assert "1 blogger likes this." in page

    response = client.post(like_url(post), follow=True)
    assert "Your like was removed." in response.content.decode()


def test_javascript_flow_answers_json(client):
    post = make_post()
    PostLike.objects.create(post=post, user=make_user(username="carol"))

    response = client.post(like_url(post), {"intent": "like"}, **JSON)
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "liked": True,
        "line": "2 bloggers like this.",
        "names": ["carol"],
        "faces": [avatars.identicon_url("carol@example.com", "carol")],
        "photos": [""],  # Gravatar is off unless the administrator turns it on
        "message": "Thanks for the like!",
    }
    assert likes.VISITOR_COOKIE in response.cookies

    response = client.post(like_url(post), {"intent": "unlike"}, **JSON)
    assert response.json()["liked"] is False
    assert response.json()["line"] == "1 blogger likes this."


def test_the_page_wires_the_button_without_inline_script(client):
    post = make_post()
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'action="{like_url(post)}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'aria-pressed="false"' in page
    assert '<script src="/static/js/likes.js" defer></script>' in page
    assert "<script>" not in page
    assert client.get("/static/js/likes.js").status_code == 200


@pytest.fixture
def window_start(monkeypatch) -> float:
    """The clock stopped at the start of a rate-limit window, so that a slow
    run cannot cross into the next window halfway through a test."""
    start = time.time() // likes.RATE_WINDOW * likes.RATE_WINDOW
    monkeypatch.setattr(time, "time", lambda: start)
    return start


def test_rate_limit_per_ip_refuses_with_a_message_and_saves_nothing(
    client, monkeypatch, window_start
):
    monkeypatch.setattr(likes, "RATE_LIMIT", 3)
    posts = [make_post() for _ in range(4)]
    for post in posts[:3]:
        client.post(like_url(post))
    assert PostLike.objects.count() == 3

    response = client.post(like_url(posts[3]), follow=True)
    assert "Too many likes from your network" in response.content.decode()
    assert PostLike.objects.count() == 3

    fresh_reader = Client()  # same IP, no cookie: still refused
    response = fresh_reader.post(like_url(posts[3]), **JSON)
    assert response.status_code == 429
    assert "Too many likes" in response.json()["message"]
    assert response.json()["count"] == 0
    assert PostLike.objects.count() == 3

    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    elsewhere.post(like_url(posts[3]))
    assert PostLike.objects.filter(post=posts[3]).count() == 1


def test_rate_limit_window_passes(client, monkeypatch, window_start):
    monkeypatch.setattr(likes, "RATE_LIMIT", 1)
    post = make_post()
    client.post(like_url(post))
    client.post(like_url(post))
    assert PostLike.objects.count() == 1  # the unlike was refused

    # Counted over a sliding window, in tenths: gone a tenth past it.
    later = window_start + likes.RATE_WINDOW * 1.1
    monkeypatch.setattr(time, "time", lambda: later)
    client.post(like_url(post))
    assert PostLike.objects.count() == 0


def test_the_like_limit_holds_while_the_cache_is_down(monkeypatch, cache_down):
    monkeypatch.setattr(likes, "RATE_LIMIT", 3)
    for post in [make_post() for _ in range(5)]:
        Client().post(like_url(post))  # no cookie, one IP
    assert PostLike.objects.count() == 3


@pytest.mark.parametrize(
    "state",
    [
        {"status": Post.Status.DRAFT},
        {
            "status": Post.Status.PUBLISHED,
            "published_at": timezone.now() + timedelta(days=1),
        },
    ],
    ids=["draft", "scheduled"],
)
def test_only_published_posts_can_be_liked(admin_client, state):
    post = make_post(**state)
    assert admin_client.post(like_url(post)).status_code == 404
    assert (
        admin_client.post(reverse("comments:like_post", args=[99999])).status_code
        == 404
    )
    assert not PostLike.objects.exists()
    assert (
        'id="likes"' not in admin_client.get(post.get_absolute_url()).content.decode()
    )


def test_get_is_not_allowed(client):
    post = make_post()
    assert client.get(like_url(post)).status_code == 405
    assert not PostLike.objects.exists()


def test_csrf_token_is_required():
    post = make_post()
    client = Client(enforce_csrf_checks=True)
    assert client.post(like_url(post), {"intent": "like"}).status_code == 403
    assert client.post(like_url(post), {"intent": "like"}, **JSON).status_code == 403
    assert not PostLike.objects.exists()

    client.get(post.get_absolute_url())
    token = client.get("/csrf-token").json()["token"]
    response = client.post(like_url(post), {"intent": "like"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    assert PostLike.objects.filter(post=post).count() == 1


def test_a_like_from_a_shared_page_without_javascript_takes_one_more_press():
    """The cached page's Like form has no token (csrf.js fetches it): without
    JavaScript the reader is asked to press again, on a page with a token."""
    post = make_post()
    client = Client(enforce_csrf_checks=True)
    client.get(post.get_absolute_url())
    asked = client.post(like_url(post), {"intent": "like", "csrfmiddlewaretoken": ""})
    assert asked.status_code == 403
    assert "Press the button again" in asked.text
    assert not PostLike.objects.exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', asked.text)[1]
    response = client.post(
        like_url(post), {"intent": "like", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert PostLike.objects.filter(post=post).count() == 1


# A signed-in reader costs the session and the user on top of the page's own.
EXTRA_QUERIES = {"anonymous": 0, "cookie liker": 0, "member": 2, "member liker": 2}


@pytest.mark.parametrize("likers", [0, 50])
@pytest.mark.parametrize("visitor", sorted(EXTRA_QUERIES))
def test_post_page_query_count_does_not_grow_with_likes(
    client, django_assert_num_queries, likers, visitor
):
    # Tagged, as the pinned page's post: it asks for its related posts.
    post = make_post(tags=("spine",))
    # In bulk: fifty likers, a handful of queries.
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"liker{number}", password="!")
        for number in range(likers)
    )
    PostLike.objects.bulk_create(PostLike(post=post, user=user) for user in users)
    PostLike.objects.create(post=post, visitor="v" * 32)
    if visitor == "cookie liker":
        client.cookies[likes.VISITOR_COOKIE] = likes.signed_visitor("v" * 32)
    if visitor.startswith("member"):
        member = make_user(username="member")
        client.force_login(member)
        if visitor == "member liker":
            PostLike.objects.create(post=post, user=member)

    with django_assert_num_queries(PAGE_QUERIES["post"] + EXTRA_QUERIES[visitor]):
        page = client.get(post.get_absolute_url()).content.decode()
    total = likers + 1 + (visitor == "member liker")
    assert f"{total} blogger" in page
    assert without_faces(page).count("<li>liker") == min(likers, likes.NAMES_SHOWN)
    assert ('aria-pressed="true"' in page) == visitor.endswith("liker")


# Comments: signed-in readers like them, as django-comments-xtd's feedback flags.


def comment_like_url(comment) -> str:
    return reverse("comments:like_comment", args=[comment.pk])


def test_signed_in_reader_likes_and_unlikes_a_comment(client):
    comment = make_comment()
    reader = make_user()
    client.force_login(reader)

    response = client.post(comment_like_url(comment), {"intent": "like"}, follow=True)
    assert response.redirect_chain[-1][0].endswith(f"#c{comment.pk}")
    flag = CommentFlag.objects.get(comment=comment)
    assert (flag.user, flag.flag) == (reader, LIKEDIT_FLAG)
    page = response.content.decode()
    assert "Thanks for the like!" in page
    assert "Liked by 1 person" in page
    assert 'value="unlike" aria-pressed="true"' in page

    client.post(comment_like_url(comment), {"intent": "like"})
    assert CommentFlag.objects.filter(comment=comment).count() == 1
    client.post(comment_like_url(comment))  # clicking again unlikes
    assert not CommentFlag.objects.exists()


def test_a_comment_like_replaces_a_dislike(client):
    comment = make_comment()
    reader = make_user()
    CommentFlag.objects.create(comment=comment, user=reader, flag=DISLIKEDIT_FLAG)
    client.force_login(reader)
    client.post(comment_like_url(comment), {"intent": "like"})
    assert list(CommentFlag.objects.values_list("flag", flat=True)) == [LIKEDIT_FLAG]


def test_comment_like_answers_json(client):
    comment = make_comment()
    CommentFlag.objects.create(comment=comment, user=make_user(), flag=LIKEDIT_FLAG)
    client.force_login(make_user())
    response = client.post(comment_like_url(comment), {"intent": "like"}, **JSON)
    assert response.json() == {
        "count": 2,
        "liked": True,
        "line": "Liked by 2 people",
        "message": "Thanks for the like!",
    }


def test_anonymous_readers_see_comment_likes_but_cannot_like(client):
    comment = make_comment()
    other = make_comment(post=comment.content_object)
    CommentFlag.objects.create(comment=comment, user=make_user(), flag=LIKEDIT_FLAG)
    page = client.get(comment.content_object.get_absolute_url()).content.decode()
    assert '<p class="comment-like__line">Liked by 1 person</p>' in page
    assert comment_like_url(comment) not in page
    assert comment_like_url(other) not in page

    response = client.post(comment_like_url(comment), follow=True)
    assert "Sign in to like comments." in response.content.decode()
    response = client.post(comment_like_url(comment), **JSON)
    assert response.status_code == 403
    assert CommentFlag.objects.count() == 1


@pytest.mark.parametrize(
    "case", ["held comment", "draft post", "unknown comment", "get"]
)
def test_only_approved_comments_on_published_posts_can_be_liked(admin_client, case):
    comment = {
        "held comment": lambda: make_comment(state=Comment.State.HELD),
        "draft post": lambda: make_comment(post=make_post(status=Post.Status.DRAFT)),
        "unknown comment": lambda: make_comment(),
        "get": lambda: make_comment(),
    }[case]()
    url = comment_like_url(comment)
    if case == "unknown comment":
        url = reverse("comments:like_comment", args=[comment.pk + 1000])
    if case == "get":
        assert admin_client.get(url).status_code == 405
    else:
        assert admin_client.post(url).status_code == 404
    assert not CommentFlag.objects.exists()


def test_comment_likes_share_the_ip_rate_limit(client, monkeypatch, window_start):
    monkeypatch.setattr(likes, "RATE_LIMIT", 1)
    post = make_post()
    comment = make_comment(post=post)
    client.force_login(make_user())
    client.post(like_url(post))
    response = client.post(comment_like_url(comment), **JSON)
    assert response.status_code == 429
    assert not CommentFlag.objects.exists()


def test_comment_likes_require_the_csrf_token():
    comment = make_comment()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert client.post(comment_like_url(comment)).status_code == 403
    assert not CommentFlag.objects.exists()


@pytest.mark.parametrize("flags", [0, 40])
def test_comment_likes_keep_the_post_page_query_count(
    client, django_assert_num_queries, flags
):
    # Tagged, as the pinned page's post: it asks for its related posts.
    post = make_post(tags=("spine",))
    reader = make_user()
    comments = make_discussion(post=post, comments=20)
    likers = get_user_model().objects.bulk_create(
        get_user_model()(username=f"liker{number}", password="!")
        for number in range(flags // len(comments))
    )
    CommentFlag.objects.bulk_create(
        CommentFlag(comment_id=c.pk, user=u, flag=LIKEDIT_FLAG, flag_date=c.submit_date)
        for c in comments
        for u in likers
    )
    CommentFlag.objects.create(
        comment_id=comments[3].pk, user=reader, flag=LIKEDIT_FLAG
    )
    client.force_login(reader)

    # The reader's session and account. (Not staff: no moderation links, so
    # no permission check.)
    with django_assert_num_queries(PAGE_QUERIES["post"] + 2):
        page = client.get(post.get_absolute_url()).content.decode()
    assert page.count('class="comment-like"') == 20
    assert page.count('aria-pressed="true"') == 1
    assert page.count(f"Liked by {len(likers) + 1}") == 1


# The anonymous page cache (blog/pagecache.py) must not mix readers' likes.


def test_cached_post_page_never_shows_another_readers_like(client):
    post = make_post()
    url = post.get_absolute_url()
    stranger = Client()
    stranger.get(url)  # the CSRF cookie: later pages may be cached
    client.get(url)
    client.post(like_url(post), {"intent": "like"}, **JSON)

    for _ in range(2):  # what the page cache holds for anonymous readers
        page = stranger.get(url).content.decode()
        assert 'aria-pressed="false"' in page
        assert "1 blogger likes this." in page
    for _ in range(2):
        page = client.get(url).content.decode()
        assert 'aria-pressed="true"' in page
    assert 'aria-pressed="false"' in stranger.get(url).content.decode()


def test_a_comment_like_shows_on_cached_pages_at_once(client):
    comment = make_comment()
    url = comment.content_object.get_absolute_url()
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"

    member = Client()
    member.force_login(make_user())
    member.post(comment_like_url(comment), {"intent": "like"})
    assert "Liked by 1 person" in client.get(url).content.decode()
    member.post(comment_like_url(comment), {"intent": "unlike"})
    assert "Liked by" not in client.get(url).content.decode()


def test_the_likes_line_shared_by_readers_without_likes_follows_every_like(
    client, settings
):
    """With the page cache off, readers who cannot have liked share one cached
    summary (blog/pagecache.py); readers who liked always get their own."""
    settings.INKWELL_PAGE_CACHE = False
    post = make_post()
    stranger = Client()
    assert likes_line(stranger, post) == "Be the first to like this."
    client.post(like_url(post), {"intent": "like"})
    assert likes_line(stranger, post) == "1 blogger likes this."
    assert 'aria-pressed="true"' in client.get(post.get_absolute_url()).content.decode()
    assert (
        'aria-pressed="false"' in stranger.get(post.get_absolute_url()).content.decode()
    )
    client.post(like_url(post), {"intent": "unlike"})
    assert likes_line(stranger, post) == "Be the first to like this."


def test_a_page_is_liked_as_a_post_is_and_its_likes_stay_its_own(client):
    """Pages have the same Like button and "N bloggers like this" line; a
    page and a post with the same id keep their likes apart."""
    from tests.factories import make_page

    page = make_page(slug="about", title="About")
    post = make_post()
    url = reverse("comments:like_page", args=[page.pk])
    before = client.get(page.get_absolute_url()).text
    assert "Be the first to like this." in before
    assert f'action="{url}"' in before

    response = client.post(url, {"intent": "like"})
    assert response.status_code == 302
    assert response["Location"] == page.get_absolute_url() + "#likes"
    assert PostLike.objects.filter(page=page, post=None).count() == 1
    assert "1 blogger likes this." in Client().get(page.get_absolute_url()).text
    assert "Be the first to like this." in Client().get(post.get_absolute_url()).text


def test_a_draft_page_cannot_be_liked(client):
    from tests.factories import make_page

    page = make_page(slug="plans", status="draft")
    url = reverse("comments:like_page", args=[page.pk])
    assert client.post(url, {"intent": "like"}).status_code == 404
    assert not PostLike.objects.exists()
