"""The task worker (`manage.py db_worker`): outlasts database outages, checks in.

django-tasks-db's own worker exits on the first database error other than a
locked SQLite file, so a PostgreSQL restart used to stop every mail until
someone started the worker again. This one logs the error, waits (1 s, then
twice as long each time, at most 30 s) and carries on where it was.

While it runs it checks in (`TaskWorker`, every 15 s at most), so /healthz
can name a worker that has gone quiet: stopped, stuck in a task, or cut off
from the database. Each check-in also starts the mail of new posts that
have gone public (blog/subscriptions/mailing.py).

A task can be cut off halfway: the database went away before its result was
written, or its worker was killed. Left alone it would stay RUNNING for ever
and its mail would never go. So a worker that (re)connects puts its own
unfinished task back in the queue, and every check-in does the same for tasks
whose worker has been silent for a minute and which started more than
`ABANDONED_AFTER` ago. Tasks therefore run at least once: a mail cut off
between the SMTP server's "OK" and the database write may go twice, never
not at all.
"""

from __future__ import annotations

import logging
import math
import os
import random
import socket
import time
from contextlib import suppress
from datetime import timedelta

from django.db import DatabaseError, OperationalError, close_old_connections
from django.db import connections as databases
from django.utils import timezone
from django_tasks import TaskResultStatus, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from blog.models import TaskWorker

logger = logging.getLogger(__name__)

CHECK_IN_EVERY = 15  # seconds
SILENT_AFTER = timedelta(minutes=1)  # /healthz names a worker quiet this long
FIRST_WAIT, LONGEST_WAIT = 1.0, 30.0  # seconds, after a database error
FORGET_AFTER = timedelta(days=1)  # check-ins of workers long gone
ABANDONED_AFTER = timedelta(minutes=10)  # a RUNNING task of a silent worker


class RetryScheduled(Exception):
    """Raised by a task that failed and has enqueued itself again for later.

    The attempt's result is FAILED, because it did fail (its traceback holds
    the cause), but it is not the task's last word: /healthz counts only the
    failures that nothing will try again.
    """


class Worker(db_worker.Worker):
    """django-tasks-db's worker loop, one iteration at a time (`step`), with
    database errors waited out instead of ending the process."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.checked_in_at: float | None = None  # time.monotonic()

    def run(self) -> None:
        logger.info(
            "Starting worker worker_id=%s queues=%s",
            self.worker_id,
            ",".join(self.queue_names),
        )
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # no thundering herd of workers
        wait = FIRST_WAIT
        try:
            while self.running:
                try:
                    if self.step():
                        return
                except DatabaseError as error:
                    logger.warning(
                        "Database unavailable (%s: %s); worker %s tries again in "
                        "%.0f s",
                        error.__class__.__name__,
                        str(error).strip().splitlines()[0] if str(error) else "",
                        self.worker_id,
                        wait,
                    )
                    self.forget_connections()
                    time.sleep(wait)
                    wait = min(wait * 2, LONGEST_WAIT)
                else:
                    wait = FIRST_WAIT
        finally:
            self.check_out()

    def step(self) -> bool:
        """Check in, then run one task if one is due (as the library's loop
        does); True when the worker is done (--batch, --max-tasks)."""
        close_old_connections()
        self.check_in()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        retrieved = True
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)  # no other worker runs it
            except OperationalError as error:
                if not is_locked_database_exception(error):
                    raise
                task_result, retrieved = None, False  # SQLite: it unlocks soon
        if task_result is not None:
            self.run_task(task_result)
        if self.batch and retrieved and task_result is None:
            logger.info("No more tasks to run for worker_id=%s.", self.worker_id)
            return True
        if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
            logger.info(
                "Ran %d tasks on worker_id=%s.", self._run_tasks, self.worker_id
            )
            return True
        close_old_connections()
        if self.running and task_result is None:
            time.sleep(self.interval)
        return False

    def check_in(self) -> None:
        now = time.monotonic()
        if self.checked_in_at is not None and now - self.checked_in_at < CHECK_IN_EVERY:
            return
        if self.checked_in_at is None:  # started, or back after an outage
            TaskWorker.objects.filter(
                checked_in_at__lt=timezone.now() - FORGET_AFTER
            ).delete()
            self.requeue(
                task for task in self.unfinished() if self.worker_id in task.worker_ids
            )
        self.requeue(self.abandoned())
        self.start_mailings()
        TaskWorker.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"checked_in_at": timezone.now()},
            create_defaults={
                "checked_in_at": timezone.now(),
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
            },
        )
        self.checked_in_at = now

    def start_mailings(self) -> None:
        """Start the mail of posts gone public, and resume mailings whose
        batch task was lost (blog/subscriptions/mailing.py): scheduled posts
        send no signal when their time comes, and a task can be lost."""
        from blog.subscriptions import mailing  # it imports this module

        try:
            mailing.sweep()
        except DatabaseError:
            raise  # waited out by run()
        except Exception:
            logger.exception("Starting the mailings of new posts failed")

    def unfinished(self):
        return DBTaskResult.objects.running().filter(backend_name=self.backend_name)

    def abandoned(self):
        """RUNNING tasks that started long ago under workers silent for a minute."""
        now = timezone.now()
        alive = TaskWorker.objects.filter(
            checked_in_at__gte=now - SILENT_AFTER
        ).values_list("worker_id", flat=True)
        tasks = self.unfinished().filter(started_at__lt=now - ABANDONED_AFTER)
        return [task for task in tasks if not set(task.worker_ids) & set(alive)]

    def requeue(self, tasks) -> None:
        for task_result in tasks:
            updated = DBTaskResult.objects.filter(
                id=task_result.id, status=task_result.status
            ).update(status=TaskResultStatus.READY, started_at=None)
            if updated:
                logger.warning(
                    "Task id=%s was cut off while running (worker %s); queued again",
                    task_result.id,
                    ",".join(task_result.worker_ids),
                )

    def check_out(self) -> None:
        """A worker that stops says so; one that cannot reach the database
        any more simply falls silent, which /healthz reports after a minute."""
        with suppress(DatabaseError):
            TaskWorker.objects.filter(worker_id=self.worker_id).delete()

    def forget_connections(self) -> None:
        """Drop the broken connections: the next step opens fresh ones."""
        self.checked_in_at = None  # and checks in as soon as it can
        for connection in databases.all(initialized_only=True):
            with suppress(DatabaseError):
                connection.close()  # forgets the connection even when it raises


def worker_silence() -> float | None:
    """How many seconds the database queue's workers have been silent when
    that is too long (math.inf: none ever checked in), else None (they
    answer, or tasks run elsewhere: no worker of ours to watch)."""
    if not isinstance(task_backends["default"], DatabaseBackend):
        return None
    latest = TaskWorker.objects.order_by("-checked_in_at").first()
    if latest is None:
        return math.inf
    silent = timezone.now() - latest.checked_in_at
    return silent.total_seconds() if silent > SILENT_AFTER else None


def worker_state() -> str:
    """ "ok", or what /healthz says about the workers of the database queue."""
    silent = worker_silence()
    if silent is None:
        return "ok"
    if silent == math.inf:
        return "no worker has checked in (is `manage.py db_worker` running?)"
    return f"no worker has checked in for {silent:.0f} s"
