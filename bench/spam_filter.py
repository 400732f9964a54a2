"""How well the spam filter learns from moderators, on real comments.

    .venv/bin/python bench/spam_filter.py [--checkpoints 50,200,1000]

The comments are the YouTube Spam Collection (bench/data/youtube-spam-collection/,
Alberto, Lochter and Almeida, ICMLA 2015, UCI Machine Learning Repository,
CC BY 4.0): 1,956 real comments under five music videos, 1,005 spam and 951
ham, each with its author's name, its text and (mostly) its date.

A moderator meets them one at a time and decides each: the bench saves each
comment as held, in a throwaway SQLite database, and approves it or marks it
as spam through `comments.moderation.apply_action`, exactly as the queue or
the mail's links do, so the filter learns through its real code and tables.
After 50, 200 and 1,000 decisions it scores every comment not met yet, as
`comments.spamfilter.check` scores a new one (name and text; these comments
came without an email address, a website or the time taken to write them),
and says what the filter would do with it: send it to spam (a score at or
above INKWELL_SPAM_FILTER_SPAM_CUTOFF), hold it (unsure), or trust it (at or
below INKWELL_SPAM_FILTER_HAM_CUTOFF).

"Caught" spam is spam the filter keeps from being published: sent to spam or
held. Two orders a moderator could meet them in:

- five posts at once: each video's comments by date, the five discussions
  running side by side (as a blog's posts are discussed at the same time);
- by the calendar: all comments by date. The videos' discussions barely
  overlap in time, so the first 200 decisions are nearly all about one video
  (2013), and the rest are about four others: the harder case.
"""

from __future__ import annotations

import argparse
import csv
import html
import sys
import time
from collections import Counter
from pathlib import Path

import sandbox

WORKDIR = sandbox.start()

from django.conf import settings  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.contrib.sites.models import Site  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from blog.models import Post  # noqa: E402
from comments import moderation, spamfilter  # noqa: E402
from comments.models import Comment, ModerationLog, SpamFilterRecord, SpamToken  # noqa: E402
from comments.spamclassifier import Facts  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "youtube-spam-collection"
VIDEOS = [
    "Youtube01-Psy",
    "Youtube02-KatyPerry",
    "Youtube03-LMFAO",
    "Youtube04-Eminem",
    "Youtube05-Shakira",
]
CITATION = (
    "YouTube Spam Collection: T. C. Alberto, J. V. Lochter, T. A. Almeida, "
    "TubeSpam: Comment Spam Filtering on YouTube, ICMLA 2015; UCI Machine "
    "Learning Repository, doi:10.24432/C58885, CC BY 4.0"
)


def comments_of(video: str) -> list[dict]:
    """One video's comments by date. Some of the Eminem comments have no
    date: each takes the date of the dated comment before it in the file
    (the file is in date order), or after it for those at the top."""
    with open(DATA / f"{video}.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    dated = [row["DATE"] for row in rows if row["DATE"]]
    last = dated[0]
    for index, row in enumerate(rows):
        last = row["DATE"] or last
        row["when"], row["index"], row["video"] = last, index, video
    return sorted(rows, key=lambda row: (row["when"], row["index"]))


def orders() -> dict[str, list[dict]]:
    videos = {video: comments_of(video) for video in VIDEOS}
    side_by_side = sorted(
        (
            (position / len(rows), video, position, row)
            for video, rows in videos.items()
            for position, row in enumerate(rows)
        ),
        key=lambda entry: entry[:3],
    )
    calendar = sorted(
        (row for rows in videos.values() for row in rows),
        key=lambda row: (row["when"], row["video"], row["index"]),
    )
    return {
        "five posts at once": [entry[3] for entry in side_by_side],
        "by the calendar": calendar,
    }


def facts(row: dict) -> Facts:
    return Facts(text=html.unescape(row["CONTENT"]), name=row["AUTHOR"])


def is_spam(row: dict) -> bool:
    return row["CLASS"] == "1"


def forget_everything() -> None:
    SpamFilterRecord.objects.all().delete()
    SpamToken.objects.all().delete()
    ModerationLog.objects.all().delete()
    Comment.objects.all().delete()


def decide(row: dict, post: Post, content_type: ContentType, site: Site) -> None:
    """The moderator's decision on one comment, through the real action."""
    comment = Comment.objects.create(
        content_type=content_type,
        object_pk=str(post.pk),
        site=site,
        user_name=row["AUTHOR"][:50],
        user_email="",
        comment=html.unescape(row["CONTENT"]),
        state=Comment.State.HELD,
        submit_date=timezone.now(),
    )
    moderation.apply_action(comment, "spam" if is_spam(row) else "approve")


def judge_unseen(rows: list[dict]) -> Counter:
    outcomes: Counter = Counter()
    for row in rows:
        verdict = spamfilter.check(facts(row))
        if verdict.failed or verdict.score is None:
            raise SystemExit(f"the filter did not score: {verdict}")
        action = "spam" if verdict.is_spam else "trusted" if verdict.is_ham else "held"
        outcomes[("spam" if is_spam(row) else "ham", action)] += 1
    return outcomes


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%"


def run(name: str, rows: list[dict], checkpoints: list[int], post: Post) -> list:
    forget_everything()
    content_type = ContentType.objects.get_for_model(Post)
    site = Site.objects.get_current()
    lines = []
    started = time.perf_counter()
    decided = 0
    for checkpoint in checkpoints:
        for row in rows[decided:checkpoint]:
            decide(row, post, content_type, site)
        decided = checkpoint
        trained_spam, trained_ham = spamfilter.trained_counts()
        outcomes = judge_unseen(rows[checkpoint:])
        spam = sum(n for (kind, _), n in outcomes.items() if kind == "spam")
        ham = sum(n for (kind, _), n in outcomes.items() if kind == "ham")
        caught = outcomes[("spam", "spam")] + outcomes[("spam", "held")]
        lines.append(
            f"{name:<19} {checkpoint:>5} ({trained_spam:>3} spam {trained_ham:>3} ham)"
            f" {spam + ham:>6}   {share(caught, spam)}"
            f" ({share(outcomes[('spam', 'spam')], spam)} to spam)"
            f"   {share(outcomes[('ham', 'held')], ham)}"
            f"   {share(outcomes[('ham', 'spam')], ham)}"
            f"   {share(outcomes[('ham', 'trusted')], ham)}"
        )
        print(lines[-1], flush=True)
    print(f"{'':19} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", default="50,200,1000")
    options = parser.parse_args()
    checkpoints = sorted(int(value) for value in options.checkpoints.split(","))

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    author = get_user_model().objects.create_user("bench", password="not-used-0123")
    post = Post.objects.create(
        title="Bench", slug="bench", author=author, body="Bench.", status="published"
    )
    print(CITATION)
    print(
        f"cutoffs: spam at {settings.INKWELL_SPAM_FILTER_SPAM_CUTOFF} or more, "
        f"trusted at {settings.INKWELL_SPAM_FILTER_HAM_CUTOFF} or less, "
        f"votes after {settings.INKWELL_SPAM_FILTER_MIN_DECISIONS} of each"
    )
    print(
        f"{'order':<19} {'decisions (learnt)':>26} {'unseen':>6}   "
        "spam caught (to spam)     ham held  ham to spam  ham trusted"
    )
    for name, rows in orders().items():
        run(name, rows, checkpoints, post)
    return 0


if __name__ == "__main__":
    sys.exit(main())
