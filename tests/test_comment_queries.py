"""The post page costs the same number of queries whatever its discussion."""

import pytest

from tests.factories import make_discussion, make_post, make_user
from tests.test_public_pages import PAGE_QUERIES

pytestmark = pytest.mark.django_db

# Two of them are the discussion's: its outline and the comments of the page.
POST_PAGE_QUERIES = PAGE_QUERIES["post"]


@pytest.mark.parametrize("registered", [False, True], ids=["anonymous", "registered"])
@pytest.mark.parametrize("comments", [0, 10, 1000])
def test_post_page_query_count_does_not_grow_with_comments(
    client, django_assert_num_queries, comments, registered
):
    post = make_post()
    users = (make_user(), None) if registered else ()
    make_discussion(post=post, comments=comments, users=users)
    with django_assert_num_queries(POST_PAGE_QUERIES):
        response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    # 50 threads of four comments on the first page.
    assert response.content.decode().count('class="comment__body"') == min(
        comments, 200
    )
