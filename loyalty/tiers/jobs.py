"""tiers.evaluate: the nightly review, in keyset batches of members, one transaction per batch."""

from __future__ import annotations

from loyalty.core.db import utcnow
from loyalty.core.jobs import JobContext, day_end
from loyalty.core.logging import get_logger
from loyalty.members.service import grading_page
from loyalty.program.service import settings
from loyalty.tiers.grading import review_batch

BATCH = 5000
log = get_logger("loyalty.jobs.tiers")


def evaluate_tiers(context: JobContext) -> dict[str, int]:
    """As of the end of the date: upgrade whoever qualifies (a lowered ladder takes effect here),
    keep or lower by one step those whose retention period has ended, drop ended floors.
    Safe to run twice: the second run finds nothing due."""
    with context.db.unit_of_work() as session:
        now = day_end(context.as_of, settings(session).timezone, utcnow())
    counts = {"members": 0, "qualified": 0, "retention_ended": 0, "renewed": 0, "floor_ended": 0, "ladder": 0}
    after = ""
    while True:
        with context.db.unit_of_work() as session:
            page = grading_page(session, after=after, limit=BATCH)
            if not page:
                break
            # As of a past date, who enrolled after it isn't reviewed then.
            members = [(member_id, tier) for member_id, tier, enrolled in page if enrolled <= now]
            for reason, count in review_batch(session, members, now=now).items():
                counts[reason] = counts.get(reason, 0) + count
        counts["members"] += len(members)
        context.batch_done(len(page))
        after = page[-1][0]
    log.info("tiers_evaluated", **counts)
    return counts
