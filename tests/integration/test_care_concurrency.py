"""Two planners and two dispatchers at once: every touch planned once and sent once."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from loyalty.care.models import Touch
from loyalty.core.db import Database
from loyalty.scheduler import run_job
from loyalty.webhooks.models import OutboxEvent
from tests.api.test_care import ALL_IN, SHANGHAI, rule
from tests.factories import create_member


def _twice(database_url, config, name, day, at):
    results: list = []

    def run():
        database = Database(database_url)
        try:
            results.append(run_job(name, db=database, config=config, as_of=day))
        finally:
            database.dispose()

    with time_machine.travel(at, tick=False):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    return results


def test_two_planners_and_two_dispatchers_at_once(database_url, client, auth, db, config):
    rule(client, auth, "holiday", days_before=0, custom_dates=[{"date": "08-08", "name": "Tea day"}])
    for _ in range(30):
        create_member(client, auth, consent=ALL_IN)
    day = date(2026, 8, 8)
    morning = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=1)
    planned = _twice(database_url, config, "care.plan", day, morning)
    assert len(planned) == 2 and sum(r.get("holiday", 0) for r in planned) == 30, planned
    sent = _twice(database_url, config, "care.dispatch", day, morning + timedelta(hours=10))
    assert sum(r.get("sent", 0) for r in sent) == 30, sent
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Touch)) == 30
        assert (
            session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "touch.due")) == 30
        )
