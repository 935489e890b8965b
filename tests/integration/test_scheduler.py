"""Two `loyalty scheduler` processes at once: both run the shared (queue-like) jobs; of the others one
acts, the other takes over when it goes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from loyalty.core.models import JobRun
from loyalty.scheduler import SHARED

BIN = Path(sys.executable).parent / "loyalty"


def _start(database_url: str, log: Path) -> subprocess.Popen:
    # LOYALTY_STOP_WITH_PARENT: if pytest dies mid-test, the kernel stops the schedulers too.
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": database_url,
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_STOP_WITH_PARENT": str(os.getpid()),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BIN), "scheduler", "--lease-seconds", "6", "--every-seconds", "0.5"], env=env, stdout=out, stderr=out
        )


def _runs(db) -> list[JobRun]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def _wait_for(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_one_scheduler_acts_and_the_other_takes_over(database_url, db, tmp_path):
    first, second = _start(database_url, tmp_path / "first.log"), _start(database_url, tmp_path / "second.log")
    try:
        _wait_for(lambda: len(_runs(db)) >= 20 and len({r.holder for r in _runs(db) if r.job in SHARED}) == 2)
        holders = {run.holder for run in _runs(db) if run.job not in SHARED}
        assert len(holders) == 1, holders  # both fire; only the lease holder runs the jobs that aren't shared
        leader = holders.pop()
        pid = int(leader.split(":")[1])
        assert pid in (first.pid, second.pid)
        survivor = second if pid == first.pid else first
        os.kill(pid, signal.SIGKILL)  # no clean release: the standby waits the lease out
        killed_at = len(_runs(db))
        taken = _wait_for(
            lambda: [
                r for r in _runs(db)[killed_at:] if r.job not in SHARED and str(survivor.pid) == r.holder.split(":")[1]
            ]
        )
        assert taken
        assert all(run.status in ("ok", "running") for run in _runs(db)), [
            (r.job, r.error) for r in _runs(db) if r.status == "failed"
        ]
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(15) == 0
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
                process.wait(10)
    names = {run.job for run in _runs(db)}
    assert {"points.expire", "tiers.evaluate", "referrals.qualify", "webhooks.deliver"} <= names


def test_the_lease_is_held_renewed_and_taken_over_only_when_it_ran_out(db):
    from datetime import timedelta

    from loyalty.core.db import utcnow
    from loyalty.core.lease import hold, release

    now = utcnow()
    assert hold(db, "t", "a", seconds=10, now=now)
    assert not hold(db, "t", "b", seconds=10, now=now + timedelta(seconds=5))
    assert hold(db, "t", "a", seconds=10, now=now + timedelta(seconds=9))  # renewed until 19 s
    assert not hold(db, "t", "b", seconds=10, now=now + timedelta(seconds=15))
    assert hold(db, "t", "b", seconds=10, now=now + timedelta(seconds=20))
    assert not hold(db, "t", "a", seconds=10, now=now + timedelta(seconds=21))
    release(db, "t", "b")
    assert hold(db, "t", "a", seconds=10)


def test_a_stop_arriving_while_the_scheduler_goes_over_its_jobs_ends_it_cleanly(db, config, monkeypatch):
    """SIGTERM's handler runs in the main thread, which may be inside APScheduler's pass over the due
    jobs (under its reentrant lock): a shutdown right there emptied the job store under the pass and
    the process died with JobLookupError (exit 1; seen once under the shifted clock in CI)."""
    from apscheduler.jobstores.memory import MemoryJobStore

    from loyalty.scheduler import Scheduler

    real, signalled = MemoryJobStore.get_due_jobs, []

    def get_due_jobs(store, now):
        due = real(store, now)
        if due and not signalled:  # the lease job is due at once: stop in the middle of that pass
            signalled.append(len(due))
            os.kill(os.getpid(), signal.SIGTERM)
        return due

    monkeypatch.setattr(MemoryJobStore, "get_due_jobs", get_due_jobs)
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        Scheduler(db=db, config=config, lease_seconds=6, every_seconds=0.5).start()  # returns, raises nothing
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    assert signalled
