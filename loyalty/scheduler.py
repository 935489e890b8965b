"""The registry of scheduled jobs.

Every job the `loyalty` command can list and run is here. Features add their
jobs as they land (points.expire, tiers.evaluate, care.plan, ...).
"""

from __future__ import annotations

from datetime import date

from loyalty.config import Config
from loyalty.core.db import Database
from loyalty.core.jobs import Job, JobContext

JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("points.expire", "loyalty.points.jobs:expire_points", "30 2 * * *",
            "Expire lots that are due (as of the date) and note points expiring in the next 30 days"),
        Job("redemptions.release", "loyalty.redemptions.jobs:release_holds", "* * * * *",
            "Give back the points and stock of holds past their time"),
        Job("tiers.evaluate", "loyalty.tiers.jobs:evaluate_tiers", "45 2 * * *",
            "Review tiers as of the date: upgrades, one-step downgrades after the retention period, ended floors"),
        Job("referrals.qualify", "loyalty.referrals.jobs:qualify_referrals", "15 3 * * *",
            "Qualify referrals whose first order was kept through its return window; reward them once"),
        Job("webhooks.deliver", "loyalty.webhooks.jobs:deliver_webhooks", "* * * * *",
            "Fan new outbox events out to subscriptions and send what is due (signed; retried for 24 h)"),
        Job("idempotency.purge", "loyalty.core.maintenance:purge_idempotency", "17 3 * * *",
            "Forget Idempotency-Key records older than the 24 h replay window"),
    )
}


class UnknownJob(KeyError):
    pass


def run_job(name: str, *, db: Database, config: Config, as_of: date) -> dict[str, int]:
    if name not in JOBS:
        raise UnknownJob(name)
    return JOBS[name].load()(JobContext(db=db, config=config, as_of=as_of))
