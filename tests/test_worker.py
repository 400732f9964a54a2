"""The task worker (`manage.py db_worker`, blog/worker.py) and its keeper.

The fault test starts a PostgreSQL cluster of its own (initdb + pg_ctl on a
spare port), runs the worker against it under bin/keep-running as
`make serve` does, stops and starts that cluster, and kills the worker:
mail queued meanwhile is sent, and the worker only ever ends when killed.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from blog.models import TaskWorker
from tests.servers import free_ports
from tests.test_deploy import run_manage

ROOT = Path(__file__).resolve().parents[1]
KEEP_RUNNING = ROOT / "bin" / "keep-running"
PORTS = range(8140, 8150)


def wait_for(condition: Callable[[], object], what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"waited {seconds} s for {what}")


@task()
def workers_seen() -> list:
    """What a task run by the worker finds in the check-in table."""
    return list(TaskWorker.objects.values_list("host", "pid"))


@pytest.mark.django_db(transaction=True)
def test_the_worker_checks_in_while_it_runs_and_out_when_it_stops(
    database_tasks, restore_signals
):
    result = workers_seen.enqueue()

    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0
    )

    result.refresh()
    assert result.return_value == [[socket.gethostname(), os.getpid()]]
    assert not TaskWorker.objects.exists()


runs: list[str] = []


@task()
def remember_run(name: str) -> str:
    runs.append(name)
    return name


def run_worker_batch() -> None:
    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0
    )


@pytest.mark.django_db(transaction=True)
def test_a_task_left_running_by_a_silent_worker_runs_again_and_a_live_ones_does_not(
    database_tasks, restore_signals
):
    runs.clear()
    long_ago = timezone.now() - timedelta(minutes=20)
    cut_off = remember_run.enqueue("cut off")
    busy = remember_run.enqueue("still running")
    DBTaskResult.objects.filter(id=cut_off.id).update(
        status=TaskResultStatus.RUNNING, started_at=long_ago, worker_ids=["killed"]
    )
    DBTaskResult.objects.filter(id=busy.id).update(
        status=TaskResultStatus.RUNNING, started_at=long_ago, worker_ids=["alive"]
    )
    TaskWorker.objects.create(
        worker_id="alive", checked_in_at=timezone.now(), host="elsewhere", pid=1
    )

    run_worker_batch()

    assert runs == ["cut off"]
    cut_off.refresh()
    busy.refresh()
    assert cut_off.status == TaskResultStatus.SUCCESSFUL
    assert busy.status == TaskResultStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_result_the_database_could_not_take_is_run_again(
    database_tasks, restore_signals, monkeypatch
):
    runs.clear()
    monkeypatch.setattr("blog.worker.FIRST_WAIT", 0.01)
    # The database goes away after the task ran: neither its success nor its
    # failure can be written; then it comes back.
    writes_refused = iter([True, True])

    def result_write(real):
        def write(self, value):
            if next(writes_refused, False):
                raise OperationalError("server closed the connection unexpectedly")
            real(self, value)

        return write

    for name in ("set_successful", "set_failed"):
        monkeypatch.setattr(
            DBTaskResult, name, result_write(getattr(DBTaskResult, name))
        )
    result = remember_run.enqueue("mail")

    run_worker_batch()

    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert runs == ["mail", "mail"]  # at least once: never left RUNNING


def test_keep_running_starts_a_command_again_when_it_exits_and_stops_with_it(
    tmp_path,
):
    runs = tmp_path / "runs"
    command = f"echo $$ >> {runs}; exec sleep 30"
    keeper = subprocess.Popen(
        [KEEP_RUNNING, "sh", "-c", command],
        env={**os.environ, "RESTART_DELAY": "0"},
        stderr=subprocess.PIPE,
    )
    try:
        first = int(wait_for(lambda: runs.exists() and runs.read_text(), "a run"))
        os.kill(first, signal.SIGKILL)
        lines = wait_for(
            lambda: len(runs.read_text().split()) == 2 and runs.read_text().split(),
            "a second run",
        )
        second = int(lines[1])
        keeper.terminate()
        assert keeper.wait(timeout=10) == 0
        # The command went with it.
        with pytest.raises(ProcessLookupError):
            os.kill(second, 0)
        assert b"exited with status 137; starting it again" in keeper.stderr.read()
    finally:
        keeper.kill()
        keeper.wait()


# A PostgreSQL cluster of our own


def postgres_bin() -> Path:
    found = shutil.which("pg_ctl") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)),
        None,
    )
    if found is None:
        pytest.fail("the fault tests need PostgreSQL's initdb and pg_ctl")
    return Path(found).parent


class Cluster:
    """initdb + pg_ctl in a temporary folder, on a port of its own. initdb
    refuses to run as root, so as root the cluster belongs to `postgres`."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        [self.port] = free_ports(1, PORTS)
        self.folder = Path(tempfile.mkdtemp(prefix="inkwell-pg-"))
        self.data = self.folder / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-N")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, program: str, *args) -> None:
        subprocess.run(
            [*self.as_user, self.bin / program, *map(str, args)],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off"
        )
        log = self.folder / "postgres.log"
        self.run("pg_ctl", "-D", self.data, "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                self.bin / "pg_ctl",
                "-D",
                self.data,
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster():
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


# Each message is written to the worker's output.
CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"

ENQUEUE = """
from blog.mail import send_email
send_email.enqueue(to=["ann@example.org"], subject={subject!r}, text="Hi", html="Hi")
"""

STATE = """
import json
from django.test import Client
from django_tasks_db.models import DBTaskResult
from blog.models import TaskWorker
print(json.dumps({
    "results": sorted(DBTaskResult.objects.values_list("status", flat=True)),
    "workers": list(TaskWorker.objects.values_list("pid", flat=True)),
    "health": Client().get("/healthz").json()["tasks"],
}))
"""


@pytest.mark.faults
def test_the_worker_rides_out_a_postgresql_restart_and_is_restarted_if_killed(
    cluster, tmp_path
):
    environment = {
        "DATABASE_URL": cluster.url,
        "CACHE_DIR": str(tmp_path / "cache"),
        "EMAIL_BACKEND": CONSOLE_MAIL,
    }

    def manage(*args: str) -> str:
        result = run_manage(*args, **environment)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def state() -> dict:
        return json.loads(manage("shell", "-c", STATE).splitlines()[-1])

    manage("migrate", "--noinput", "-v", "0")
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        keeper = subprocess.Popen(
            [
                KEEP_RUNNING,
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.2",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                **environment,
                "PYTHONUNBUFFERED": "1",
                "RESTART_DELAY": "0.5",
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def logged(text: str) -> bool:
        return text in log.read_text(errors="replace")

    try:
        manage("shell", "-c", ENQUEUE.format(subject="Before the outage"))
        wait_for(lambda: logged("Subject: Before the outage"), "the first mail")
        [worker] = wait_for(lambda: state()["workers"], "the worker's check-in")

        # The worker is held still while a mail is queued and the database
        # goes down, so that it meets the outage with that mail waiting.
        os.kill(worker, signal.SIGSTOP)
        manage("shell", "-c", ENQUEUE.format(subject="Queued before the outage"))
        cluster.stop()
        os.kill(worker, signal.SIGCONT)
        wait_for(
            lambda: log.read_text().count("Database unavailable") >= 2,
            "the worker to meet the outage twice",
        )
        assert not logged("exited with status")

        cluster.start()
        wait_for(lambda: logged("Subject: Queued before the outage"), "the queued mail")
        after = wait_for(lambda: state(), "the state after the outage")
        assert after["workers"] == [worker]  # the same process, checked in again
        assert after["health"]["worker"] == "ok"
        assert after["results"] == ["SUCCESSFUL", "SUCCESSFUL"]
        assert not logged("exited with status")
        assert not logged("Traceback")

        # A worker that dies anyway (here: killed) is started again.
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: logged("exited with status 137"), "keep-running to notice")
        manage("shell", "-c", ENQUEUE.format(subject="After the restart"))
        wait_for(lambda: logged("Subject: After the restart"), "the third mail")
        # The killed one could not check out; the new one checked in.
        assert len(set(state()["workers"]) - {worker}) == 1
    finally:
        keeper.terminate()
        keeper.wait(timeout=20)
    print(f"\nworker log:\n{log.read_text()[-3000:]}")
