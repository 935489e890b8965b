"""`loyalty serve --with-scheduler` (what `make run` starts): a real server process and its scheduler
child, on a free port, against the test database; both gone after Ctrl-C (SIGINT) or SIGTERM.

These processes run on the real clock: nothing here depends on the date."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from loyalty.core.models import JobRun, SchedulerLease


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(what: str, check, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(url: str):
    def check():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    return check


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()  # a zombie has ended; only its exit status is left
    except FileNotFoundError:
        return False


def _log_records(path: Path) -> list[dict]:
    records = []
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                # The lines after it say what wrote it (a traceback's frames), for whoever reads the failure.
                raise AssertionError(
                    f"log line is not JSON: {line!r}; then: {lines[number + 1 : number + 30]!r}"
                ) from None
    return records


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_with_scheduler_runs_jobs_and_stops_both(database_url, db, tmp_path, stop_with):
    port, log = _free_port(), tmp_path / "stderr.log"
    env = {**os.environ, "LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"}
    command = [
        sys.executable,
        "-m",
        "loyalty.cli",
        "serve",
        "--port",
        str(port),
        "--with-scheduler",
        "--every-seconds",
        "1",
    ]
    with open(log, "w") as stderr:
        server = subprocess.Popen(command, env=env, stdout=stderr, stderr=stderr)  # both streams: all JSON
    try:
        ready = _wait("the API", _answers(f"http://127.0.0.1:{port}/readyz"))
        assert ready["status"] == "ready"

        def runs():
            with db.unit_of_work() as session:
                return session.scalar(select(func.count()).select_from(JobRun).where(JobRun.status == "ok"))

        _wait("job runs", lambda: runs() >= 3)
        started = [r for r in _log_records(log) if r["event"] == "scheduler_started_with_server"]
        child = started[0]["pid"]
        assert _alive(child) and _alive(server.pid)
        with db.unit_of_work() as session:
            holders = set(session.scalars(select(JobRun.holder)))
        assert all(holder.split(":")[1] == str(child) for holder in holders)  # the child ran them

        server.send_signal(stop_with)
        assert server.wait(timeout=60) == 0
        assert not _alive(child)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        records = _log_records(log)  # every line of both processes is JSON
        events = [r["event"] for r in records]
        assert "scheduler_started" in events and "request" in events and "scheduler_stopped_with_server" in events
        stopped = next(r for r in records if r["event"] == "scheduler_stopped")
        with db.unit_of_work() as session:  # a clean stop hands the lease over at once (by the child's clock)
            lease = session.scalars(select(SchedulerLease)).one()
            assert lease.expires_at <= datetime.fromisoformat(stopped["timestamp"])
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_every_seconds_needs_with_scheduler():
    from click.testing import CliRunner

    from loyalty.cli import main

    result = CliRunner().invoke(main, ["serve", "--every-seconds", "5"])
    assert result.exit_code == 2 and "only with --with-scheduler" in result.output


def test_the_scheduler_child_command():
    from loyalty.devserver import scheduler_command

    assert scheduler_command(None) == [sys.executable, "-m", "loyalty.cli", "scheduler"]
    assert scheduler_command(10.0)[-2:] == ["--every-seconds", "10"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_server_leaves_no_scheduler_behind(database_url, db, tmp_path):
    port, log = _free_port(), tmp_path / "stderr.log"
    env = {**os.environ, "LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"}
    command = [
        sys.executable,
        "-m",
        "loyalty.cli",
        "serve",
        "--port",
        str(port),
        "--with-scheduler",
        "--every-seconds",
        "1",
    ]
    with open(log, "w") as stderr:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        _wait("the API", _answers(f"http://127.0.0.1:{port}/healthz"))
        child = _wait(
            "the scheduler child",
            lambda: next((r["pid"] for r in _log_records(log) if r["event"] == "scheduler_started_with_server"), None),
        )
        _wait("the scheduler", lambda: "scheduler_started" in [r["event"] for r in _log_records(log)])
        server.kill()  # no cleanup runs in the server: the kernel tells the child
        server.wait(timeout=30)
        # It finishes the job in hand first: on a loaded CI machine that took more than 30 s once.
        _wait("the orphaned scheduler to stop", lambda: not _alive(child), seconds=90)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_the_server_stops_when_its_scheduler_dies(database_url, db, tmp_path):
    port, log = _free_port(), tmp_path / "stderr.log"
    env = {**os.environ, "LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"}
    command = [
        sys.executable,
        "-m",
        "loyalty.cli",
        "serve",
        "--port",
        str(port),
        "--with-scheduler",
        "--every-seconds",
        "1",
    ]
    with open(log, "w") as stderr:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        _wait("the API", _answers(f"http://127.0.0.1:{port}/healthz"))
        child = _wait(
            "the scheduler child",
            lambda: next((r["pid"] for r in _log_records(log) if r["event"] == "scheduler_started_with_server"), None),
        )
        os.kill(child, signal.SIGKILL)
        assert server.wait(timeout=30) == 1
        died = [r for r in _log_records(log) if r["event"] == "scheduler_exited"]
        assert died and died[0]["returncode"] == -signal.SIGKILL and died[0]["level"] == "error"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
