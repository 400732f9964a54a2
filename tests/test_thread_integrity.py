"""tests/thread_integrity.py finds what it is meant to find."""

import pytest

from comments.models import Comment
from tests.factories import make_comment, make_post
from tests.thread_integrity import thread_problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread():
    """A thread saved one comment at a time, as the form saves them:

    root (1) > a (2) > b (3), a > c (4), root > d (5); e (1) alone.
    """
    post = make_post()
    root = make_comment(post=post)
    a = make_comment(post=post, parent=root)
    b = make_comment(post=post, parent=a)
    d = make_comment(post=post, parent=root)
    c = make_comment(post=post, parent=a)
    make_comment(post=post)
    return {
        name: Comment.objects.get(pk=c.pk)
        for name, c in zip("rabdc", [root, a, b, d, c], strict=True)
    }


def test_threads_saved_one_comment_at_a_time_are_consistent(thread):
    assert [thread[name].order for name in "rabcd"] == [1, 2, 3, 4, 5]
    assert [thread[name].level for name in "rabcd"] == [0, 1, 2, 2, 1]
    assert [thread[name].nested_count for name in "rabcd"] == [4, 2, 0, 0, 0]
    assert thread_problems() == []


def test_two_replies_given_the_same_order_are_found(thread):
    Comment.objects.filter(pk=thread["d"].pk).update(order=thread["c"].order)
    problems = thread_problems()
    assert f"thread {thread['r'].pk}: orders [1, 2, 3, 4, 4] are not 1..n" in problems
    assert f"comment {thread['d'].pk}: order 4, depth-first position 5" in problems


def test_replies_out_of_depth_first_order_are_found(thread):
    Comment.objects.filter(pk=thread["b"].pk).update(order=4)
    Comment.objects.filter(pk=thread["c"].pk).update(order=3)
    assert thread_problems() == [
        f"comment {thread['b'].pk}: order 4, depth-first position 3",
        f"comment {thread['c'].pk}: order 3, depth-first position 4",
    ]


def test_a_wrong_level_or_nested_count_is_found(thread):
    Comment.objects.filter(pk=thread["b"].pk).update(level=1)
    Comment.objects.filter(pk=thread["r"].pk).update(nested_count=3)
    assert thread_problems() == [
        f"comment {thread['r'].pk}: nested_count 3, 4 replies below it",
        f"comment {thread['b'].pk}: level 1, expected 2",
    ]
