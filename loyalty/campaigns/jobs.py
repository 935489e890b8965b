"""campaigns.run: fan running campaigns out at their send rate, and finish them when all is sent."""

from __future__ import annotations

from sqlalchemy import select

from loyalty.campaigns import rules, service
from loyalty.campaigns.models import Campaign
from loyalty.core.db import utcnow
from loyalty.core.jobs import JobContext
from loyalty.core.logging import get_logger

log = get_logger("loyalty.jobs.campaigns")


def run_campaigns(context: JobContext) -> dict[str, int]:
    now = utcnow()
    counts = {"campaigns": 0, "touches": 0, "finished": 0}
    with context.db.unit_of_work() as session:
        ids = list(
            session.scalars(
                select(Campaign.id).where(Campaign.status == "running", Campaign.starts_at <= now).order_by(Campaign.id)
            )
        )
    for campaign_id in ids:
        # One campaign, one transaction. Claimed with SKIP LOCKED: a campaign another scheduler
        # process is fanning out right now is its own, and this run goes on to the next one.
        with context.db.unit_of_work() as session:
            campaign = session.get(Campaign, campaign_id, with_for_update={"skip_locked": True})
            if campaign is None or campaign.status != "running":
                continue
            counts["campaigns"] += 1
            if not campaign.fanned_out and rules.fan_out_due(campaign.fanned_at, now):
                made = service.fan_out(session, campaign, now=now)
                counts["touches"] += made
                if made >= campaign.send_rate:
                    campaign.fanned_at = now
            if service.finish_if_done(session, campaign, now=now):
                counts["finished"] += 1
    log.info("campaigns_run", **counts)
    return counts
