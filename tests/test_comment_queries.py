"""The post page costs the same number of queries whatever its discussion."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import RequestContext, Template
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

from comments.models import DiscussionSettings
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


# The stock tree needs django-comments-xtd's URLs (its Reply links).
urlpatterns = [
    path("xtd/", include("django_comments_xtd.urls")),
    path("", include("blog.urls")),
]


@pytest.mark.urls(__name__)
def test_thread_renders_in_one_pass_where_the_stock_tree_pays_per_comment(rf):
    """xtd's comment_tree.html checks a permission per comment by a registered
    user (two queries each) and renders a template per comment with replies."""
    post = make_post()
    make_discussion(post=post, comments=40, users=(make_user(),))
    request = rf.get(post.get_absolute_url())
    request.user = AnonymousUser()
    DiscussionSettings.current()  # cached from here on, as on a running site

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
    our_queries, our_templates, our_html = cost(
        "{% load inkwell_comments %}{% get_discussion post as discussion %}"
        '{% include "comments/_thread.html" with comments=discussion.page.comments %}'
    )
    assert stock_html.count('class="comment') >= 40
    assert our_html.count('class="comment__body"') == 40
    assert stock_queries >= 80
    assert stock_templates >= 10
    assert our_queries == 2
    assert our_templates == 2  # the string template and _thread.html
