"""One source of truth for lifecycle stage and churn risk, kept in two forms.

insights.refresh figures a million members in a few set-based statements, so the rules run there
in SQL (insights/figures.py); insights/rules.py states them for one member, in Python, where
they are read and tested. This test keeps the two equal: it gives generated members order
histories, runs the job on this database, and demands that every member's stored stage and churn
risk are what the pure rules say about the same orders at the same instant. Boundaries (exactly
twice or 1.5 times the usual interval, exactly 90 days a customer, a rounding half) are included
on purpose: that is where floating-point days in SQL and exact durations in Python could part.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from loyalty.insights import rules
from loyalty.insights.models import MemberInsight
from loyalty.scheduler import run_job
from tests.clock import NOW, today
from tests.factories import create_member

DAY = timedelta(days=1)
# Histories on exact day counts, each sitting on one of the rules' edges (days before now).
EDGES = [
    [40, 30, 20],  # last order exactly twice the usual interval ago: at risk, not yet lapsed
    [35, 25, 15],  # exactly 1.5 times: still active
    [90],  # a single order exactly 90 days ago: still new
    [180],  # a single order exactly twice the assumed 90 days ago
    [85, 45],  # churn risk 5 / 80 = 0.0625: a half at the third decimal
    [61, 41, 21, 1],  # 1 / 40 = 0.025
    [10, 10],  # two orders at one instant: the single-order interval
    [0.5, 0.375, 0.25],  # orders hours apart: the usual interval is at least a day
    [400, 399, 398],  # long lapsed
    [0],  # ordered just now
]


def _histories(rng: random.Random, count: int) -> list[list[timedelta]]:
    """How long before now each member's orders were placed: none, one, a rhythm with jitter, or scattered."""
    histories: list[list[timedelta]] = [[timedelta(days=d) for d in edge] for edge in EDGES]
    for _ in range(count):
        shape = rng.choice(["none", "one", "rhythm", "scatter"])
        if shape == "none":
            histories.append([])
        elif shape == "one":
            histories.append([timedelta(seconds=rng.randint(0, 400 * 86400))])
        elif shape == "rhythm":
            every, since = rng.randint(3, 60), rng.randint(0, 200 * 86400)
            histories.append(
                [
                    timedelta(seconds=since + n * every * 86400 + rng.randint(-3600, 3600))
                    for n in range(rng.randint(2, 6))
                ]
            )
        else:
            histories.append([timedelta(seconds=rng.randint(0, 500 * 86400)) for _ in range(rng.randint(2, 5))])
    return [[max(ago, timedelta(0)) for ago in history] for history in histories]


@pytest.mark.parametrize("seed", [16, 2026])
def test_the_job_and_the_pure_rules_give_every_member_the_same_stage_and_risk(
    client, auth, db, config, pinned_clock, seed
):
    pinned_clock.move_to(NOW, tick=False)  # the job's "now" is then exactly the instant histories count from
    placed: dict[str, list[datetime]] = {}
    for number, history in enumerate(_histories(random.Random(seed), count=20)):
        member_id = create_member(client, auth)["id"]
        placed[member_id] = [NOW - ago for ago in history]
        for index, at in enumerate(placed[member_id]):
            response = client.post(
                "/v1/orders",
                headers=auth("storefront"),
                json={
                    "order_id": f"agree-{number}-{index}",
                    "member_id": member_id,
                    "placed_at": at.isoformat(),
                    "items": [{"sku": "tea-1", "category": "tea", "quantity": 1, "unit_price": "20.00"}],
                },
            )
            assert response.status_code == 201, response.get_json()
    run_job("insights.refresh", db=db, config=config, as_of=today())
    with db.sessions() as session:
        stored = {
            row.member_id: row
            for row in session.scalars(select(MemberInsight).where(MemberInsight.member_id.in_(placed)))
        }
    assert set(stored) == set(placed)
    disagreements = []
    for member_id, orders in placed.items():
        row = stored[member_id]
        facts = dict(
            first=min(orders, default=None), last=max(orders, default=None), orders=len(orders), now=row.refreshed_at
        )
        expected = (rules.stage(**facts), rules.churn_risk(**facts))
        if (row.orders_total, row.stage, row.churn_risk) != (len(orders), *expected):
            disagreements.append(
                (sorted((NOW - at) / DAY for at in orders), expected, (row.orders_total, row.stage, row.churn_risk))
            )
    assert row.refreshed_at == NOW.astimezone(UTC)
    assert not disagreements, disagreements
