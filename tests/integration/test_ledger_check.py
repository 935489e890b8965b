"""`loyalty check` and the nightly `ledger.check`: a busy ledger balances; each kind of damage is named."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from loyalty.cli import main
from loyalty.core.models import JobRun
from loyalty.scheduler import run_job
from tests.clock import now, today
from tests.factories import create_member, post_order


@pytest.fixture
def check(database_url, db):
    def invoke():
        return CliRunner().invoke(
            main, ["check"], env={"LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"}, catch_exceptions=False
        )

    return invoke


@pytest.fixture
def busy(client, auth, db, database_url):
    """The demo's year of orders, plus a member who earns, holds, spends on an order, is refunded
    half of it (points and paid points come back), is adjusted, and has a hold still open."""
    assert CliRunner().invoke(main, ["demo"], env={"LOYALTY_DATABASE_URL": database_url}).exit_code == 0
    client.patch("/v1/program", json={"first_order_bonus": 50}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "lc-1", "400")
    spend = client.post(
        "/v1/redemptions",
        json={"member_id": member["id"], "points": 100, "order_id": "lc-2", "order_amount": "300.00", "capture": True},
        headers=auth("storefront"),
    )
    assert spend.status_code == 201, spend.get_json()
    post_order(client, auth, member["id"], "lc-2", "300", days_ago=20)
    refund = client.post(
        "/v1/orders/lc-2/refunds", json={"refund_id": "lc-2-r", "amount": "150.00"}, headers=auth("storefront")
    )
    assert refund.status_code == 201, refund.get_json()
    client.post(
        f"/v1/members/{member['id']}/adjustments", json={"points": -30, "reason": "test"}, headers=auth("staff")
    )
    assert (
        client.post(
            "/v1/redemptions", json={"member_id": member["id"], "points": 20}, headers=auth("storefront")
        ).status_code
        == 201
    )
    return member


def test_a_busy_ledger_balances(check, busy):
    result = check()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in ("balances", "lots", "debt", "holds", "sources", "orders", "refunds"):
        assert any(line.startswith(name) and " ok " in line for line in lines), result.output
    assert "ledger check passed" in result.output


@pytest.mark.parametrize(
    "damage, named",
    [
        ("UPDATE point_lots SET remaining = remaining + 5 WHERE id = (SELECT max(id) FROM point_lots)", "balances"),
        ("UPDATE point_lots SET remaining = -1 WHERE id = (SELECT min(id) FROM point_lots)", "lots"),
        ("UPDATE point_accounts SET debt = -3 WHERE member_id = (SELECT min(member_id) FROM point_accounts)", "debt"),
        ("UPDATE orders SET points_earned = points_earned + 1 WHERE order_id = 'lc-1'", "orders"),
        ("UPDATE refunds SET points_returned = points_returned + 1 WHERE refund_id = 'lc-2-r'", "refunds"),
        (
            "DELETE FROM redemption_allocations "
            "WHERE redemption_id IN (SELECT id FROM redemptions WHERE status = 'held')",
            "holds",
        ),
    ],
)
def test_damage_is_named_and_fails_the_check(check, busy, db, damage, named):
    with db.engine.begin() as connection:
        connection.execute(text(damage))
    result = check()
    assert result.exit_code == 1
    broken = [line for line in result.output.splitlines() if "MISMATCH" in line]
    assert any(line.startswith(named) for line in broken), result.output
    assert "ledger check failed: " in result.output and named in result.output.splitlines()[-1]


def test_the_nightly_job_shows_mismatches_in_metrics(client, db, config, busy):
    counts = run_job("ledger.check", db=db, config=config, as_of=today())
    assert counts["balances_mismatches"] == 0 and counts["balances_checked"] > 30
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE point_lots SET remaining = remaining + 5 WHERE id = (SELECT max(id) FROM point_lots)")
        )
    assert run_job("ledger.check", db=db, config=config, as_of=today())["balances_mismatches"] == 1
    with db.unit_of_work() as session:  # as the scheduler records a run
        session.add(
            JobRun(
                job="ledger.check",
                holder="test",
                as_of=today().isoformat(),
                started_at=now(),
                finished_at=now(),
                status="ok",
                counts={"balances_mismatches": 1, "lots_mismatches": 0},
            )
        )
    body = client.get("/metrics").get_data(as_text=True)
    assert 'loyalty_ledger_mismatches{check="balances"} 1.0' in body
    assert 'loyalty_ledger_mismatches{check="lots"} 0.0' in body
    assert 'loyalty_job_last_success_timestamp_seconds{job="ledger.check"}' in body
