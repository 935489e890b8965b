"""Two qualification runs at once reward each referral once, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from loyalty.core.db import Database
from loyalty.points.models import LedgerEntry
from loyalty.referrals.models import Referral
from loyalty.scheduler import run_job
from loyalty.webhooks.models import OutboxEvent
from tests.clock import now, today
from tests.factories import create_member, post_order


def test_two_qualification_runs_at_once_reward_once(database_url, client, auth, db, config):
    client.patch(
        "/v1/program",
        json={"referral": {"referrer_points": 300, "referee_points": 100, "monthly_cap": 4}},
        headers=auth(),
    )
    referrer = create_member(client, auth)
    code = client.get(f"/v1/members/{referrer['id']}/referral", headers=auth("staff")).get_json()["code"]
    friends = [create_member(client, auth, referral_code=code) for _ in range(6)]
    for friend in friends:
        post_order(client, auth, friend["id"], f"ref-{friend['id']}", "50", days_ago=0)
    results: list = []
    with time_machine.travel(now() + timedelta(days=15), tick=False):

        def run():
            database = Database(database_url)
            try:
                results.append(run_job("referrals.qualify", db=database, config=config, as_of=today()))
            finally:
                database.dispose()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(results) == 2 and sum(r["qualified"] for r in results) == 4, results
    assert sum(r["rejected"] for r in results) == 2
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Referral).where(Referral.status == "qualified")) == 4
        referrer_bonus = session.scalars(
            select(LedgerEntry.points).where(
                LedgerEntry.member_id == referrer["id"],
                LedgerEntry.kind == "bonus",
                LedgerEntry.source_type == "referral",
            )
        ).all()
        assert referrer_bonus == [300] * 4  # the monthly cap held across both runs
        assert (
            session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "referral.qualified")
            )
            == 4
        )
