"""webhooks.deliver: fan the outbox out to subscriptions and send what is due, every minute."""

from __future__ import annotations

import time

import requests

from loyalty.core.db import utcnow
from loyalty.core.jobs import JobContext
from loyalty.core.logging import get_logger
from loyalty.webhooks import delivery

log = get_logger("loyalty.jobs.webhooks")
BUDGET_SECONDS = 50  # runs every minute: leave the next run its turn


def deliver_webhooks(context: JobContext) -> dict[str, int]:
    counts = {"fanned_out": 0, "sent": 0, "delivered": 0, "retrying": 0, "dead": 0}
    started = time.monotonic()
    while True:
        with context.db.unit_of_work() as session:
            events, made = delivery.fan_out(session, now=utcnow())
        counts["fanned_out"] += made
        if not events or time.monotonic() - started > BUDGET_SECONDS:
            break
    gone: set[str] = set()
    with requests.Session() as http:
        while time.monotonic() - started < BUDGET_SECONDS:
            with context.db.unit_of_work() as session:
                messages = delivery.claim(session, now=utcnow())
            if not messages:
                break
            for message in messages:
                if message.subscription_id in gone:  # answered 410 earlier in this run: send it nothing more
                    continue
                result = delivery.send(message, http=http, now=utcnow())
                if result.status_code == 410:
                    gone.add(message.subscription_id)
                with context.db.unit_of_work() as session:
                    status = delivery.record(session, message, result, now=utcnow())
                counts["sent"] += 1
                counts[{"delivered": "delivered", "dead": "dead"}.get(status, "retrying")] += 1
    log.info("webhooks_delivered", **counts)
    return counts
