"""The moderation queue in the admin: tabs, columns, actions, who may do what."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from comments.models import Ban, Comment, ModerationLog
from comments.moderation import is_banned
from tests.factories import make_comment, make_post, make_user

State = Comment.State
pytestmark = pytest.mark.django_db

QUEUE = "/admin/comments/comment/"


def act(client, action: str, *comments, **extra):
    """An action as the queue's "All" tab sends it."""
    return client.post(
        f"{QUEUE}?state=all",
        {
            "action": action,
            ACTION_CHECKBOX_NAME: [str(comment.pk) for comment in comments],
            **extra,
        },
        follow=True,
    )


def state_of(comment) -> str:
    return Comment.objects.values_list("state", flat=True).get(pk=comment.pk)


@pytest.fixture
def moderator():
    return make_user(username="mod", groups=("Moderators",))


# Tabs and columns


def test_the_queue_opens_on_pending_with_counts_per_tab(admin_client):
    post = make_post(title="Back Spasm Symptoms")
    make_comment(post=post, state=State.HELD, body="Held words", reason="2 links")
    make_comment(post=post, state=State.HELD)
    make_comment(post=post, state=State.PUBLIC, body="Approved words")
    make_comment(post=post, state=State.SPAM)
    page = admin_client.get(QUEUE).content.decode()
    assert "Pending (2)" in page
    assert "Approved (1)" in page
    assert "Spam (1)" in page
    assert "Trash (0)" in page
    assert "Held words" in page
    assert "Approved words" not in page
    assert "2 links" in page
    assert "Back Spasm Symptoms" in page
    assert "192.0.2.10" in page
    approved = admin_client.get(f"{QUEUE}?state=public").content.decode()
    assert "Approved words" in approved
    assert "View in context" in approved


# Session, user, (permissions: user's and groups'), tab counts in one
# aggregate, the page's count, the page, its posts, the header's pending count,
# the site identity (cold cache).
QUEUE_QUERIES = {"superuser": 8, "moderator": 10, "author": 10}


@pytest.mark.parametrize("total", [5, 60])
@pytest.mark.parametrize("who", sorted(QUEUE_QUERIES))
def test_the_queue_costs_the_same_queries_for_5_or_60_comments(
    client, django_assert_num_queries, who, total
):
    author = make_user(groups=("Authors",))
    user = {
        "superuser": make_user(is_superuser=True, is_staff=True),
        "moderator": make_user(groups=("Moderators",)),
        "author": author,
    }[who]
    posts = [make_post(author=author) for _ in range(3)]
    # Half by registered readers: each row's checkbox is labelled with the
    # commenter's name, which comes from their account.
    readers = [make_user(), None]
    for number in range(total):
        make_comment(post=posts[number % 3], state=State.HELD, user=readers[number % 2])
    client.force_login(user)
    with django_assert_num_queries(QUEUE_QUERIES[who]):
        response = client.get(QUEUE)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="action-select"') == min(total, 50)
    assert f"Pending ({total})" in page


def test_the_pending_count_is_in_the_admin_header(client, moderator):
    make_comment(state=State.HELD)
    make_comment(state=State.HELD)
    make_comment(state=State.PUBLIC)
    client.force_login(moderator)
    page = client.get("/admin/").content.decode()
    assert "Pending comments" in page
    assert "(2)" in page


def test_staff_who_cannot_moderate_see_no_pending_count(client):
    make_comment(state=State.HELD)
    client.force_login(make_user(groups=("Editors",)))
    assert "Pending comments" not in client.get("/admin/").content.decode()


# Actions: each goes through set_state (signals, mail) and is logged


def test_approve_publishes_mails_the_commenter_and_logs(
    admin_client, admin_user, client, mailoutbox
):
    post = make_post()
    comment = make_comment(post=post, state=State.HELD, body="Now you see me")
    act(admin_client, "approve", comment)
    assert state_of(comment) == State.PUBLIC
    assert "Now you see me" in client.get(post.get_absolute_url()).content.decode()
    assert [comment.user_email] in [message.to for message in mailoutbox]
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.old_state, entry.new_state, entry.via) == (
        "approve",
        State.HELD,
        State.PUBLIC,
        "admin",
    )
    assert entry.user == admin_user


def test_unapprove_takes_a_comment_off_the_page(admin_client, client):
    post = make_post()
    comment = make_comment(post=post, body="Soon gone")
    act(admin_client, "unapprove", comment)
    assert state_of(comment) == State.HELD
    assert "Soon gone" not in client.get(post.get_absolute_url()).content.decode()


def test_spam_then_not_spam_goes_back_where_it_was(admin_client):
    approved = make_comment(state=State.PUBLIC)
    held = make_comment(state=State.HELD)
    act(admin_client, "spam", approved, held)
    assert {state_of(approved), state_of(held)} == {State.SPAM}
    act(admin_client, "not_spam", approved, held)
    assert state_of(approved) == State.PUBLIC
    assert state_of(held) == State.HELD


def test_spam_caught_by_a_rule_goes_to_pending_when_not_spam(admin_client):
    caught = make_comment(state=State.SPAM, reason="honeypot")
    act(admin_client, "not_spam", caught)
    assert state_of(caught) == State.HELD


def test_trash_then_restore(admin_client):
    comment = make_comment(state=State.PUBLIC)
    act(admin_client, "trash", comment)
    assert state_of(comment) == State.TRASH
    act(admin_client, "restore", comment)
    assert state_of(comment) == State.PUBLIC
    assert list(
        ModerationLog.objects.order_by("pk").values_list("action", flat=True)
    ) == ["trash", "restore"]


def test_an_action_that_does_not_apply_changes_nothing(admin_client):
    comment = make_comment(state=State.PUBLIC)
    response = act(admin_client, "restore", comment)
    assert state_of(comment) == State.PUBLIC
    assert "already in a state" in response.content.decode()
    assert not ModerationLog.objects.exists()


def test_delete_permanently_keeps_the_log(admin_client):
    comment = make_comment(state=State.SPAM)
    act(admin_client, "delete_selected", comment, post="yes")
    assert not Comment.objects.filter(pk=comment.pk).exists()
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.comment_pk, entry.comment) == (
        "delete",
        comment.pk,
        None,
    )


def test_the_log_shows_on_the_comment_page(admin_client):
    comment = make_comment(state=State.HELD)
    act(admin_client, "approve", comment)
    page = admin_client.get(f"{QUEUE}{comment.pk}/change/").content.decode()
    assert "moderation history" in page.lower()
    assert "approve" in page
    assert "Admin" in page


# Bans


def test_ban_these_commenters_bans_their_email_addresses(admin_client):
    comment = make_comment(
        state=State.HELD, email="troll@example.org", ip_address="203.0.113.5"
    )
    page = act(admin_client, "ban_commenters", comment).content.decode()
    ban = Ban.objects.get()
    assert (ban.email, ban.ip_address) == ("troll@example.org", None)
    assert state_of(comment) == State.HELD  # earlier ones stay where they were
    assert "IP addresses were not banned" in page
    assert not is_banned("other@example.org", "203.0.113.5")
    assert is_banned("TROLL@example.org", None)


def test_banning_by_ip_too_is_asked_for(admin_client):
    comment = make_comment(email="troll@example.org", ip_address="203.0.113.5")
    act(admin_client, "ban_commenters_by_ip", comment)
    ban = Ban.objects.get()
    assert (ban.email, ban.ip_address) == ("troll@example.org", "203.0.113.5")
    assert is_banned("other@example.org", "203.0.113.5")


@pytest.mark.parametrize("action", ["ban_commenters", "ban_commenters_by_ip"])
def test_a_ban_warns_about_a_shared_ip(admin_client, action):
    troll = make_comment(email="troll@example.org", ip_address="127.0.0.1")
    page = act(admin_client, action, troll).content.decode()
    assert "127.0.0.1" in page and "likely shared" in page
    make_comment(email="a@example.org", ip_address="198.51.100.4")
    other = make_comment(email="b@example.org", ip_address="198.51.100.4")
    page = act(admin_client, action, other).content.decode()
    assert "2 different email addresses have used it" in page


def test_ban_and_trash_moves_their_earlier_comments(admin_client):
    first = make_comment(
        state=State.PUBLIC, email="troll@example.org", ip_address="203.0.113.1"
    )
    second = make_comment(
        state=State.HELD, email="troll@example.org", ip_address="203.0.113.2"
    )
    someone = make_comment(
        state=State.PUBLIC, email="kind@example.org", ip_address="192.0.2.99"
    )
    act(admin_client, "ban_commenters_and_trash", second)
    assert state_of(first) == State.TRASH
    assert state_of(second) == State.TRASH
    assert state_of(someone) == State.PUBLIC


def test_the_ban_admin_trashes_a_banned_commenters_comments(admin_client):
    comment = make_comment(state=State.PUBLIC, ip_address="198.51.100.3")
    ban = Ban.objects.create(ip_address="198.51.100.3")
    admin_client.post(
        "/admin/comments/ban/",
        {"action": "trash_their_comments", ACTION_CHECKBOX_NAME: [str(ban.pk)]},
    )
    assert state_of(comment) == State.TRASH


def test_a_ban_needs_an_email_or_an_ip(admin_client):
    response = admin_client.post("/admin/comments/ban/add/", {"note": "who?"})
    assert response.status_code == 200
    assert "Give an email address, an IP address or both." in (
        response.content.decode()
    )
    assert not Ban.objects.exists()


# Who may do what


def test_a_moderator_runs_the_queue(client, moderator):
    comment = make_comment(state=State.HELD)
    client.force_login(moderator)
    assert client.get(QUEUE).status_code == 200
    act(client, "approve", comment)
    assert state_of(comment) == State.PUBLIC


def test_a_moderator_cannot_edit_or_add_posts(client, moderator):
    post = make_post(title="Original title")
    client.force_login(moderator)
    change = f"/admin/blog/post/{post.pk}/change/"
    assert client.get(change).status_code == 403
    response = client.post(change, {"title": "Hijacked", "slug": post.slug})
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.title == "Original title"
    assert client.get("/admin/blog/post/add/").status_code == 403


def test_an_author_sees_only_comments_on_their_own_posts(client):
    author = make_user(groups=("Authors",))
    mine = make_comment(post=make_post(author=author), state=State.HELD, body="Mine")
    make_comment(state=State.HELD, body="Someone else's")
    client.force_login(author)
    page = client.get(QUEUE).content.decode()
    assert "Mine" in page
    assert "Someone else" not in page
    assert "Pending (1)" in page
    assert f'href="{QUEUE}{mine.pk}/change/' in page


def test_an_author_cannot_moderate_comments_on_other_posts(client):
    author = make_user(groups=("Authors",))
    mine = make_comment(post=make_post(author=author), state=State.HELD)
    theirs = make_comment(state=State.HELD)
    client.force_login(author)
    response = act(client, "approve", mine, theirs)
    assert state_of(mine) == State.PUBLIC
    assert state_of(theirs) == State.HELD
    assert "not on your posts" in response.content.decode()
    assert client.get(f"{QUEUE}{theirs.pk}/change/").status_code == 302
    assert ModerationLog.objects.filter(comment=theirs).count() == 0


@pytest.mark.parametrize("action", ["trash", "ban_commenters"])
def test_an_action_on_a_comment_that_left_the_tab_says_so(admin_client, action):
    comment = make_comment(state=State.HELD)
    comment.set_state(State.PUBLIC)  # approved by someone else meanwhile
    response = admin_client.post(
        f"{QUEUE}?state=held",
        {"action": action, ACTION_CHECKBOX_NAME: [str(comment.pk)]},
        follow=True,
    )
    page = response.content.decode()
    assert "no longer in this tab" in page
    assert "not on your posts" not in page
    assert state_of(comment) == State.PUBLIC
    assert not Ban.objects.exists()


def test_an_author_cannot_ban(client):
    author = make_user(groups=("Authors",))
    comment = make_comment(post=make_post(author=author), state=State.HELD)
    client.force_login(author)
    page = client.get(QUEUE).content.decode()
    assert "ban_commenters" not in page
    act(client, "ban_commenters", comment)
    assert not Ban.objects.exists()
