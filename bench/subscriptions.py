"""Sending a new post to its subscribers through the worker.

    python bench/subscriptions.py [--subscribers 1000,10000]

For each size, in a throwaway SQLite database (bench/sandbox.py): that many
confirmed subscribers, a post published now, then `manage.py db_worker
--batch` in a process of its own sends the mailing (batches of 500, no rate
limit) to an email backend that builds each message as SMTP would and
writes one line per message to a file (tests/mailsink.py). Reports the
worker's wall time, mails per second and peak memory (its maximum resident
set), checks that every subscriber got exactly one mail, and writes
bench/subscriptions.json. `make bench` runs it after bench/scale.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import sandbox

WORKDIR = sandbox.start()
SINK = Path(WORKDIR.name) / "sent"

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from blog.models import Delivery, Post, PostMailing, Subscriber  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "subscriptions.json"
BATCH = 500
# `manage.py db_worker --batch` (it stops when the queue is empty), which
# writes its own CPU time and peak resident set (KiB on Linux) as it exits.
WORKER = """
import atexit, json, resource, runpy, sys
def report(path=sys.argv[1]):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(path, "w") as out:
        cpu = usage.ru_utime + usage.ru_stime
        json.dump({"cpu": cpu, "maxrss_kib": usage.ru_maxrss}, out)
atexit.register(report)
sys.argv = ["manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay",
            "--interval", "0", "--verbosity", "0"]
runpy.run_path("manage.py", run_name="__main__")
"""


def worker_environment() -> dict[str, str]:
    return {
        **os.environ,
        "EMAIL_BACKEND": "tests.mailsink.Backend",
        "MAIL_SINK": str(SINK),
        "SUBSCRIPTION_BATCH_SIZE": str(BATCH),
        "SUBSCRIPTION_MAILS_PER_MINUTE": "0",
    }


def run(count: int, author) -> dict:
    Subscriber.objects.all().delete()
    SINK.write_text("")
    Subscriber.objects.bulk_create(
        (
            Subscriber(
                email=f"reader{n}@example.com",
                state=Subscriber.State.CONFIRMED,
                confirmed_at=timezone.now(),
            )
            for n in range(count)
        ),
        batch_size=1000,
    )
    post = Post.objects.create(
        title=f"News for {count}",
        slug=f"news-{count}",
        author=author,
        body="## Symptoms\n\n" + "Rest, then move gently. " * 40,
        status=Post.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    usage = Path(WORKDIR.name) / "usage.json"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", WORKER, str(usage)],
        cwd=ROOT,
        env=worker_environment(),
        check=True,
    )
    seconds = time.perf_counter() - start
    worker = json.loads(usage.read_text())
    sent = SINK.read_text().split("\n")[:-1]
    addresses = [line.split()[1] for line in sent]
    mailing = PostMailing.objects.get(post=post)
    assert mailing.state == PostMailing.State.DONE, mailing.state
    assert len(addresses) == count == len(set(addresses)), (len(addresses), count)
    assert Delivery.objects.filter(mailing=mailing, state="sent").count() == count
    return {
        "subscribers": count,
        "seconds": round(seconds, 2),
        "mails_per_second": round(count / seconds),
        "cpu_seconds": round(worker["cpu"], 2),
        "peak_rss_mb": round(worker["maxrss_kib"] / 1024, 1),
        "batches": -(-count // BATCH),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", default="1000,10000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.subscribers.split(",")]
    call_command("migrate", verbosity=0)
    author = get_user_model().objects.create_user("writer", "w@example.com", "x" * 20)
    rows = [run(size, author) for size in sorted(sizes)]
    print(f"\nA new post to its subscribers through the worker (batches of {BATCH})")
    print(
        f"{'subscribers':>12} {'seconds':>8} {'mails/s':>8} {'CPU s':>7} {'peak MB':>8}"
    )
    for row in rows:
        print(
            f"{row['subscribers']:>12,} {row['seconds']:>8}"
            f" {row['mails_per_second']:>8} {row['cpu_seconds']:>7}"
            f" {row['peak_rss_mb']:>8}"
        )
    RESULTS.write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
