from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import func, select

from loyalty.points.models import ExpiryNotice, LedgerEntry
from loyalty.scheduler import run_job
from tests.factories import balance, create_member, ledger, post_order


def test_points_expire_once_when_due_and_are_noticed_30_days_ahead(client, auth, db, config):
    client.patch("/v1/program", json={"expiry_months": 1, "pending_days": 0}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "e-1", "100", days_ago=0)
    expires = datetime.fromisoformat(ledger(client, auth, member["id"])[0]["expires_at"])

    with time_machine.travel(expires - timedelta(days=10), tick=False):
        soon = balance(client, auth, member["id"])["expiring_soon"]
        assert soon == [{"points": 100, "expires_at": expires.isoformat()}]
        counts = run_job("points.expire", db=db, config=config, as_of=(expires - timedelta(days=10)).date())
        assert counts == {"lots_expired": 0, "points_expired": 0, "expiring_notices": 1}
        again = run_job("points.expire", db=db, config=config, as_of=(expires - timedelta(days=10)).date())
        assert again["expiring_notices"] == 0

    with time_machine.travel(expires + timedelta(hours=1), tick=False):
        # Expired points can't be spent even before the job has run.
        assert balance(client, auth, member["id"])["available"] == 0
        day = (expires + timedelta(hours=1)).date()
        assert run_job("points.expire", db=db, config=config, as_of=day) == {
            "lots_expired": 1,
            "points_expired": 100,
            "expiring_notices": 0,
        }
        assert run_job("points.expire", db=db, config=config, as_of=day)["lots_expired"] == 0
        entries = ledger(client, auth, member["id"])
        assert [(e["kind"], e["points"]) for e in entries] == [("expire", -100), ("earn", 100)]
        assert entries[0]["source"]["type"] == "lot"
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ExpiryNotice)) == 1


def test_expiry_as_of_an_earlier_date_leaves_later_lots_alone(client, auth, db, config):
    client.patch("/v1/program", json={"expiry_months": 1}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "e-2", "100", days_ago=0)
    expires = datetime.fromisoformat(ledger(client, auth, member["id"])[0]["expires_at"])
    with time_machine.travel(expires + timedelta(days=3), tick=False):
        early = run_job("points.expire", db=db, config=config, as_of=(expires - timedelta(days=2)).date())
        assert early["lots_expired"] == 0
        assert (
            run_job("points.expire", db=db, config=config, as_of=(expires + timedelta(days=2)).date())["lots_expired"]
            == 1
        )


def test_held_points_whose_lot_expires_expire_when_the_hold_ends(client, auth, db, config):
    client.patch("/v1/program", json={"expiry_months": 1, "pending_days": 0, "hold_minutes": 1440}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "e-3", "100", days_ago=0)
    expires = datetime.fromisoformat(ledger(client, auth, member["id"])[0]["expires_at"])
    with time_machine.travel(expires - timedelta(hours=1), tick=False):
        held = client.post(
            "/v1/redemptions", json={"member_id": member["id"], "points": 60}, headers=auth("pos")
        ).get_json()
    with time_machine.travel(expires + timedelta(hours=1), tick=False):
        run_job("points.expire", db=db, config=config, as_of=(expires + timedelta(hours=1)).date())
        client.post(f"/v1/redemptions/{held['id']}/cancel", headers=auth("pos"))
        assert balance(client, auth, member["id"])["available"] == 0
        assert sum(e["points"] for e in ledger(client, auth, member["id"])) == 0
    with db.unit_of_work() as session:
        kinds = sorted(session.scalars(select(LedgerEntry.source_type).where(LedgerEntry.kind == "expire")))
    assert kinds == ["lot", "redemption"]


def test_the_database_refuses_a_second_entry_of_a_kind_for_one_source(db):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from loyalty.core.db import utcnow
    from loyalty.members.models import Member

    with db.unit_of_work() as session:
        session.add(
            Member(
                id="mbr_u",
                member_number="000000000018",
                consent={},
                status="active",
                enrolled_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    row = dict(member_id="mbr_u", kind="earn", points=5, created_at=utcnow(), source_type="order", source_id="o")
    with db.unit_of_work() as session:
        session.add(LedgerEntry(**row))
    with pytest.raises(IntegrityError):
        with db.unit_of_work() as session:
            session.add(LedgerEntry(**row))
