"""Pages of a long discussion, permalinks, counts and the comments feed."""

import datetime
import re

import feedparser
import pytest
from django.template import Context, Template
from django.urls import reverse

from tests.factories import make_comment, make_discussion, make_post

pytestmark = pytest.mark.django_db

HIDDEN_STATES = ("held", "spam", "trash", "unconfirmed")


# Pagination by thread and permalinks


@pytest.fixture
def three_per_page(settings):
    settings.INKWELL_COMMENT_THREADS_PER_PAGE = 3


def test_long_discussions_are_paginated_by_top_level_thread(client, three_per_page):
    post = make_post()
    # Seven threads of two comments each: pages of three threads.
    comments = make_discussion(post=post, comments=14, thread_sizes=(2,))
    page1 = client.get(post.get_absolute_url()).content.decode()
    page3 = client.get(f"{post.get_absolute_url()}?cpage=3").content.decode()

    assert page1.count('class="comment__body"') == 6
    assert "Comments page 1 of 3" in page1
    assert 'rel="next" href="?cpage=2#comments"' in page1
    assert "14 comments on" in page1
    assert page3.count('class="comment__body"') == 2
    last = max(comments, key=lambda comment: comment.pk)
    assert f'id="c{last.pk}"' in page3
    assert f'id="c{last.pk}"' not in page1


@pytest.mark.parametrize("cpage", ["0", "99", "x"])
def test_bad_discussion_page_numbers_show_the_nearest_page(client, cpage):
    post = make_post()
    make_comment(post=post, body="Still here")
    response = client.get(f"{post.get_absolute_url()}?cpage={cpage}")
    assert response.status_code == 200
    assert "Still here" in response.content.decode()


def test_permalink_lands_on_the_page_that_holds_the_comment(client, three_per_page):
    post = make_post()
    comments = make_discussion(post=post, comments=14, thread_sizes=(2,))
    deep_reply = max(comments, key=lambda comment: comment.pk)
    response = client.get(deep_reply.get_absolute_url())
    assert deep_reply.get_absolute_url() == f"/comments/{deep_reply.pk}/"
    assert response.status_code == 302
    assert response["Location"] == (
        f"{post.get_absolute_url()}?cpage=3#c{deep_reply.pk}"
    )
    page = client.get(response["Location"]).content.decode()
    assert f'id="c{deep_reply.pk}"' in page


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_permalink_of_an_unapproved_comment_is_not_found(client, state):
    comment = make_comment(state=state)
    assert client.get(comment.get_absolute_url()).status_code == 404


def test_permalink_on_an_unpublished_post_is_not_found(client):
    comment = make_comment(post=make_post(status="draft"))
    assert client.get(comment.get_absolute_url()).status_code == 404


# Counts


def test_comment_count_excludes_unapproved_comments_unlike_the_stock_tag(rf):
    """xtd's get_xtdcomment_count counts held, spam, trash and unconfirmed
    comments; ours counts what readers can see."""
    post = make_post()
    make_comment(post=post)
    for state in HIDDEN_STATES:
        make_comment(post=post, state=state)
    context = Context({"posts": [post], "post": post, "request": rf.get("/")})
    stock = Template(
        "{% load comments_xtd %}{% get_xtdcomment_count as n for blog.post %}{{ n }}"
    ).render(context)
    ours = Template(
        "{% load inkwell_comments %}{% comment_counts posts as counts %}"
        "{{ counts|count_for:post }}"
    ).render(context)
    assert stock == "5"
    assert ours == "1"


def test_post_listings_show_approved_comment_counts(client):
    busy, quiet = make_post(title="Busy"), make_post(title="Quiet")
    make_comment(post=busy)
    make_comment(post=busy)
    make_comment(post=busy, state="held")
    make_comment(post=quiet, state="spam")
    page = client.get("/").content.decode()
    assert f'<a href="{busy.get_absolute_url()}#comments">2 comments' in page
    assert f'<a href="{quiet.get_absolute_url()}#comments">No comments' in page


# The comments feed


def test_comment_feed_lists_approved_comments_with_absolute_links(client, settings):
    settings.SITE_URL = "https://blog.example.com"
    post = make_post(title="Feed me")
    shown = make_comment(post=post, name="Ada", body="Visible *words*")
    for state in HIDDEN_STATES:
        make_comment(post=post, body=f"Hidden {state}", state=state)
    make_comment(body="On another post")

    response = client.get(reverse("comments:feed", args=[post.pk]))
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo
    assert feed.feed.title.startswith("Comments on “Feed me”")
    assert (
        feed.feed.link == f"https://blog.example.com{post.get_absolute_url()}#comments"
    )
    assert [entry.link for entry in feed.entries] == [
        f"https://blog.example.com/comments/{shown.pk}/"
    ]
    assert "<em>words</em>" in feed.entries[0].summary
    assert "Hidden" not in response.content.decode()


def test_comment_feed_of_an_unpublished_post_is_not_found(client):
    post = make_post(status="draft")
    assert client.get(reverse("comments:feed", args=[post.pk])).status_code == 404


def test_post_page_links_its_comment_feed(client):
    post = make_post()
    page = client.get(post.get_absolute_url()).content.decode()
    assert (
        f'<link rel="alternate" type="application/rss+xml" title="Comments on '
        f'“{post.title}”" href="/comments/feed/{post.pk}/">'
    ) in page


def test_each_comment_shows_its_own_date_and_time(client, settings):
    settings.INKWELL_PAGE_CACHE = False
    post = make_post()
    moments = [
        datetime.datetime(2024, 3, 5, 9, 15, 10, tzinfo=datetime.UTC),
        datetime.datetime(2024, 3, 5, 9, 15, 50, tzinfo=datetime.UTC),  # same minute
        datetime.datetime(2024, 3, 5, 18, 40, tzinfo=datetime.UTC),
        datetime.datetime(2024, 3, 6, 9, 15, tzinfo=datetime.UTC),
    ]
    for moment in moments:
        make_comment(post=post, submit_date=moment)
    page = client.get(post.get_absolute_url()).content.decode()
    shown = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', page)
    assert [(iso, text.strip()) for iso, text in shown[-4:]] == [
        ("2024-03-05T09:15:10+00:00", "March 5, 2024 at 09:15"),
        ("2024-03-05T09:15:50+00:00", "March 5, 2024 at 09:15"),
        ("2024-03-05T18:40:00+00:00", "March 5, 2024 at 18:40"),
        ("2024-03-06T09:15:00+00:00", "March 6, 2024 at 09:15"),
    ]
