"""The spam filter that learns from the moderators: what it learns from, how
it votes in the moderation rules, and what it does when its state is wrong."""
# ruff: noqa: RUF001 (Chinese text has its own punctuation)

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from comments import moderation, spamfilter
from comments.models import Comment, DiscussionSettings, SpamFilterRecord, SpamToken
from comments.moderation import Decision, Submission, evaluate
from comments.spamclassifier import Facts, score, tokenize
from tests.factories import comment_form_data, make_comment, make_post

State = Comment.State
pytestmark = pytest.mark.django_db
POST_URL = "/comments/post/"
ROOT = Path(__file__).resolve().parents[1]

SPAM = [
    "Check out my channel and subscribe http://cheap-views.example/promo",
    "Subscribe to my channel, free gift cards http://gift-cards.example/free",
    "Free followers! check out http://cheap-views.example now, subscribe",
    "Earn money from home, visit http://gift-cards.example/earn and subscribe",
]
HAM = [
    "Thank you for the article, the second section helped my back a lot.",
    "I had the same symptoms last winter; stretching in the morning helped.",
    "Does the advice about heat apply to a pulled muscle in the neck too?",
    "My physiotherapist said much the same thing about posture, thanks.",
]


@pytest.fixture
def no_confirmation(settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False


@pytest.fixture
def learnt(settings):
    """A filter past its cold start: it has learnt from moderators' decisions
    on a few spam and ham comments."""
    settings.INKWELL_SPAM_FILTER_MIN_DECISIONS = 3
    settings.INKWELL_SPAM_FILTER_SPAM_MIN_DECISIONS = 3
    post = make_post()
    for text in SPAM * 3:  # a flood: the same few texts again and again
        spam = make_comment(post=post, body=text, state=State.HELD, name="Promo Team")
        moderation.apply_action(spam, "spam")
    names = ["Ann Lee", "Bo Chen", "Cy Diaz", "Di Evans"]
    for name, text in zip(names, HAM, strict=True):
        ham = make_comment(post=post, body=text, state=State.HELD, name=name)
        moderation.apply_action(ham, "approve")
    return post


def sent(post, *, seconds_ago: int = 60, **fields) -> dict:
    return comment_form_data(post, seconds_ago=seconds_ago, **fields)


def documents() -> tuple[int, int]:
    return spamfilter.trained_counts()


def counts(token: str) -> tuple[int, int]:
    row = SpamToken.objects.filter(token=token).values_list("spam", "ham").first()
    return row or (0, 0)


# The arithmetic


def test_tokens_include_links_domains_and_the_forms_facts():
    tokens = tokenize(
        Facts(
            text="Great deals at https://www.shop.example/x and www.other.example",
            name="Best Deals 2024",
            email="deals1234@mail.example",
            url="https://shop.example",
            seconds_to_post=2,
        )
    )
    for token in [
        "domain:shop.example",
        "domain:other.example",
        "tld:example",
        "links:2",
        "name:digits",
        "email:mail.example",
        "email:digits",
        "url:shop.example",
        "time:<5s",
        "great",
        "~deal",
    ]:
        assert token in tokens


def test_words_every_comment_has_count_only_in_pairs():
    tokens = tokenize(Facts(text="Check out this channel"))
    assert "out" not in tokens
    assert "this" not in tokens
    assert "check out" in tokens
    assert "out this" not in tokens


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        ("Der Hund und die Katze", ["hund", "der hund", "hund und"], ["der", "und"]),
        ("El perro y la casa", ["perro", "el perro", "la casa"], ["el", "y", "la"]),
        ("Le chien et la maison", ["chien", "le chien"], ["le", "et", "la"]),
        ("القطة في البيت", ["القطة", "القطة في", "البيت"], ["في"]),
    ],
)
def test_the_shipped_languages_words_every_comment_has_count_only_in_pairs(
    text, kept, dropped
):
    tokens = tokenize(Facts(text=text))
    for token in kept:
        assert token in tokens, token
    for token in dropped:
        assert token not in tokens, token


def test_french_elisions_and_arabic_vowel_marks_do_not_make_new_words():
    assert "article" in tokenize(Facts(text="L’article"))
    assert "~^art" in tokenize(Facts(text="l'article"))
    assert "l'article" not in tokenize(Facts(text="l'article"))
    # A vowelled word is the word: "مَقَالَة" is "مقالة".
    assert "مقالة" in tokenize(Facts(text="مَقَالَة"))


def test_chinese_without_spaces_is_read_as_pairs_of_characters():
    tokens = tokenize(Facts(text="背部痉挛很痛，我也是这样。"))
    words = [token for token in tokens if ":" not in token]
    # The pairs of each run of characters, not the runs themselves, no
    # 4-grams, and no pair of two characters every sentence has (我也, 也是).
    assert words == ["背部", "部痉", "痉挛", "挛很", "很痛", "这样"]


def test_a_chinese_spam_phrase_is_known_inside_another_sentence():
    def words(text: str) -> list[str]:
        return [token for token in tokenize(Facts(text=text)) if ":" not in token]

    trained = dict.fromkeys(words("免费代开发票，加微信联系"), (9, 0))
    trained |= dict.fromkeys(words("文章写得很好，谢谢分享"), (0, 9))
    assert score(words("需要代开发票的朋友请加微信"), trained, 10, 10).value > 0.95
    assert score(words("谢谢，写得很清楚"), trained, 10, 10).value < 0.05


def test_a_score_leans_to_the_side_whose_comments_held_its_tokens():
    spam_tokens, ham_tokens = ["viagra", "casino"], ["posture", "stretch"]
    trained = {"viagra": (9, 0), "casino": (8, 1), "posture": (0, 9), "stretch": (1, 9)}
    assert score(spam_tokens, trained, 10, 10).value > 0.95
    assert score(ham_tokens, trained, 10, 10).value < 0.05
    assert score(["unknown"], trained, 10, 10).value == 0.5


def test_a_word_and_its_4_grams_are_one_clue():
    tokens = tokenize(Facts(text="subscribers"))
    trained = dict.fromkeys(tokens, (9, 0))
    clues = [token for token, _ in score(tokens, trained, 10, 10).clues]
    assert "subscribers" in clues
    assert not [token for token in clues if token.startswith("~")]


def test_an_unseen_spelling_is_known_by_its_4_grams():
    words = [token for token in tokenize(Facts(text="subscribe")) if ":" not in token]
    trained = dict.fromkeys(words, (9, 0))
    result = score(tokenize(Facts(text="subscribee")), trained, 10, 10)
    assert result.value > 0.9
    assert [token for token, _ in result.clues] == ["~^sub"]


# What it learns from


def test_marking_spam_and_approving_train_the_filter():
    spam = make_comment(body="Buy at http://cheap-views.example", state="held")
    moderation.apply_action(spam, "spam")
    assert documents() == (1, 0)
    assert counts("domain:cheap-views.example") == (1, 0)

    ham = make_comment(body="A kind and useful post about posture.", state="held")
    moderation.apply_action(ham, "approve")
    assert documents() == (1, 1)
    assert counts("posture") == (0, 1)
    # The words' 4-grams are counted, and made again from the words rather
    # than kept on the record.
    assert counts("~^pos") == (0, 1)
    kept = SpamFilterRecord.objects.get(comment=ham).tokens
    assert "posture" in kept
    assert not [token for token in kept if token.startswith("~")]


def test_approving_from_the_mail_link_trains_the_filter(client):
    from comments import tokens
    from tests.factories import make_user

    make_user(username="mod", email="mod@example.com", groups=("Moderators",))
    held = make_comment(body="Warm baths helped my posture.", state=State.HELD)
    token = tokens.make_moderation_token(held, "approve", "mod@example.com")
    client.post(f"/comments/moderate/{token}/")
    assert documents() == (0, 1)
    assert counts("posture") == (0, 1)


def test_not_spam_unlearns_the_spam_and_learns_ham():
    comment = make_comment(body="Posture matters, see www.physio.example", state="held")
    moderation.apply_action(comment, "spam")
    assert counts("domain:physio.example") == (1, 0)
    moderation.apply_action(comment, "not_spam")
    assert documents() == (0, 1)
    assert counts("domain:physio.example") == (0, 1)
    assert SpamFilterRecord.objects.get(comment=comment).trained_as == "ham"


def test_a_comment_counts_once_whatever_moderators_do_with_it():
    comment = make_comment(body="Posture", state="held")
    moderation.apply_action(comment, "approve")
    moderation.apply_action(comment, "unapprove")
    assert documents() == (0, 0)
    moderation.apply_action(comment, "approve")
    moderation.apply_action(comment, "trash")  # the trash teaches nothing
    moderation.apply_action(comment, "restore")
    assert documents() == (0, 1)
    assert counts("posture") == (0, 1)


def test_retraining_relearns_every_stored_decision(learnt):
    before = documents()
    SpamToken.objects.update(spam=0, ham=0)
    SpamFilterRecord.objects.update(trained_as="")
    call_command("train_spam_filter", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert documents() == before == (3 * len(SPAM), len(HAM))
    call_command("train_spam_filter", "--reset", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert documents() == before
    assert counts("domain:cheap-views.example") == (6, 0)


def test_imported_wordpress_comments_train_the_filter(tmp_path):
    from tests.test_wordpress_import import comment_xml, item_xml, run_import, wxr

    comments = comment_xml(1, approved="1") + comment_xml(2, approved="spam")
    comments += comment_xml(3, approved="0") + comment_xml(4, approved="trash")
    path = tmp_path / "export.xml"
    path.write_text(wxr(item_xml(comments=comments)), encoding="utf-8")
    run_import(path)
    assert documents() == (1, 1)  # the approved one and the spam, not the others
    assert counts("domain:reader.example.com") == (0, 0)  # the URL field's
    assert counts("url:reader.example.com") == (1, 1)
    run_import(path)  # imported again: still counted once
    assert documents() == (1, 1)


# How it votes


def test_cold_start_changes_nothing(client, no_confirmation, settings):
    settings.INKWELL_SPAM_FILTER_MIN_DECISIONS = 3
    post = make_post()
    spam = make_comment(post=post, body=SPAM[0], state="held")
    moderation.apply_action(spam, "spam")  # one decision: not enough
    client.post(POST_URL, sent(post, comment=SPAM[0]))
    comment = Comment.objects.get(user_name="Ada Reader")
    assert (comment.state, comment.reason) == (State.HELD, "first-time commenter")
    assert comment.spam_filter.score is None


def test_a_confident_spam_score_sends_the_comment_to_spam(
    client, no_confirmation, learnt
):
    text = "Subscribe to my channel, check out http://cheap-views.example/free"
    client.post(POST_URL, sent(learnt, comment=text))
    comment = Comment.objects.get(user_name="Ada Reader")
    assert comment.state == State.SPAM, (comment.reason, comment.spam_filter.clues)
    assert comment.reason.startswith("filter: ")
    assert float(comment.reason.removeprefix("filter: ")) >= 0.999
    assert comment.spam_filter.clues


def test_a_filter_that_has_learnt_little_holds_what_it_would_send_to_spam(
    client, no_confirmation, learnt, settings
):
    settings.INKWELL_SPAM_FILTER_SPAM_MIN_DECISIONS = 5  # 9 spam, 4 ham learnt
    text = "Subscribe to my channel, check out http://cheap-views.example/free"
    client.post(POST_URL, sent(learnt, comment=text))
    comment = Comment.objects.get(user_name="Ada Reader")
    assert comment.state == State.HELD, comment.reason
    assert comment.reason.startswith("filter, still learning: ")
    assert float(comment.reason.rpartition(" ")[2]) >= 0.999
    # Not a spam verdict: approving it is no disagreement.
    assert not comment.spam_filter.may_spam
    moderation.apply_action(comment, "approve")
    agreement = spamfilter.agreement()
    assert agreement.disagreed == 0 and agreement.unsure == 1


def test_an_unsure_score_holds_even_a_returning_commenter(settings):
    rules = DiscussionSettings(pk=1, hold_policy="never")
    decision = evaluate(Submission(text="Hm.", filter_score=0.5), rules)
    assert decision == Decision(State.HELD, "filter unsure: 0.500")


def test_a_trusted_score_lets_a_first_time_commenter_through_under_the_policy(
    client, no_confirmation, learnt
):
    DiscussionSettings.objects.create(pk=1, hold_policy="filter")
    text = "Thank you, the section on stretching in the morning helped my back."
    client.post(POST_URL, sent(learnt, comment=text))
    comment = Comment.objects.get(user_name="Ada Reader")
    assert comment.spam_filter.score <= 0.35
    assert comment.state == State.PUBLIC


def test_the_policy_holds_first_time_commenters_the_filter_does_not_trust():
    rules = DiscussionSettings(pk=1, hold_policy="filter")
    for untrusted in [None, 0.5]:  # cold start, unsure
        decision = evaluate(Submission(text="Hi", filter_score=untrusted), rules)
        assert decision.state == State.HELD
    trusted = evaluate(Submission(text="Hi", filter_score=0.05), rules)
    assert trusted.state == State.PUBLIC
    # The plain first-time policy does not listen to the filter's trust.
    rules.hold_policy = "first_time"
    assert evaluate(Submission(text="Hi", filter_score=0.05), rules).state == "held"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"seconds_to_post": 1}, "too fast"),
        ({"text": "See http://a.example and http://b.example"}, "2 links"),
        ({"text": "Cheap pills"}, "moderation word: pills"),
    ],
    ids=["too fast", "links", "moderation word"],
)
def test_a_trusted_score_never_publishes_what_another_rule_holds(fields, reason):
    rules = DiscussionSettings(pk=1, hold_policy="filter", moderation_words="pills")
    fields = {"text": "Hi", "seconds_to_post": 60, "filter_score": 0.0, **fields}
    assert evaluate(Submission(**fields), rules) == Decision(State.HELD, reason)
    rules.hold_policy = "never"
    assert evaluate(Submission(**fields), rules) == Decision(State.HELD, reason)


def test_a_trusted_score_never_rescues_what_a_spam_rule_rejects():
    rules = DiscussionSettings(pk=1, hold_policy="never", disallowed_words="casino")
    submission = Submission(text="casino", filter_score=0.0)
    assert evaluate(submission, rules).state == State.SPAM


def test_akismet_is_asked_only_after_the_filter_and_only_if_it_did_not_say_spam(
    client, no_confirmation, learnt, settings
):
    from unittest import mock

    settings.AKISMET_API_KEY = "a-key"
    DiscussionSettings.objects.create(pk=1, hold_policy="filter")
    spammy = "Subscribe to my channel, check out http://cheap-views.example/free"
    trusted = "Thank you, the section on stretching in the morning helped my back."
    with mock.patch.object(moderation, "akismet_says_spam", return_value=True) as asked:
        client.post(POST_URL, sent(learnt, comment=spammy))
        assert not asked.called
        client.post(POST_URL, sent(learnt, comment=trusted, email="bo@example.com"))
        assert asked.call_count == 1
    reasons = dict(
        Comment.objects.filter(user_name="Ada Reader").values_list("comment", "reason")
    )
    assert reasons[spammy].startswith("filter: ")
    assert reasons[trusted] == "Akismet"


def test_corrupt_state_holds_the_comment_and_is_logged(
    client, no_confirmation, learnt, caplog
):
    DiscussionSettings.objects.create(pk=1, hold_policy="never")
    # More spam comments with a token than spam comments trained: impossible.
    SpamToken.objects.filter(token="channel").update(spam=999)
    with caplog.at_level(logging.ERROR, logger="comments.spamfilter"):
        response = client.post(POST_URL, sent(learnt, comment="My channel is nice"))
    assert response.status_code == 302
    comment = Comment.objects.get(user_name="Ada Reader")
    assert (comment.state, comment.reason) == (State.HELD, "filter error")
    assert comment.comment == "My channel is nice"
    assert "Spam filter failed" in caplog.text


def test_a_failed_training_leaves_the_moderators_action_done(caplog):
    comment = make_comment(body="Posture", state="held")
    SpamToken.objects.create(token="", spam=0, ham=0)
    SpamToken.objects.create(token="posture", spam=0, ham=0)
    SpamFilterRecord.objects.create(
        comment=comment, tokens=["posture"], trained_as="spam"
    )  # says it counted as spam, but the counts say it did not
    with caplog.at_level(logging.ERROR, logger="comments.spamfilter"):
        assert moderation.apply_action(comment, "approve")
    comment.refresh_from_db()
    assert comment.state == State.PUBLIC
    assert "could not learn" in caplog.text
    assert documents() == (0, 0)


def test_scores_are_read_from_the_database_every_time(learnt):
    tokens = tokenize(Facts(text="my channel"))
    first = spamfilter.check(Facts(text="my channel")).score
    # Another server's training, straight into the shared tables.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SpamToken._meta.db_table} SET spam = 0 WHERE token IN "
            f"({', '.join(['%s'] * len(tokens))})",
            tokens,
        )
    assert spamfilter.check(Facts(text="my channel")).score < first


# What moderators see


def test_the_queue_shows_the_score_and_why(admin_client, learnt):
    comment = make_comment(body="hm", state="held", reason="filter unsure: 0.62")
    SpamFilterRecord.objects.create(
        comment=comment, score=0.62, clues=[["channel", 0.91], ["posture", 0.12]]
    )
    decided = make_comment(body="spam", state="spam")
    SpamFilterRecord.objects.create(comment=decided, score=0.9995, trained_as="spam")
    page = admin_client.get("/admin/comments/comment/?state=held").content.decode()
    assert "spam filter 0.620 (channel 0.91, posture 0.12)" in page
    assert f"learnt from {3 * len(SPAM)} spam and {len(HAM)} approved" in page
    assert "agreed with them on 1 of the 1 it was sure about" in page
    change = admin_client.get(f"/admin/comments/comment/{comment.pk}/change/")
    assert "spam filter 0.620 (channel 0.91, posture 0.12)" in change.content.decode()
    spammed = admin_client.get(f"/admin/comments/comment/{decided.pk}/change/")
    assert "spam filter 0.999" in spammed.content.decode()


def test_the_moderation_mail_shows_the_score_why_and_agreement(learnt, mailoutbox):
    from comments.notifications import notify_moderators
    from tests.factories import make_user

    make_user(username="mod", email="mod@example.com", groups=("Moderators",))
    comment = make_comment(post=learnt, body="hm", state="held")
    SpamFilterRecord.objects.create(
        comment=comment, score=0.62, clues=[["channel", 0.91]]
    )
    notify_moderators(comment)
    body = mailoutbox[-1].body
    assert "Spam filter: 0.620" in body
    assert "channel" in body
    assert "agreed with moderators" in body


def test_agreement_counts_a_still_learning_hold_as_unsure_not_as_spam(settings):
    """A spam score the filter gave while it could not yet send to spam only
    held the comment; a moderator approving it is no disagreement."""
    settings.INKWELL_SPAM_FILTER_SPAM_CUTOFF = 0.99
    settings.INKWELL_SPAM_FILTER_HAM_CUTOFF = 0.35
    post = make_post()

    def decided(score: float, label: str, *, may_spam: bool = True) -> None:
        comment = make_comment(post=post, state="held")
        SpamFilterRecord.objects.create(
            comment=comment, score=score, may_spam=may_spam, trained_as=label
        )

    decided(0.999, "spam")  # sure it was spam, and it was
    decided(0.1, "spam")  # sure it was ham, and it was not
    decided(0.999, "ham", may_spam=False)  # held while learning, then approved
    decided(0.999, "spam", may_spam=False)  # held while learning, then spam
    decided(0.6, "ham")  # unsure
    assert spamfilter.agreement() == spamfilter.Agreement(
        agreed=1, disagreed=1, unsure=3
    )


# Two app servers


@pytest.mark.scaleout
@pytest.mark.django_db(transaction=True)
def test_moderators_deciding_at_the_same_moment_each_count_once():
    """Eight moderators approve eight comments with the same words at once:
    no count is lost to a race and no training deadlocks (PostgreSQL)."""
    import threading

    post = make_post()
    comments = [
        make_comment(post=post, body="Posture and stretching", state="held")
        for _ in range(8)
    ]
    start = threading.Barrier(len(comments))
    failures = []

    def approve(comment) -> None:
        from django.db import connection as own

        try:
            start.wait()
            moderation.apply_action(comment, "approve")
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=approve, args=(c,)) for c in comments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert documents() == (0, 8)
    assert counts("posture") == (0, 8)
    assert counts("~stre") == (0, 8)


@pytest.mark.scaleout
@pytest.mark.django_db(transaction=True)
def test_two_app_processes_see_the_same_scores(settings):
    """A decision made in one process changes the score in another at once."""
    settings.INKWELL_SPAM_FILTER_MIN_DECISIONS = 1
    post = make_post()
    for text, action in [(SPAM[0], "spam"), (HAM[0], "approve")]:
        comment = make_comment(post=post, body=text, state="held")
        moderation.apply_action(comment, action)
    database = settings.DATABASES["default"]
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    script = (
        "import django, sys; django.setup()\n"
        "from django.conf import settings\n"
        "settings.INKWELL_SPAM_FILTER_MIN_DECISIONS = 1\n"
        "from comments import spamfilter\n"
        "from comments.spamclassifier import Facts\n"
        f"print(spamfilter.check(Facts(text={SPAM[1]!r})).score)\n"
    )

    def other_process() -> float:
        environment = {**os.environ, "DATABASE_URL": url}
        environment.pop("DJANGO_SETTINGS_MODULE", None)
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**environment, "DJANGO_SETTINGS_MODULE": "blog.settings"},
            capture_output=True,
            text=True,
            check=True,
        )
        return float(result.stdout.strip().splitlines()[-1])

    here = spamfilter.check(Facts(text=SPAM[1])).score
    assert other_process() == pytest.approx(here)
    moderation.apply_action(make_comment(post=post, body=SPAM[1], state="held"), "spam")
    after = spamfilter.check(Facts(text=SPAM[1])).score
    assert after > here
    assert other_process() == pytest.approx(after)
