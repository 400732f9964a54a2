"""The moderation rules, the discussion settings and the decision on a new comment."""

import time
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import httpx
import pytest
from django.utils import timezone

from blog import ratelimit
from comments import moderation, tokens
from comments.models import Ban, Comment, DiscussionSettings
from comments.moderation import Decision, Submission, evaluate
from tests.factories import comment_form_data, make_comment, make_post, make_user

State = Comment.State
pytestmark = pytest.mark.django_db


def rules(**fields) -> DiscussionSettings:
    return DiscussionSettings(pk=1, **fields)


def known(**fields) -> Submission:
    """A returning commenter who took their time: nothing to hold."""
    fields.setdefault("name", "Ann")
    fields.setdefault("email", "ann@example.org")
    fields.setdefault("text", "I found this helpful, thank you.")
    fields.setdefault("ip_address", "192.0.2.1")
    fields.setdefault("seconds_to_post", 40)
    fields.setdefault("approved_before", True)
    return Submission(**fields)


# The rules, one by one


def test_a_returning_commenter_is_published():
    assert evaluate(known(), rules()) == Decision(State.PUBLIC)


def test_first_time_commenters_are_held_by_default():
    decision = evaluate(known(approved_before=False), rules())
    assert decision == Decision(State.HELD, "first-time commenter")


def test_hold_always_holds_returning_commenters():
    decision = evaluate(known(), rules(hold_policy="always"))
    assert decision.state == State.HELD


def test_hold_never_publishes_first_time_commenters():
    decision = evaluate(known(approved_before=False), rules(hold_policy="never"))
    assert decision == Decision(State.PUBLIC)


def test_two_links_are_held_by_default_and_one_is_not():
    two = known(text="See https://a.example and www.b.example")
    assert evaluate(two, rules()) == Decision(State.HELD, "2 links")
    one = known(text="See https://a.example")
    assert evaluate(one, rules()).state == State.PUBLIC


def test_the_link_rule_can_be_turned_off():
    many = known(text="http://a http://b http://c")
    assert evaluate(many, rules(hold_links=0)).state == State.PUBLIC


@pytest.mark.parametrize(
    "field", ["text", "name", "email", "url", "ip_address"], ids=lambda f: f
)
def test_moderation_words_are_matched_in_every_field(field):
    values = {
        "text": "Cheap Viagra here",
        "name": "viagra seller",
        "email": "viagra@example.org",
        "url": "https://viagra.example",
        "ip_address": "viagra",
    }
    decision = evaluate(
        known(**{field: values[field]}), rules(moderation_words="viagra")
    )
    assert decision == Decision(State.HELD, "moderation word: viagra")


def test_words_match_whole_words_only():
    decision = evaluate(known(text="A classic class."), rules(disallowed_words="ass\n"))
    assert decision.state == State.PUBLIC


def test_an_ip_address_in_the_disallowed_list_is_spam():
    decision = evaluate(
        known(ip_address="203.0.113.9"),
        rules(disallowed_words="\n 203.0.113.9 \n"),
    )
    assert decision == Decision(State.SPAM, "disallowed word: 203.0.113.9")


def test_disallowed_words_win_over_moderation_words():
    decision = evaluate(
        known(text="casino and pills"),
        rules(moderation_words="pills", disallowed_words="Casino"),
    )
    assert decision == Decision(State.SPAM, "disallowed word: casino")


def test_a_filled_honeypot_is_spam():
    decision = evaluate(known(honeypot="http://spam.example"), rules())
    assert decision == Decision(State.SPAM, "honeypot")


def test_posting_too_fast_is_held(settings):
    settings.INKWELL_COMMENT_MIN_SECONDS = 3
    assert evaluate(known(seconds_to_post=1), rules()) == Decision(
        State.HELD, "too fast"
    )
    assert evaluate(known(seconds_to_post=4), rules()).state == State.PUBLIC


def test_a_banned_commenter_is_spam_whatever_else():
    decision = evaluate(known(banned=True, honeypot="x"), rules())
    assert decision == Decision(State.SPAM, "banned")


def test_trusted_people_skip_the_rules():
    decision = evaluate(
        known(trusted=True, approved_before=False, text="http://a http://b"),
        rules(hold_policy="always"),
    )
    assert decision == Decision(State.PUBLIC)


# Discussion settings


def test_settings_start_from_sensible_defaults(settings):
    current = DiscussionSettings.current()
    assert current.hold_policy == "first_time"
    assert current.hold_links == 2
    assert current.close_after_days == 0
    assert current.require_name_email is True
    assert current.max_thread_level == settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    assert current.threads_per_page == settings.INKWELL_COMMENT_THREADS_PER_PAGE


def test_settings_are_read_in_one_query_then_from_the_cache(
    django_assert_num_queries,
):
    DiscussionSettings.objects.create(hold_links=5)
    with django_assert_num_queries(1):
        assert DiscussionSettings.current().hold_links == 5
    with django_assert_num_queries(0):
        assert DiscussionSettings.current().hold_links == 5


def test_a_saved_change_is_seen_at_once(django_capture_on_commit_callbacks):
    DiscussionSettings.objects.create(hold_links=5)
    assert DiscussionSettings.current().hold_links == 5  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        changed = DiscussionSettings.objects.get()
        changed.hold_links = 7
        changed.save()
    assert DiscussionSettings.current().hold_links == 7


def test_there_is_only_ever_one_settings_row():
    DiscussionSettings(hold_links=3).save()
    DiscussionSettings(hold_links=4).save()
    assert list(DiscussionSettings.objects.values_list("pk", "hold_links")) == [(1, 4)]


# Closing discussions


def test_close_after_days_closes_old_posts_only():
    old = make_post(published_at=timezone.now() - timedelta(days=40))
    recent = make_post(published_at=timezone.now() - timedelta(days=5))
    closing = rules(close_after_days=30)
    assert not moderation.comments_open(old, closing)
    assert moderation.comments_open(recent, closing)
    assert moderation.comments_open(old, rules(close_after_days=0))


def test_the_posts_own_switch_closes_it():
    post = make_post(allow_comments=False)
    assert not moderation.comments_open(post, rules())


# Facts the decision gathers


def test_bans_match_email_case_insensitively_or_ip():
    Ban.objects.create(email="Troll@Example.org")
    Ban.objects.create(ip_address="198.51.100.7")
    assert moderation.is_banned("troll@example.ORG", None)
    assert moderation.is_banned("someone@example.org", "198.51.100.7")
    assert not moderation.is_banned("someone@example.org", "198.51.100.8")


def test_an_approved_comment_makes_an_address_known():
    make_comment(email="Known@example.org", state=State.PUBLIC)
    make_comment(email="held@example.org", state=State.HELD)
    assert moderation.has_approved_comment("known@example.org")
    assert not moderation.has_approved_comment("held@example.org")


def test_rate_limit_counts_per_ip_and_per_email(settings):
    settings.INKWELL_COMMENT_RATE_LIMITS = [("ip", 2, 3600), ("email", 3, 3600)]
    assert not moderation.rate_limited("a@example.org", "192.0.2.1")
    assert not moderation.rate_limited("b@example.org", "192.0.2.1")
    # The IP's third comment in the minute is one too many.
    assert moderation.rate_limited("c@example.org", "192.0.2.1")
    # Another IP, but the same address as before: its own count.
    assert not moderation.rate_limited("a@example.org", "192.0.2.2")


def clock_at(monkeypatch, moment: float) -> None:
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: moment))


def test_a_burst_across_a_minute_boundary_stays_within_the_limit(settings, monkeypatch):
    settings.INKWELL_COMMENT_RATE_LIMITS = [("ip", 5, 60)]
    boundary = time.time() // 60 * 60 + 60
    allowed = 0
    for number in range(7):  # 7 comments in 21 s, the minute turning halfway
        clock_at(monkeypatch, boundary - 10 + number * 3.5)
        allowed += not moderation.rate_limited(f"r{number}@example.org", "192.0.2.1")
    assert allowed == 5


def test_a_limit_frees_up_as_its_window_slides_on(monkeypatch):
    start = time.time() // 60 * 60
    clock_at(monkeypatch, start)
    assert ratelimit.within_limit("test", "192.0.2.1", 1, 60)
    clock_at(monkeypatch, start + 67)  # the first action is past the window
    assert ratelimit.within_limit("test", "192.0.2.1", 1, 60)
    clock_at(monkeypatch, start + 70)  # but the second is not
    assert not ratelimit.within_limit("test", "192.0.2.1", 1, 60)


# The decision on a comment sent through the form

POST_URL = "/comments/post/"


def sent(post, *, seconds_ago: int = 60, **fields) -> dict:
    """The form as a reader sends it, shown `seconds_ago` (past the speed trap)."""
    return comment_form_data(post, seconds_ago=seconds_ago, **fields)


@pytest.fixture
def no_confirmation(settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False


def test_a_first_time_commenter_is_held_with_the_reason(client, no_confirmation):
    post = make_post()
    response = client.post(POST_URL, sent(post))
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert (comment.state, comment.reason) == (State.HELD, "first-time commenter")


def test_a_known_commenter_is_published(client, no_confirmation):
    post = make_post()
    make_comment(email="ada@example.com")
    client.post(POST_URL, sent(post))
    assert Comment.objects.latest("pk").state == State.PUBLIC


def test_a_form_sent_too_fast_is_held(client, no_confirmation):
    post = make_post()
    make_comment(email="ada@example.com")
    client.post(POST_URL, sent(post, seconds_ago=0))
    comment = Comment.objects.latest("pk")
    assert (comment.state, comment.reason) == (State.HELD, "too fast")


def test_a_banned_address_goes_to_spam(client, no_confirmation):
    Ban.objects.create(email="ada@example.com")
    client.post(POST_URL, sent(make_post()))
    comment = Comment.objects.get()
    assert (comment.state, comment.reason) == (State.SPAM, "banned")


def test_disallowed_word_in_the_name_goes_to_spam(client, no_confirmation):
    DiscussionSettings.objects.create(disallowed_words="casino")
    client.post(POST_URL, sent(make_post(), name="Best Casino"))
    comment = Comment.objects.get()
    assert (comment.state, comment.reason) == (State.SPAM, "disallowed word: casino")


def test_too_many_comments_are_refused_with_the_text_kept(
    client, settings, monkeypatch
):
    settings.INKWELL_COMMENT_RATE_LIMITS = [("ip", 2, 3600)]
    # All three posts fall in one counting window, however slow the machine.
    start = time.time() // 3600 * 3600 + 1
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: start))
    post = make_post()
    for number in range(2):
        client.post(POST_URL, sent(post, comment=f"Comment {number}"))
    response = client.post(POST_URL, sent(post, comment="One too many"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "several comments in a short time" in page
    assert "One too many" in page
    assert Comment.objects.count() == 2


def test_rate_limits_hold_while_the_cache_is_down(client, cache_down, settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    settings.INKWELL_COMMENT_RATE_LIMITS = [("ip", 5, 60), ("email", 30, 60)]
    post = make_post()
    answers = [
        client.post(POST_URL, sent(post, comment=f"Burst {number}")).status_code
        for number in range(8)
    ]
    assert answers == [302] * 5 + [400] * 3
    assert Comment.objects.count() == 5
    # Per address too: another IP, the same email.
    settings.INKWELL_COMMENT_RATE_LIMITS = [("email", 5, 60)]
    elsewhere = client.post(
        POST_URL, sent(post, comment="Elsewhere"), REMOTE_ADDR="198.51.100.1"
    )
    assert "several comments in a short time" in elsewhere.content.decode()
    assert Comment.objects.count() == 5


def test_comments_on_a_post_older_than_the_limit_are_refused(client):
    DiscussionSettings.objects.create(close_after_days=10)
    old = make_post(published_at=timezone.now() - timedelta(days=11))
    response = client.post(POST_URL, sent(old))
    assert response.status_code == 400
    assert "Comments are closed" in response.content.decode()
    assert not Comment.objects.exists()
    assert 'name="comment"' not in client.get(old.get_absolute_url()).content.decode()


def test_the_reply_page_follows_close_after_days(client):
    post = make_post(published_at=timezone.now() - timedelta(days=11))
    parent = make_comment(post=post)
    DiscussionSettings.objects.create(close_after_days=10)
    page = client.get(f"/comments/reply/{parent.pk}/").content.decode()
    assert "Comments are closed" in page


def test_the_post_author_signed_in_is_never_held(client):
    post = make_post()
    client.force_login(post.author)
    data = sent(post, seconds_ago=0, comment="http://a http://b http://c")
    del data["name"], data["email"]
    client.post(POST_URL, data)
    assert Comment.objects.get().state == State.PUBLIC


def test_a_held_reason_waits_through_email_confirmation(client):
    post = make_post()
    client.post(POST_URL, sent(post))
    comment = Comment.objects.get()
    assert (comment.state, comment.reason) == (
        State.UNCONFIRMED,
        "first-time commenter",
    )
    token = tokens.make_confirmation_token(comment)
    client.post(f"/comments/confirm/{token}/")
    comment.refresh_from_db()
    assert (comment.state, comment.reason) == (State.HELD, "first-time commenter")


def test_a_confirmed_comment_without_a_hold_is_published(client):
    DiscussionSettings.objects.create(hold_policy="never")
    client.post(POST_URL, sent(make_post()))
    comment = Comment.objects.get()
    assert (comment.state, comment.reason) == (State.UNCONFIRMED, "")
    client.post(f"/comments/confirm/{tokens.make_confirmation_token(comment)}/")
    comment.refresh_from_db()
    assert comment.state == State.PUBLIC


def test_name_and_email_can_be_made_optional(client, no_confirmation):
    DiscussionSettings.objects.create(require_name_email=False, hold_policy="never")
    response = client.post(POST_URL, sent(make_post(), name="", email=""))
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert (comment.user_name, comment.user_email) == ("Anonymous", "")


def test_the_maximum_depth_is_the_discussion_setting(client, no_confirmation):
    DiscussionSettings.objects.create(max_thread_level=1, hold_policy="never")
    post = make_post()
    top = make_comment(post=post)
    reply = make_comment(parent=top)
    response = client.post(POST_URL, sent(post, reply_to=reply.pk))
    assert response.status_code == 400
    assert "nested as deep as it can go" in response.content.decode()
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'href="/comments/reply/{top.pk}/"' in page
    assert f'href="/comments/reply/{reply.pk}/"' not in page


def test_comments_per_page_is_the_discussion_setting(client):
    DiscussionSettings.objects.create(threads_per_page=2)
    post = make_post()
    for _ in range(3):
        make_comment(post=post)
    page = client.get(post.get_absolute_url()).content.decode()
    assert page.count('class="comment__body"') == 2
    assert "cpage=2" in page


# Akismet (the HTTP call is faked; nothing leaves the machine)


def akismet_answers(handler):
    return mock.patch.object(
        moderation,
        "akismet_http_client",
        lambda: httpx.Client(transport=httpx.MockTransport(handler)),
    )


@pytest.fixture
def akismet_on(settings, no_confirmation):
    settings.AKISMET_API_KEY = "test-key"
    DiscussionSettings.objects.create(hold_policy="never")


def test_akismet_failure_holds_the_comment(client, akismet_on):
    def broken(request):
        raise httpx.ConnectError("no route to host")

    with akismet_answers(broken):
        response = client.post(POST_URL, sent(make_post()))
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert (comment.state, comment.reason) == (State.HELD, "Akismet unavailable")


def test_akismet_server_error_holds_the_comment(client, akismet_on):
    with akismet_answers(lambda request: httpx.Response(503)):
        client.post(POST_URL, sent(make_post()))
    assert Comment.objects.get().state == State.HELD


def test_akismet_spam_verdict_is_spam(client, akismet_on):
    seen = []

    def spam(request):
        seen.append(request)
        return httpx.Response(200, text="true")

    with akismet_answers(spam):
        client.post(POST_URL, sent(make_post()))
    comment = Comment.objects.get()
    assert (comment.state, comment.reason) == (State.SPAM, "Akismet")
    assert b"comment_content=A+thoughtful+comment." in seen[0].content


def test_akismet_ham_verdict_publishes(client, akismet_on):
    with akismet_answers(lambda request: httpx.Response(200, text="false")):
        client.post(POST_URL, sent(make_post()))
    assert Comment.objects.get().state == State.PUBLIC


def test_akismet_is_not_asked_without_a_key(client, no_confirmation):
    def fail(request):
        raise AssertionError("Akismet was called")

    DiscussionSettings.objects.create(hold_policy="never")
    with akismet_answers(fail):
        client.post(POST_URL, sent(make_post()))
    assert Comment.objects.get().state == State.PUBLIC


# The settings page in the admin

SETTINGS_URL = "/admin/comments/discussionsettings/"


def test_the_settings_list_opens_the_single_settings_form(admin_client):
    response = admin_client.get(SETTINGS_URL)
    assert response.status_code == 302
    assert response["Location"] == f"{SETTINGS_URL}1/change/"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Only from first-time commenters" in page
    assert "Add discussion settings" not in page
    assert admin_client.get(f"{SETTINGS_URL}add/").status_code == 403


def test_a_change_in_the_admin_applies_to_the_next_comment(
    admin_client, client, no_confirmation
):
    form = {
        "hold_policy": "never",
        "hold_links": "2",
        "moderation_words": "",
        "disallowed_words": "casino",
        "close_after_days": "0",
        "require_name_email": "on",
        "max_thread_level": "4",
        "threads_per_page": "50",
    }
    response = admin_client.post(f"{SETTINGS_URL}1/change/", form)
    assert response.status_code == 302
    client.post(POST_URL, sent(make_post(), comment="Play casino games"))
    assert Comment.objects.get().state == State.SPAM


def test_the_depth_cannot_exceed_what_the_library_accepts(admin_client, settings):
    response = admin_client.post(
        f"{SETTINGS_URL}1/change/",
        {
            "hold_policy": "never",
            "hold_links": "2",
            "close_after_days": "0",
            "max_thread_level": str(settings.COMMENTS_XTD_MAX_THREAD_LEVEL + 1),
            "threads_per_page": "50",
        },
    )
    assert response.status_code == 200
    assert "The deepest this site allows is" in response.content.decode()


def test_a_moderator_cannot_change_the_settings(client):
    client.force_login(make_user(groups=("Moderators",)))
    assert client.get(f"{SETTINGS_URL}1/change/").status_code == 403


# Duplicates


def test_the_same_text_from_the_same_ip_is_saved_once(client, lenient_moderation):
    post = make_post()
    client.post(POST_URL, sent(post, email="one@example.org", comment="Buy pills"))
    client.post(POST_URL, sent(post, email="two@example.org", comment="Buy pills"))
    assert Comment.objects.count() == 1


def test_the_same_text_from_the_same_address_is_saved_once(client, lenient_moderation):
    post = make_post()
    client.post(POST_URL, sent(post), REMOTE_ADDR="192.0.2.1")
    client.post(POST_URL, sent(post), REMOTE_ADDR="192.0.2.2")
    assert Comment.objects.count() == 1


def test_the_same_text_a_day_later_or_on_another_post_is_saved(
    client, lenient_moderation
):
    post, other = make_post(), make_post()
    earlier = make_comment(post=post, email="ada@example.com", body="Same words")
    Comment.objects.filter(pk=earlier.pk).update(
        submit_date=timezone.now() - timedelta(days=2)
    )
    client.post(POST_URL, sent(post, comment="Same words"))
    client.post(POST_URL, sent(other, comment="Same words"))
    assert Comment.objects.filter(comment="Same words").count() == 3
