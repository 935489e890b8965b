"""No personal data in logs: a full flow with every log line captured, scanned for the members'
names, emails and phones; and a database's unique-violation detail ("Key (email)=(...) already
exists") never reaches a log line or job_runs.error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_smorest import Blueprint
from sqlalchemy import select

from loyalty import create_app
from loyalty.core.auth import requires
from loyalty.core.db import utcnow
from loyalty.core.jobs import Job, JobContext
from loyalty.core.logging import configure_logging
from loyalty.core.models import JobRun
from loyalty.core.web import request_session
from loyalty.members.models import Member
from loyalty.scheduler import JOBS, Scheduler
from tests.clock import now
from tests.factories import member_payload, order_payload

PEOPLE = [
    {"name": "Qiao Wenyuanzz", "email": "Qiao.Wenyuanzz@Example.com", "phone": "+86 136 1111 2222"},
    {"name": "Lu Xinyizz", "email": "lu.xinyizz@example.org", "phone": "136-3333-4444"},
]
NEEDLES = [
    "qiao wenyuanzz",
    "wenyuanzz",
    "qiao.wenyuanzz@example.com",
    "+8613611112222",
    "13611112222",
    "136 1111 2222",
    "lu xinyizz",
    "xinyizz",
    "lu.xinyizz@example.org",
    "+8613633334444",
    "13633334444",
    "136-3333-4444",
]
DUPLICATE_EMAIL = "dup.secretzz@example.net"


def personal_lines(captured: str) -> list[str]:
    return [line for line in captured.splitlines() if any(n in line.casefold() for n in NEEDLES + [DUPLICATE_EMAIL])]


def _insert_duplicate(session) -> None:
    """Write a member whose email is taken, past the service's duplicate check: a raw unique violation."""
    stamp = utcnow()
    session.add(
        Member(
            id=f"mbr_dup{stamp.microsecond}",
            member_number=f"9{stamp.microsecond:011d}",
            consent={},
            status="active",
            email=DUPLICATE_EMAIL,
            enrolled_at=stamp,
            updated_at=stamp,
        )
    )
    session.flush()


def duplicate_job(context: JobContext) -> dict[str, int]:
    with context.db.unit_of_work() as session:
        _insert_duplicate(session)
    return {}


def talkative_job(context: JobContext) -> dict[str, int]:
    raise ValueError(f"no such customer: {DUPLICATE_EMAIL}")  # any exception's text may name someone


def test_a_full_flow_logs_nobodys_name_email_or_phone(database_url, auth, db, config, capfd):
    from tests.conftest import make_config

    client = create_app(make_config(database_url), database=db).test_client()  # logging to the captured stderr
    staff = auth("staff")
    first = client.post("/v1/members", json=member_payload(**PEOPLE[0]), headers={**staff, "Idempotency-Key": "s1"})
    assert first.status_code == 201, first.get_json()
    member = first.get_json()
    second = client.post("/v1/members", json=member_payload(**PEOPLE[1]), headers=staff).get_json()
    changed = client.patch(
        f"/v1/members/{second['id']}", json={"name": "Lu Xinyizz Jr", "city": "Xinyizz town"}, headers=staff
    )
    assert changed.status_code == 200, changed.get_json()
    order = client.post("/v1/orders", json=order_payload(member["id"], "lp-1", "800"), headers=auth("storefront"))
    assert order.status_code == 201, order.get_json()
    refund = client.post(
        "/v1/orders/lp-1/refunds", json={"refund_id": "lp-r1", "amount": "100"}, headers=auth("storefront")
    )
    assert refund.status_code in (200, 201), refund.get_json()
    credit = client.post(
        f"/v1/members/{member['id']}/adjustments", json={"points": 500, "reason": "welcome"}, headers=staff
    )
    assert credit.status_code == 201, credit.get_json()
    reward = client.post(
        "/v1/rewards", json={"name": "Ten off", "kind": "amount_off", "value": "10", "points_cost": 100}, headers=auth()
    ).get_json()
    redeemed = client.post(
        "/v1/redemptions",
        json={"member_id": member["id"], "reward_id": reward["id"], "capture": True},
        headers=auth("pos"),
    )
    assert redeemed.status_code == 201, redeemed.get_json()
    complaint = client.post(
        f"/v1/members/{member['id']}/interactions",
        headers=staff,
        json={
            "kind": "complaint",
            "channel": "phone",
            "content": "Qiao Wenyuanzz says the pot leaks",
            "assignee": "amy",
        },
    )
    assert complaint.status_code == 201, complaint.get_json()
    [callback] = client.get("/v1/callbacks?assignee=amy", headers=staff).get_json()["data"]
    assert (
        client.post(
            f"/v1/care/touches/{callback['id']}/outcome",
            headers=staff,
            json={"outcome": "reached", "notes": "called 13611112222"},
        ).status_code
        == 200
    )
    duplicate = client.post("/v1/members", json=member_payload(email=PEOPLE[1]["email"].upper()), headers=staff)
    assert duplicate.status_code == 409
    for query in ("q=Qiao%20Wenyuanzz", f"email={PEOPLE[1]['email']}", "phone=13633334444"):
        client.get(f"/v1/members?{query}", headers=staff)  # found by a query string: paths are logged, not queries
    assert client.delete(f"/v1/members/{member['id']}", headers=staff).status_code == 204
    from loyalty.scheduler import run_job

    run_job("insights.refresh", db=db, config=config, as_of=(now() - timedelta(days=1)).date())
    captured = capfd.readouterr()
    assert '"event": "request"' in captured.err  # the capture works: request lines are there
    assert personal_lines(captured.err + captured.out) == []


def test_a_unique_violation_in_a_request_logs_its_type_and_constraint_never_the_value(database_url, db, auth, capfd):
    from tests.conftest import make_config

    app = create_app(make_config(database_url), database=db)
    blp = Blueprint("dup", __name__, url_prefix="/v1/dup")

    @blp.route("", methods=["POST"])
    @requires("staff")
    def dup():
        """Writes a member whose email is taken, past the service's duplicate check"""
        _insert_duplicate(request_session())
        _insert_duplicate(request_session())

    app.extensions["loyalty.api"].register_blueprint(blp)
    response = app.test_client().post("/v1/dup", headers=auth("staff"))
    assert response.status_code == 500 and DUPLICATE_EMAIL not in response.get_data(as_text=True)
    logged = capfd.readouterr().err
    assert "IntegrityError" in logged and "unhandled_exception" in logged
    if db.engine.dialect.name == "postgresql":
        assert "UniqueViolation" in logged and "constraint" in logged
    assert personal_lines(logged) == []


@pytest.mark.parametrize("target, error", [("duplicate_job", "IntegrityError"), ("talkative_job", "ValueError")])
def test_a_unique_violation_in_a_job_is_recorded_without_the_value(db, config, monkeypatch, capfd, target, error):
    configure_logging()  # to the captured stderr
    monkeypatch.setitem(
        JOBS, "test.duplicate", Job("test.duplicate", f"{__name__}:{target}", "* * * * *", "fails naming someone")
    )
    with db.unit_of_work() as session:
        _insert_duplicate(session)
    Scheduler(db=db, config=config).run("test.duplicate")
    with db.unit_of_work() as session:
        run = session.scalars(select(JobRun).where(JobRun.job == "test.duplicate")).one()
        assert run.status == "failed" and run.error.startswith(error), run.error
        assert DUPLICATE_EMAIL not in run.error and "already exists" not in run.error
        if db.engine.dialect.name == "postgresql" and target == "duplicate_job":
            assert "constraint" in run.error, run.error
    logged = capfd.readouterr().err
    assert "job_failed" in logged and personal_lines(logged) == []
