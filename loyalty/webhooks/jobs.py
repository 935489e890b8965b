"""webhooks.deliver: fan the outbox out to subscriptions and send what is due, every minute.

Subscriptions are served side by side by a small pool of threads, one attempt per subscription at
a time: a receiver that takes its full 10 s (or never answers) holds up only its own queue, whose
events stay in the order they were written.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from loyalty.core.db import utcnow
from loyalty.core.jobs import JobContext
from loyalty.core.logging import get_logger
from loyalty.webhooks import delivery

log = get_logger("loyalty.jobs.webhooks")
BUDGET_SECONDS = 50  # runs every minute: leave the next run its turn
SENDERS = 8  # subscriptions served at once
LOOK_AGAIN_SECONDS = 0.1


def deliver_webhooks(context: JobContext) -> dict[str, int]:
    counts = {"fanned_out": 0, "sent": 0, "delivered": 0, "retrying": 0, "dead": 0}
    started = time.monotonic()
    while True:
        with context.db.unit_of_work() as session:
            events, made = delivery.fan_out(session, now=utcnow())
        counts["fanned_out"] += made
        if not events or time.monotonic() - started > BUDGET_SECONDS:
            break
    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="webhooks") as pool:
        running: set[Future] = set()
        while True:
            # No new attempt after the budget: each lasts at most its deadline, so the run ends in time.
            if len(running) < SENDERS and time.monotonic() - started < BUDGET_SECONDS:
                with context.db.unit_of_work() as session:
                    messages = delivery.claim(session, now=utcnow(), limit=SENDERS - len(running))
                running |= {pool.submit(_attempt, context, message) for message in messages}
            if not running:
                break
            # A free sender looks again shortly even when none of its own attempts ended: a scheduler
            # process on another machine may have finished a subscription's delivery, making its next due.
            idle = len(running) < SENDERS and time.monotonic() - started < BUDGET_SECONDS
            done, running = wait(running, timeout=LOOK_AGAIN_SECONDS if idle else None, return_when=FIRST_COMPLETED)
            for future in done:
                counts["sent"] += 1
                counts[{"delivered": "delivered", "dead": "dead"}.get(future.result(), "retrying")] += 1
    log.info("webhooks_delivered", **counts)
    return counts


def _attempt(context: JobContext, message: delivery.Message) -> str:
    config = context.config
    result = delivery.send(
        message, now=utcnow(), allow_private=config.webhook_allow_private, seconds=config.webhook_attempt_seconds
    )
    with context.db.unit_of_work() as session:
        return delivery.record(session, message, result, now=utcnow())
