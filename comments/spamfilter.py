"""The spam filter that learns from the moderators, its state in the database.

What it learns from: a moderator approving a comment (ham), marking it as
spam (spam), "Not spam" (the spam unlearnt, ham learnt), "Unapprove" (the
ham unlearnt); comments imported from WordPress as approved or spam; and
`manage.py train_spam_filter`, which learns every stored decision again.
Comments that rules published or rejected on their own teach nothing: only
a person's decision does.

The counts live in SpamToken rows, shared by every app server. A training
locks the row of document counts first, so trainings run one at a time
(on PostgreSQL too) and each comment counts once, as what a moderator last
said it is (SpamFilterRecord.trained_as). Scoring reads the counts of a
comment's tokens in one query and locks nothing.

Until it has learnt from INKWELL_SPAM_FILTER_MIN_DECISIONS spam and as many
ham comments, it does not vote (`Verdict.score` is None). A filter that
fails (counts that cannot be, a database error) says so
(`Verdict.failed`): the comment is held and the failure logged. Until it has
learnt from INKWELL_SPAM_FILTER_SPAM_MIN_DECISIONS of each kind it may hold
and trust but not send to spam (`Verdict.may_spam`): what it learnt from the
first discussions makes it sure of words it has seen only there, and a
comment sent to spam is one moderators may never look at, while a held one
waits for them.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from comments.models import Comment, ModerationLog, SpamFilterRecord, SpamToken
from comments.spamclassifier import (
    MAX_TOKENS,
    Facts,
    grams,
    is_word,
    score,
    tokenize,
)

logger = logging.getLogger(__name__)

Label = SpamFilterRecord.Label
DOCUMENTS = SpamToken.DOCUMENTS
# What each moderator action teaches ("": forget what it taught).
LESSONS = {"approve": Label.HAM, "not_spam": Label.HAM, "spam": Label.SPAM}
FORGETTING = {"unapprove"}
CLUES_KEPT = 8


class FilterError(Exception):
    """The filter's state cannot be right; nothing it says can be trusted."""


@dataclass(frozen=True)
class Verdict:
    """What the filter says about a new comment."""

    tokens: list[str] = field(default_factory=list)
    score: float | None = None  # None: not enough decisions yet, or failed
    clues: tuple[tuple[str, float], ...] = ()
    failed: bool = False
    # False while it has learnt too little to send anything to spam.
    may_spam: bool = True

    @property
    def is_spam(self) -> bool:
        return (
            self.may_spam and self.score is not None and self.score >= spam_cutoff()
        )

    @property
    def is_ham(self) -> bool:
        return self.score is not None and self.score <= ham_cutoff()


def shown(score: float) -> str:
    """A score as moderators read it: three decimals, rounded down, so that
    a score under a cutoff never reads as the cutoff."""
    return f"{math.floor(score * 1000) / 1000:.3f}"


def spam_cutoff() -> float:
    return settings.INKWELL_SPAM_FILTER_SPAM_CUTOFF


def ham_cutoff() -> float:
    return settings.INKWELL_SPAM_FILTER_HAM_CUTOFF


def facts_of(comment: Comment, seconds_to_post: float | None = None) -> Facts:
    return Facts(
        text=comment.comment,
        name=comment.user_name,
        email=comment.user_email,
        url=comment.user_url,
        seconds_to_post=seconds_to_post,
    )


# Scoring


def counts_for(tokens: Iterable[str]) -> tuple[dict[str, tuple[int, int]], int, int]:
    """The trained counts of `tokens` and the document totals, in one query;
    FilterError if they cannot be right."""
    wanted = {DOCUMENTS, *tokens}
    counts = {
        token: (spam, ham)
        for token, spam, ham in SpamToken.objects.filter(token__in=wanted).values_list(
            "token", "spam", "ham"
        )
    }
    spam_total, ham_total = counts.pop(DOCUMENTS, (0, 0))
    for token, (spam, ham) in counts.items():
        if not (0 <= spam <= spam_total and 0 <= ham <= ham_total):
            raise FilterError(
                f"token {token!r} counted in {spam} spam and {ham} ham comments, "
                f"of {spam_total} spam and {ham_total} ham trained"
            )
    return counts, spam_total, ham_total


def judge(tokens: list[str]) -> Verdict:
    """Score `tokens` against the trained counts; raises FilterError."""
    counts, spam_total, ham_total = counts_for(tokens)
    minimum = settings.INKWELL_SPAM_FILTER_MIN_DECISIONS
    if spam_total < minimum or ham_total < minimum:
        return Verdict(tokens=tokens)
    result = score(tokens, counts, spam_total, ham_total)
    sure = settings.INKWELL_SPAM_FILTER_SPAM_MIN_DECISIONS
    return Verdict(
        tokens=tokens,
        score=result.value,
        clues=result.clues,
        may_spam=spam_total >= sure and ham_total >= sure,
    )


def check(facts: Facts) -> Verdict:
    """The filter's verdict on a new comment. Never raises: a failure is a
    verdict of its own (the comment is held), and is logged."""
    try:
        tokens = tokenize(facts)
    except Exception:
        logger.exception("Spam filter: the comment could not be read")
        return Verdict(failed=True)
    try:
        if not transaction.get_connection().in_atomic_block:
            # A read in autocommit mode spoils nothing if it fails; a
            # transaction here would take SQLite's write lock for a read.
            return judge(tokens)
        with transaction.atomic():  # a failed query must not spoil the outer one
            return judge(tokens)
    except Exception:
        logger.exception("Spam filter failed; the comment is held for a moderator")
        return Verdict(tokens=tokens, failed=True)


def remember(comment: Comment, verdict: Verdict | None) -> None:
    """Keep the verdict beside the just saved comment (its score for the
    queue and the mail, its tokens for training). A failure here loses
    nothing but the score, and is logged."""
    if verdict is None:
        return
    try:
        with transaction.atomic():  # its one savepoint in the comment's transaction
            SpamFilterRecord.objects.create(
                comment=comment,
                tokens=kept(verdict.tokens),
                score=verdict.score,
                may_spam=verdict.may_spam,
                clues=[list(clue) for clue in verdict.clues[:CLUES_KEPT]],
                scored_at=timezone.now(),
            )
    except Exception:
        logger.exception(
            "Spam filter: the score of comment %s was not kept", comment.pk
        )


# Training


def _lock_documents() -> None:
    """Take the training lock: the document counts' row, made if missing."""
    SpamToken.objects.get_or_create(token=DOCUMENTS)
    list(SpamToken.objects.select_for_update().filter(token=DOCUMENTS).values("pk"))


def kept(tokens: Iterable[str]) -> list[str]:
    """The tokens a record keeps: all but the words' 4-grams, which are
    made again from the words (three fifths of the tokens, and of the
    space)."""
    return [token for token in tokens if not token.startswith("~")]


def counted(tokens: Iterable[str]) -> set[str]:
    """The tokens a record's comment counts under: the kept ones and the
    4-grams of its words."""
    tokens = list(tokens)
    return {
        *tokens,
        *(gram for token in tokens if is_word(token) for gram in grams(token)),
    }


def _add(changes: Counter, label: str, tokens: Iterable[str], sign: int) -> None:
    changes[(DOCUMENTS, label)] += sign
    for token in counted(tokens):
        changes[(token, label)] += sign


def _write(changes: Counter) -> None:
    """Apply count changes {(token, label): delta}, under the training lock."""
    changes = {key: delta for key, delta in changes.items() if delta}
    if not changes:
        return
    tokens = sorted({token for token, _label in changes})
    SpamToken.objects.bulk_create(
        [SpamToken(token=token) for token in tokens],
        ignore_conflicts=True,
        batch_size=500,
    )
    if len(tokens) <= 2 * MAX_TOKENS:
        # One comment's worth: an UPDATE per label and delta, counts added
        # in the database (F()), never read and written back.
        by_change: dict[tuple[str, int], list[str]] = {}
        for (token, label), delta in changes.items():
            by_change.setdefault((label, delta), []).append(token)
        for (label, delta), group in by_change.items():
            SpamToken.objects.filter(token__in=group).update(
                **{label: F(label) + delta}
            )
        return
    # Many comments at once (an import, a retraining): read, add, write
    # back in batches; the training lock keeps everyone else out.
    for start in range(0, len(tokens), 500):
        rows = list(SpamToken.objects.filter(token__in=tokens[start : start + 500]))
        for row in rows:
            row.spam += changes.get((row.token, Label.SPAM), 0)
            row.ham += changes.get((row.token, Label.HAM), 0)
        SpamToken.objects.bulk_update(rows, ["spam", "ham"], batch_size=500)


def teach(lessons: Iterable[tuple[Comment, str]]) -> int:
    """Learn that each comment is `label` (spam, ham, or "" to forget it),
    replacing what it was learnt as before. Returns how many changed."""
    changed = 0
    with transaction.atomic():
        _lock_documents()
        lessons = list(lessons)
        records = {
            record.comment_id: record
            for record in SpamFilterRecord.objects.select_for_update().filter(
                comment__in=[comment.pk for comment, _label in lessons]
            )
        }
        changes: Counter = Counter()
        now = timezone.now()
        new, updated = [], []
        for comment, label in lessons:
            record = records.get(comment.pk)
            if record is None:
                record = SpamFilterRecord(
                    comment=comment, tokens=kept(tokenize(facts_of(comment)))
                )
                records[comment.pk] = record
                new.append(record)
            elif record.trained_as == label:
                continue
            else:
                updated.append(record)
            if record.trained_as:
                _add(changes, record.trained_as, record.tokens, -1)
            if label:
                _add(changes, label, record.tokens, +1)
            record.trained_as = label
            record.trained_at = now
            changed += 1
        _write(changes)
        SpamFilterRecord.objects.bulk_create(new, batch_size=500)
        SpamFilterRecord.objects.bulk_update(
            updated, ["trained_as", "trained_at"], batch_size=500
        )
    return changed


def learn_from_action(comment: Comment, action: str) -> None:
    """What a moderator's action teaches (comments.moderation.apply_action).

    A failure is logged and leaves the action done: moderating never waits
    on the filter.
    """
    if action in LESSONS:
        label = LESSONS[action]
    elif action in FORGETTING:
        label = ""
    else:
        return
    try:
        teach([(comment, label)])
    except Exception:
        logger.exception(
            "Spam filter: could not learn from %s on comment %s", action, comment.pk
        )


# Every stored decision, for the import and `manage.py train_spam_filter`


def stored_decisions(comments=None) -> list[tuple[Comment, str]]:
    """Each decided comment with what it was decided to be: the latest
    moderator action that teaches (the moderation log), else, for a comment
    imported from WordPress, approved (ham) or spam."""
    comments = Comment.objects.all() if comments is None else comments
    latest: dict[int, str] = {}
    actions = [*LESSONS, *FORGETTING]
    entries = (
        ModerationLog.objects.filter(action__in=actions, comment__in=comments)
        .order_by("created_at", "pk")
        .values_list("comment_id", "action")
    )
    for comment_id, action in entries:
        latest[comment_id] = LESSONS.get(action, "")
    imported = comments.filter(
        wordpress_id__isnull=False,
        state__in=[Comment.State.PUBLIC, Comment.State.SPAM],
    ).exclude(pk__in=list(latest))
    for pk, state in imported.values_list("pk", "state"):
        latest[pk] = Label.HAM if state == Comment.State.PUBLIC else Label.SPAM
    decided = Comment.objects.filter(pk__in=[pk for pk, label in latest.items()])
    return [
        (comment, latest[comment.pk])
        for comment in decided.select_related(None).only(
            "pk", "comment", "user_name", "user_email", "user_url"
        )
    ]


def learn_imported(comments) -> int:
    """Learn the approved and spam comments of a WordPress import."""
    return teach(stored_decisions(comments))


def retrain(*, reset: bool = False) -> int:
    """Learn every stored decision; with `reset`, forget everything first
    (the counts, and what each comment was learnt as; the tokens scored
    when they arrived are kept)."""
    with transaction.atomic():
        if reset:
            _lock_documents()
            SpamToken.objects.all().delete()
            SpamFilterRecord.objects.exclude(trained_as="").update(
                trained_as="", trained_at=None
            )
        return teach(stored_decisions())


# What moderators see


@dataclass(frozen=True)
class Agreement:
    """How often the filter's verdict matched the moderators' decision, on
    the comments it scored and a moderator then decided. A spam score it
    gave while still learning only held the comment: that counts as unsure,
    not as a spam verdict."""

    agreed: int
    disagreed: int
    unsure: int

    @property
    def sure(self) -> int:
        return self.agreed + self.disagreed


def agreement() -> Agreement:
    spam, ham = spam_cutoff(), ham_cutoff()
    said_spam = Q(score__gte=spam, may_spam=True)
    said_ham = Q(score__lte=ham)
    held_learning = Q(score__gte=spam, may_spam=False)
    is_spam, is_ham = Q(trained_as=Label.SPAM), Q(trained_as=Label.HAM)
    counts = (
        SpamFilterRecord.objects.filter(score__isnull=False)
        .exclude(trained_as="")
        .aggregate(
            agreed=Count("pk", filter=(said_spam & is_spam) | (said_ham & is_ham)),
            disagreed=Count("pk", filter=(said_spam & is_ham) | (said_ham & is_spam)),
            unsure=Count("pk", filter=Q(score__gt=ham, score__lt=spam) | held_learning),
        )
    )
    return Agreement(**counts)


def trained_counts() -> tuple[int, int]:
    """How many spam and ham comments the filter has learnt from."""
    row = SpamToken.objects.filter(token=DOCUMENTS).values_list("spam", "ham").first()
    return row or (0, 0)
