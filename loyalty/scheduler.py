"""The registry of scheduled jobs and the `loyalty scheduler` process that runs them.

Every job the `loyalty` command can list and run is here. Features add their
jobs as they land (points.expire, tiers.evaluate, care.plan, ...).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from loyalty.config import Config
from loyalty.core.db import Database
from loyalty.core.jobs import Job, JobContext
from loyalty.core.logging import describe_error, get_logger
from loyalty.core.progress import Progress

log = get_logger("loyalty.scheduler")

JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "points.expire",
            "loyalty.points.jobs:expire_points",
            "30 2 * * *",
            "Expire lots that are due (as of the date) and note points expiring in the next 30 days",
            "no points were due to expire by the end of the day, and no new ones expire within 30 days",
        ),
        Job(
            "points.balances",
            "loyalty.points.balances:refresh_balances",
            "*/10 * * * *",
            "Count again the stored balances segments read (changed since, or past a lot's maturity or expiry)",
            "every stored balance was still exact",
        ),
        Job(
            "redemptions.release",
            "loyalty.redemptions.jobs:release_holds",
            "* * * * *",
            "Give back the points and stock of holds past their time",
            "no hold was past its time",
        ),
        Job(
            "tiers.evaluate",
            "loyalty.tiers.jobs:evaluate_tiers",
            "45 2 * * *",
            "Review tiers as of the date: upgrades, one-step downgrades after the retention period, ended floors",
            "there is no member to review",
        ),
        Job(
            "referrals.qualify",
            "loyalty.referrals.jobs:qualify_referrals",
            "15 3 * * *",
            "Qualify referrals whose first order was kept through its return window; reward them once",
            "no pending referral was ready to decide",
        ),
        Job(
            "webhooks.deliver",
            "loyalty.webhooks.jobs:deliver_webhooks",
            "* * * * *",
            "Fan new outbox events out to subscriptions and send what is due (signed; retried for 24 h)",
            "no new event for a subscription and no delivery due",
        ),
        Job(
            "care.plan",
            "loyalty.care.jobs:plan_care",
            "5 1 * * *",
            "Plan touches (birthdays, holidays, anniversaries, follow-up calls, win-back) due on the date or the next",
            "every occasion due that day or the next was planned already, or no enabled care rule has one "
            "(rules: GET /v1/care/rules; touches: GET /v1/care/touches)",
        ),
        Job(
            "care.dispatch",
            "loyalty.care.jobs:dispatch_care",
            "*/5 * * * *",
            "Send due touches within consent, quiet hours and the weekly cap; phone touches become callbacks",
            "no planned touch was due",
        ),
        Job(
            "insights.refresh",
            "loyalty.insights.jobs:refresh_insights",
            "30 4 * * *",
            "RFM scores, lifecycle stage and churn risk per member, as of the date",
            "there is no member to score",
        ),
        Job(
            "campaigns.run",
            "loyalty.campaigns.jobs:run_campaigns",
            "* * * * *",
            "Fan running campaigns out as care touches at their send rate; finish them when all is sent",
            "no campaign is running",
        ),
        Job(
            "ledger.check",
            "loyalty.reconcile:check_ledger",
            "50 4 * * *",
            "Reconcile the ledger (the checks of `loyalty check`); mismatches in /metrics as loyalty_ledger_mismatches",
            "there is nothing in the ledger yet",
        ),
        Job(
            "idempotency.purge",
            "loyalty.core.maintenance:purge_idempotency",
            "17 3 * * *",
            "Forget Idempotency-Key records older than the 24 h replay window",
            "no Idempotency-Key record was past the replay window",
        ),
        Job(
            "events.purge",
            "loyalty.webhooks.retention:purge_events",
            "27 3 * * *",
            "Delete outbox events and their delivery log older than LOYALTY_EVENT_RETENTION_DAYS (none still pending)",
            "no finished event was past the retention",
        ),
        Job(
            "console.sessions.purge",
            "loyalty.console.jobs:purge_sessions",
            "7 * * * *",
            "Delete staff console sessions idle longer than LOYALTY_CONSOLE_IDLE_MINUTES",
            "no console session was idle past its time",
        ),
    )
}


class UnknownJob(KeyError):
    pass


def run_job(
    name: str, *, db: Database, config: Config, as_of: date, progress: Progress | None = None
) -> dict[str, int]:
    if name not in JOBS:
        raise UnknownJob(name)
    return JOBS[name].load()(JobContext(db=db, config=config, as_of=as_of, progress=progress))


LEASE = "scheduler"
# Queue-like jobs: a run claims batches of due work (FOR UPDATE SKIP LOCKED on PostgreSQL, see
# loyalty/core/claims.py), so every scheduler process runs them and the processes share a backlog.
# The other jobs review or purge whole tables as of a day: the lease holder alone runs those.
SHARED = frozenset({"care.dispatch", "webhooks.deliver", "campaigns.run"})


class Scheduler:
    """The `loyalty scheduler` process: APScheduler 3 firing every registered job on its crontab in
    the program's time zone. Any number may run: every one runs the SHARED (queue-like) jobs, taking
    its own batches of the backlog; of the other jobs only the one holding the database lease acts,
    the others fire too but skip, and take the lease over when it runs out. Web workers never run jobs."""

    def __init__(
        self,
        *,
        db: Database,
        config: Config,
        lease_seconds: float = 30.0,
        every_seconds: float | None = None,
        holder: str | None = None,
    ) -> None:
        import os
        import socket
        import uuid

        self.db, self.config, self.lease_seconds, self.every_seconds = db, config, lease_seconds, every_seconds
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.leading = False
        self._scheduler = None

    def timezone(self) -> str:
        from loyalty.program.service import settings

        with self.db.unit_of_work() as session:
            return settings(session).timezone

    def keep_lease(self) -> bool:
        from loyalty.core.lease import hold

        try:
            self.leading = hold(self.db, LEASE, self.holder, seconds=self.lease_seconds)
        except Exception:  # the database away: act as a follower until it is back
            log.exception("lease_failed", holder=self.holder)
            self.leading = False
        return self.leading

    def run(self, name: str) -> None:
        """Fired by APScheduler: run the job if it is shared or this scheduler holds the lease, recording the run."""
        from zoneinfo import ZoneInfo

        if not self.keep_lease() and name not in SHARED:
            return
        day = datetime.now(ZoneInfo(self.timezone())).date()
        run_id = _start_run(self.db, name, self.holder, day)
        try:
            counts = run_job(name, db=self.db, config=self.config, as_of=day)
        except Exception as error:  # logged and recorded; the next firing tries again
            log.exception("job_failed", job=name)
            # never the message: a driver's carries the statement's values (a duplicate email)
            _finish_run(self.db, run_id, "failed", None, describe_error(error)[:500])
            return
        _finish_run(self.db, run_id, "ok", counts, None)
        log.info("job_finished", job=name, as_of=day.isoformat(), counts=counts)  # every run, also the quiet ones

    def start(self) -> None:
        """Block, firing jobs, until SIGTERM or SIGINT; then give the lease up."""
        import signal
        import threading

        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # its INFO lines say every firing
        zone = self.timezone()
        executor = ThreadPoolExecutor(10)
        scheduler = BlockingScheduler(
            timezone=zone,
            executors={"default": executor},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        scheduler.add_job(
            self.keep_lease,
            IntervalTrigger(seconds=max(self.lease_seconds / 3, 0.5)),
            id="lease",
            next_run_time=datetime.now().astimezone(),
        )
        for job in JOBS.values():
            trigger = (
                IntervalTrigger(seconds=self.every_seconds)
                if self.every_seconds
                else CronTrigger.from_crontab(job.schedule, timezone=zone)
            )
            scheduler.add_job(self.run, trigger, args=[job.name], id=job.name, name=job.name)
        self._scheduler = scheduler

        stopping: list[bool] = []

        def stop(*_args: object) -> None:
            if stopping:  # a second signal while stopping changes nothing
                return
            stopping.append(True)
            if scheduler.running:
                # From another thread: the handler runs in the main thread, possibly inside the
                # scheduler's own pass over its jobs, whose lock is reentrant, so a shutdown here
                # emptied the job store under that pass (JobLookupError, exit 1). From a thread it
                # waits for the pass to end, and the main loop then sees it stopped.
                threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}, name="stop").start()
            else:  # signalled before it started: don't start at all
                raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("scheduler_started", holder=self.holder, jobs=list(JOBS), timezone=zone)
        try:
            scheduler.start()
        finally:
            from loyalty.core.lease import release

            # Jobs in hand finish first: one still running would renew the lease after it was given up.
            executor.shutdown(wait=True)
            release(self.db, LEASE, self.holder)
            log.info("scheduler_stopped", holder=self.holder)


def _start_run(db: Database, name: str, holder: str, day: date) -> int:
    from loyalty.core.db import utcnow
    from loyalty.core.models import JobRun

    with db.unit_of_work() as session:
        run = JobRun(job=name, holder=holder, as_of=day.isoformat(), started_at=utcnow(), status="running")
        session.add(run)
        session.flush()
        return run.id


def _finish_run(db: Database, run_id: int, status: str, counts: dict[str, int] | None, error: str | None) -> None:
    from loyalty.core.db import utcnow
    from loyalty.core.models import JobRun

    with db.unit_of_work() as session:
        run = session.get_one(JobRun, run_id)
        run.status, run.counts, run.error, run.finished_at = status, counts, error, utcnow()
