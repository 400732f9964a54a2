"""The moderation queue in the admin: tabs, columns, actions, who may do what."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.test import Client

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
# the site identity (cold cache), the spam filter's trained counts and its
# agreement with the moderators.
QUEUE_QUERIES = {"superuser": 10, "moderator": 12, "author": 12}


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


# One comment at a time: the row buttons


def row(client, comment, action: str, back: str = f"{QUEUE}?state=held"):
    return client.post(f"{QUEUE}{comment.pk}/moderate/{action}/", {"next": back})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_each_row_has_the_buttons_its_state_allows(admin_client):
    held = make_comment(state=State.HELD)
    public = make_comment(state=State.PUBLIC)
    spam = make_comment(state=State.SPAM)
    page = admin_client.get(f"{QUEUE}?state=all").content.decode()
    assert '<form id="queue-row" method="post"' in page
    assert 'name="next" value="/admin/comments/comment/?state=all"' in page

    def buttons(comment) -> set[str]:
        return set(
            re.findall(rf'formaction="{QUEUE}{comment.pk}/moderate/(\w+)/"', page)
        )

    assert buttons(held) == {"approve", "spam", "trash"}
    assert buttons(public) == {"unapprove", "spam", "trash"}
    assert buttons(spam) == {"not_spam", "trash"}
    assert f'href="{QUEUE}{held.pk}/reply/?next=' in page
    assert f'href="{QUEUE}{spam.pk}/reply/' not in page


@pytest.mark.parametrize(
    ("action", "state"),
    [("approve", State.PUBLIC), ("spam", State.SPAM), ("trash", State.TRASH)],
)
def test_a_row_button_acts_and_comes_back_to_the_same_page(
    admin_client, admin_user, action, state
):
    post = make_post()
    comment = make_comment(post=post, state=State.HELD, name="Grace")
    back = f"{QUEUE}?state=held&post=post-{post.pk}&q=words"
    response = row(admin_client, comment, action, back)
    assert response.status_code == 302
    assert response["Location"] == back
    assert state_of(comment) == state
    label = {"approve": "Approve", "spam": "Mark as spam", "trash": "Move to trash"}
    assert messages_of(response) == [f"{label[action]}: the comment by Grace."]
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.old_state, entry.new_state, entry.user) == (
        action,
        State.HELD,
        state,
        admin_user,
    )


def test_a_row_button_on_a_comment_moved_meanwhile_says_so(admin_client):
    comment = make_comment(state=State.HELD, name="Grace")
    comment.set_state(State.PUBLIC)
    response = row(admin_client, comment, "approve")
    assert "already approved" in messages_of(response)[0]
    assert not ModerationLog.objects.exists()


def test_a_row_button_needs_a_post_and_a_known_action(admin_client):
    comment = make_comment(state=State.HELD)
    assert admin_client.get(f"{QUEUE}{comment.pk}/moderate/approve/").status_code == 405
    response = row(admin_client, comment, "delete")
    assert messages_of(response) == ["No such action."]
    assert state_of(comment) == State.HELD
    assert row(admin_client, comment, "approve").status_code == 302
    assert row(admin_client, Comment(pk=2**63 + 5), "approve").status_code == 302


def test_a_row_button_goes_back_only_to_the_queue(admin_client):
    comment = make_comment(state=State.HELD)
    response = row(admin_client, comment, "approve", "https://evil.example/")
    assert response["Location"] == f"{QUEUE}?state=held"
    response = row(admin_client, comment, "spam", "/admin/auth/user/")
    assert response["Location"] == f"{QUEUE}?state=held"


def test_an_author_cannot_press_a_row_button_on_another_post(client):
    author = make_user(groups=("Authors",))
    theirs = make_comment(state=State.HELD)
    client.force_login(author)
    response = row(client, theirs, "approve")
    assert "not on your posts" in messages_of(response)[0]
    assert state_of(theirs) == State.HELD


def test_row_buttons_are_csrf_protected(moderator):
    comment = make_comment(state=State.HELD)
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    assert row(client, comment, "approve").status_code == 403
    assert state_of(comment) == State.HELD


# Replying from the queue


def reply(client, comment, text: str, back: str = f"{QUEUE}?state=held"):
    return client.post(f"{QUEUE}{comment.pk}/reply/", {"text": text, "next": back})


def test_a_reply_from_the_queue_is_published_under_the_comment(
    client, moderator, mailoutbox
):
    post = make_post(title="Held back")
    held = make_comment(post=post, state=State.HELD, body="Is this safe?", name="Ada")
    client.force_login(moderator)
    page = client.get(f"{QUEUE}{held.pk}/reply/?next={QUEUE}%3Fstate%3Dheld")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Is this safe?" in text and "approves it too" in text
    response = reply(client, held, "Yes, *slowly*.")
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}?state=held"
    assert state_of(held) == State.PUBLIC  # approved with the reply
    answer = Comment.objects.exclude(pk=held.pk).get()
    assert (answer.parent_id, answer.thread_id, answer.level) == (held.pk, held.pk, 1)
    assert (answer.user, answer.state) == (moderator, State.PUBLIC)
    assert "published" in messages_of(response)[0]
    reader_page = Client().get(post.get_absolute_url()).content.decode()
    assert f'id="c{answer.pk}"' in reader_page
    assert "<em>slowly</em>" in reader_page
    assert [entry.action for entry in ModerationLog.objects.order_by("pk")] == [
        "approve",
        "reply",
    ]


def test_a_reply_needs_text_and_keeps_it(client, moderator):
    held = make_comment(state=State.HELD)
    client.force_login(moderator)
    response = reply(client, held, "   ")
    assert response.status_code == 400
    assert "Write your reply first." in response.content.decode()
    too_long = "x" * 3001
    response = reply(client, held, too_long)
    assert response.status_code == 400
    assert too_long in response.content.decode()
    assert Comment.objects.count() == 1
    assert state_of(held) == State.HELD


@pytest.mark.parametrize("state", [State.SPAM, State.TRASH])
def test_no_reply_to_spam_or_trash(client, moderator, state):
    comment = make_comment(state=state)
    client.force_login(moderator)
    response = reply(client, comment, "Hello")
    assert response.status_code == 400
    assert "before replying" in response.content.decode()
    assert Comment.objects.count() == 1


def test_a_reply_at_the_deepest_level_sits_beside_the_comment(admin_client):
    from comments.models import DiscussionSettings

    DiscussionSettings.objects.update_or_create(pk=1, defaults={"max_thread_level": 1})
    top = make_comment()
    deep = make_comment(parent=top)
    reply(admin_client, deep, "Beside it.")
    answer = Comment.objects.get(comment="Beside it.")
    assert (answer.parent_id, answer.level) == (top.pk, 1)


def test_an_author_cannot_reply_from_the_queue_to_another_post(client):
    author = make_user(groups=("Authors",))
    theirs = make_comment(state=State.HELD)
    client.force_login(author)
    reply(client, theirs, "Mine now")
    assert Comment.objects.count() == 1


# Narrowing the queue: by post, by commenter, by search


def test_the_queue_narrowed_to_one_post_counts_within_it(admin_client):
    post, other = make_post(title="Held back"), make_post(title="Elsewhere")
    make_comment(post=post, state=State.HELD, body="On this one")
    make_comment(post=post, state=State.SPAM, body="Spam on this one")
    make_comment(post=other, state=State.HELD, body="On the other")
    page = admin_client.get(f"{QUEUE}?post=post-{post.pk}").content.decode()
    assert "On this one" in page and "On the other" not in page
    assert "Pending (1)" in page and "Spam (1)" in page
    assert "Post: <strong>Held back</strong>" in page
    page = admin_client.get(f"{QUEUE}?state=all").content.decode()
    assert f"?post=post-{post.pk}&amp;state=all" in page  # the rows' links


@pytest.mark.parametrize("value", ["junk", "post-0", "page-99999999999999999999"])
def test_a_post_filter_naming_nothing_shows_nothing(admin_client, value):
    make_comment(state=State.HELD, body="Somewhere")
    response = admin_client.get(f"{QUEUE}?post={value}")
    assert response.status_code == 200
    assert "Somewhere" not in response.content.decode()


def test_a_commenters_history_is_one_click_from_their_comment(admin_client):
    mine = make_comment(state=State.HELD, email="Ada@example.org", body="Held one")
    make_comment(state=State.SPAM, email="ada@example.org", body="Spam one")
    make_comment(state=State.PUBLIC, email="ada@example.org", body="Public one")
    make_comment(state=State.HELD, email="grace@example.org", body="Not hers")
    change = admin_client.get(f"{QUEUE}{mine.pk}/change/").content.decode()
    assert "1 approved, 1 pending, 1 spam" in change
    history = "?commenter=Ada%40example.org&amp;state=all"
    assert history in change
    assert history in admin_client.get(QUEUE).content.decode()
    page = admin_client.get(f"{QUEUE}?commenter=Ada%40example.org&state=all")
    text = page.content.decode()
    assert all(body in text for body in ("Held one", "Spam one", "Public one"))
    assert "Not hers" not in text


def test_an_authors_view_of_a_history_keeps_to_their_posts(client):
    author = make_user(groups=("Authors",))
    mine = make_comment(
        post=make_post(author=author), state=State.HELD, email="ada@example.org"
    )
    make_comment(state=State.SPAM, email="ada@example.org", body="Elsewhere")
    client.force_login(author)
    change = client.get(f"{QUEUE}{mine.pk}/change/").content.decode()
    assert '<div class="readonly">1 pending · <a' in change
    page = client.get(f"{QUEUE}?commenter=ada%40example.org&state=all")
    assert "Elsewhere" not in page.content.decode()


def test_the_search_finds_text_names_emails_and_post_titles(admin_client):
    on_title = make_comment(
        post=make_post(title="Back Spasm Symptoms"), state=State.HELD, body="Thanks"
    )
    by_name = make_comment(state=State.HELD, name="Spasmodic Sam", body="Hi")
    by_email = make_comment(state=State.HELD, email="spasm@example.org", body="Yo")
    make_comment(state=State.HELD, body="Nothing to see")
    page = admin_client.get(f"{QUEUE}?q=spasm").content.decode()
    assert "Thanks" in page and "Spasmodic Sam" in page
    assert "spasm@example.org" in page
    assert "Nothing to see" not in page
    assert {on_title.pk, by_name.pk, by_email.pk} == {
        int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', page)
    }


@pytest.mark.parametrize("total", [5, 60])
def test_a_narrowed_queue_costs_the_same_queries(
    admin_client, django_assert_num_queries, total
):
    post = make_post()
    for _ in range(total):
        make_comment(post=post, state=State.HELD, email="x@example.org")
    admin_client.get(QUEUE)  # the site identity, read once and kept
    # Session, user, tab counts, the page's count, the page, its posts, the
    # post's title for the filter, the header's pending count, the spam
    # filter's trained counts and agreement.
    with django_assert_num_queries(10):
        response = admin_client.get(
            f"{QUEUE}?post=post-{post.pk}&commenter=x%40example.org&q=a"
        )
    assert response.status_code == 200
    assert response.content.decode().count('class="action-select"') == min(total, 50)


# Editing a comment's text, logged


def test_editing_a_comments_text_is_logged_with_both_texts(admin_client, client):
    from django.contrib.admin.models import LogEntry

    post = make_post()
    comment = make_comment(post=post, body="I has a typo", name="Ada")
    form = {
        "user_name": "Ada",
        "user_email": comment.user_email,
        "user_url": "",
        "comment": "I have a typo",
        "moderation_log-TOTAL_FORMS": "0",
        "moderation_log-INITIAL_FORMS": "0",
    }
    response = admin_client.post(
        f"{QUEUE}{comment.pk}/change/?_changelist_filters=state%3Dpublic", form
    )
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}?state=public"
    entry = LogEntry.objects.get(object_id=str(comment.pk))
    message = entry.get_change_message()
    assert "“I has a typo”" in message and "“I have a typo”" in message
    history = admin_client.get(f"{QUEUE}{comment.pk}/history/").content.decode()
    assert "I has a typo" in history
    assert ModerationLog.objects.get().action == "edit"
    assert "I have a typo" in client.get(post.get_absolute_url()).content.decode()


def test_saving_without_changing_the_text_logs_no_edit(admin_client):
    comment = make_comment(body="Fine as it is", name="Ada")
    admin_client.post(
        f"{QUEUE}{comment.pk}/change/",
        {
            "user_name": "Ada B.",
            "user_email": comment.user_email,
            "user_url": "",
            "comment": "Fine as it is",
            "moderation_log-TOTAL_FORMS": "0",
            "moderation_log-INITIAL_FORMS": "0",
        },
    )
    assert not ModerationLog.objects.exists()
