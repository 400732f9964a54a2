"""The admin's front page: what waits for an author or a moderator, each
part for those allowed to open it, at a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from blog.models import Post
from blog.views import RETRY_SCHEDULED
from comments.models import Comment
from tests.factories import make_comment, make_post, make_user

State = Comment.State
pytestmark = pytest.mark.django_db


def front_page(client, user) -> str:
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def failed_task(path: str, exception: str) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=TaskResultStatus.FAILED,
        task_path=path,
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=now,
        finished_at=now,
        exception_class_path=exception,
        traceback="Traceback…",
    )


def test_a_moderator_sees_pending_and_latest_comments_first(client):
    post = make_post(title="Back Spasm Symptoms")
    make_comment(post=post, state=State.HELD, body="Held words", reason="2 links")
    make_comment(post=post, state=State.HELD, body="More held words")
    make_comment(post=post, state=State.PUBLIC, body="Approved words")
    make_comment(post=post, state=State.SPAM, body="Spam words")
    page = front_page(client, make_user(groups=("Moderators",)))
    assert "2 pending comments" in page
    assert "Held words" in page and "2 links" in page
    assert "Approved words" in page
    assert "Spam words" not in page
    assert 'href="/admin/comments/comment/?state=held">Open the moderation queue' in (
        page
    )
    assert page.index("2 pending comments") < page.index('id="content-main"')
    # Nothing on posts or tasks: moderators cannot open those.
    assert "drafts" not in page.lower().split('id="content-main"')[0]
    assert "failed task" not in page


def test_an_author_sees_their_own_drafts_and_scheduled_posts(client):
    author = make_user(groups=("Authors",))
    make_post(author=author, title="My half-written post", status=Post.Status.DRAFT)
    make_post(title="Someone else's draft", status=Post.Status.DRAFT)
    make_post(
        author=author,
        title="Out on Monday",
        published_at=timezone.now() + timedelta(days=3),
    )
    make_post(author=author, title="Already out")
    make_comment(post=make_post(author=author), state=State.HELD, body="On mine")
    make_comment(state=State.HELD, body="On theirs")
    page = front_page(client, author)
    assert "1 draft<" in page and "My half-written post" in page
    assert "Someone else" not in page
    assert "1 scheduled post" in page and "Out on Monday" in page
    assert "Already out" not in page
    assert "1 pending comment<" in page and "On mine" in page
    assert "On theirs" not in page
    assert "failed task" not in page


def test_an_editor_sees_every_draft_and_no_comments(client):
    make_post(title="Draft by one", status=Post.Status.DRAFT)
    make_post(title="Draft by another", status=Post.Status.DRAFT)
    make_comment(state=State.HELD)
    page = front_page(client, make_user(groups=("Editors",)))
    assert "2 drafts" in page
    assert "Draft by one" in page and "Draft by another" in page
    assert "pending comment" not in page.split('id="content-main"')[0]


def test_a_superuser_sees_the_task_queues_failures(client):
    failed = failed_task("comments.tasks.send_mail", "smtplib.SMTPServerDisconnected")
    failed_task("comments.tasks.send_mail", RETRY_SCHEDULED)  # will run again
    page = front_page(client, make_user(is_superuser=True, is_staff=True))
    assert "1 failed task<" in page
    assert "send_mail" in page and "SMTPServerDisconnected" in page
    assert f"/admin/django_tasks_database/dbtaskresult/{failed.pk}/change/" in page


def test_nothing_waiting_says_so(client):
    page = front_page(client, make_user(is_superuser=True, is_staff=True))
    assert "0 pending comments" in page
    assert "Nothing waits for you" in page
    assert "No drafts." in page and "Nothing scheduled." in page
    assert "No task has failed" in page


# Session, user, the header's pending count; pending count and rows, latest
# comments, their posts; drafts' count and rows, scheduled count and rows;
# failed tasks' count and rows; the recent actions; the site identity.
@pytest.mark.parametrize("total", [3, 40])
def test_the_front_page_costs_the_same_queries_whatever_is_waiting(
    client, django_assert_num_queries, total
):
    superuser = make_user(is_superuser=True, is_staff=True)
    author = make_user()
    post = make_post(author=author)
    for number in range(total):
        make_comment(post=post, state=State.HELD if number % 2 else State.PUBLIC)
        make_post(author=author, status=Post.Status.DRAFT)
        make_post(author=author, published_at=timezone.now() + timedelta(days=1))
        failed_task("comments.tasks.send_mail", "smtplib.SMTPException")
    client.force_login(superuser)
    client.get("/admin/")  # the site identity, read once and kept
    with django_assert_num_queries(14):
        page = client.get("/admin/").content.decode()
    assert f"{total // 2} pending comment" in page
