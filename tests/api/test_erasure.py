"""Erasure that erases: after a full life (sign-up with an Idempotency-Key, orders, points, a coupon,
a referral, care and campaign touches sent and delivered to a webhook receiver, a complaint), a
dump of every column of every table holds nothing of the erased member."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import text
from werkzeug import Response

from loyalty.imports import order_staging
from loyalty.imports.source import Row
from loyalty.scheduler import run_job
from tests import clock
from tests.api.test_campaigns import job
from tests.api.test_care import ALL_IN, dispatch, local, plan, rule
from tests.api.test_referrals import TERMS
from tests.api.test_tiers import LADDER
from tests.factories import create_member, member_payload, post_order

MARKER = "zqxmarker"
PHONE_DIGITS = "13724681357"
EMAIL = f"{MARKER}.lin@example.com"


def dump(db) -> list[tuple[str, str]]:
    """(table, row as text) for every row of every table the database holds."""
    rows: list[tuple[str, str]] = []
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            tables = (
                connection.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                        "AND table_type = 'BASE TABLE'"
                    )
                )
                .scalars()
                .all()
            )
            for table in tables:
                rows += [(table, row) for row in connection.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()]
        else:
            tables = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars().all()
            for table in tables:
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    rows.append(
                        (
                            table,
                            " | ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row),
                        )
                    )
    assert {"members", "outbox_events", "idempotency_records", "webhook_attempts"} <= {t for t, _ in rows}
    return rows


def traces(db) -> list[tuple[str, str]]:
    needles = (MARKER, PHONE_DIGITS, EMAIL)
    return [(table, row) for table, row in dump(db) if any(n in row.casefold() for n in needles)]


def echoing_receiver(httpserver) -> list[dict]:
    """A receiver that answers with what it was sent, so the delivery log keeps an excerpt of it."""
    received: list[dict] = []

    def handle(request):
        received.append(json.loads(request.get_data()))
        return Response(request.get_data(), status=200, content_type="application/json")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handle)
    return received


def live_a_full_life(client, auth, db, config, httpserver) -> tuple[dict, str]:
    """The marked member, everywhere the service keeps something about a member; and the sign-up's key."""
    received = echoing_receiver(httpserver)
    hook = client.post(
        "/v1/webhooks",
        json={
            "url": httpserver.url_for("/hook"),
            "events": ["member.created", "touch.due", "order.points_awarded", "tier.changed", "redemption.captured"],
        },
        headers=auth(),
    )
    assert hook.status_code == 201, hook.get_json()
    assert client.patch("/v1/program", json={"referral": TERMS}, headers=auth()).status_code == 200
    rule(
        client,
        auth,
        "birthday",
        days_before=3,
        channel="email",
        template="Dear {{ name }}, happy birthday from {{ name }}'s shop",
    )
    payload = member_payload(
        name=f"Lin {MARKER.title()}",
        email=EMAIL.upper(),
        phone="+86 137 2468 1357",
        external_id=f"ext-{MARKER}",
        city=f"{MARKER}ville",
        occupation=f"{MARKER} keeper",
        tags=[f"{MARKER} tag"],
        birthday="1990-12-01",
        consent=ALL_IN,
    )
    signed_up = client.post("/v1/members", json=payload, headers={**auth("staff"), "Idempotency-Key": "k-signup"})
    assert signed_up.status_code == 201, signed_up.get_json()
    member = signed_up.get_json()
    post_order(client, auth, member["id"], f"order-1-{member['id']}", "500")
    credit = client.post(
        f"/v1/members/{member['id']}/adjustments",
        headers=auth("staff"),
        json={"points": 1000, "reason": f"goodwill for {payload['name']}", "note": EMAIL},
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
    reversed_ = client.post(
        f"/v1/redemptions/{redeemed.get_json()['id']}/reverse",
        json={"reason": f"{payload['name']} changed their mind"},
        headers=auth("staff"),
    )
    assert reversed_.status_code == 200, reversed_.get_json()
    code = client.get(f"/v1/members/{member['id']}/referral", headers=auth("storefront")).get_json()["code"]
    create_member(client, auth, referral_code=code)
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    floor = client.post(
        f"/v1/members/{member['id']}/tier",
        headers=auth("staff"),
        json={"tier": "gold", "until": "2027-06-30", "reason": f"asked by {payload['name']} on {PHONE_DIGITS}"},
    )
    assert floor.status_code == 200, floor.get_json()
    complaint = client.post(
        f"/v1/members/{member['id']}/interactions",
        headers=auth("staff"),
        json={
            "kind": "complaint",
            "channel": "phone",
            "assignee": "amy",
            "content": f"{payload['name']} ({PHONE_DIGITS}, {EMAIL}) says the tea arrived broken",
        },
    )
    assert complaint.status_code == 201, complaint.get_json()
    [callback] = client.get("/v1/callbacks?assignee=amy", headers=auth("staff")).get_json()["data"]
    done = client.post(
        f"/v1/care/touches/{callback['id']}/outcome",
        headers=auth("staff"),
        json={"outcome": "reached", "score": 4, "notes": f"spoke to {payload['name']}"},
    )
    assert done.status_code == 200, done.get_json()
    resolved = client.post(
        f"/v1/interactions/{complaint.get_json()['id']}/resolve",
        headers=auth("staff"),
        json={"resolution": f"sent {payload['name']} a new pot", "goodwill_points": 50},
    )
    assert resolved.status_code == 200, resolved.get_json()
    everyone = client.post("/v1/segments", json={"name": "all", "filters": {}}, headers=auth("staff")).get_json()
    campaign = client.post(
        "/v1/campaigns",
        headers=auth("staff"),
        json={
            "name": "hello",
            "segment_id": everyone["id"],
            "channel": "email",
            "send_rate": 100,
            "template": "{{ name }}, come back",
        },
    ).get_json()
    assert client.post(f"/v1/campaigns/{campaign['id']}/launch", headers=auth("staff")).status_code == 200
    at = local(date(2026, 11, 28), 10) + timedelta(minutes=1)
    assert plan(db, config, date(2026, 11, 27))["birthday"] >= 1
    assert job(db, config, "campaigns.run", at)["touches"] >= 1
    assert dispatch(db, config, at)["sent"] >= 2  # the birthday and the campaign, rendered with the name
    assert run_job("webhooks.deliver", db=db, config=config, as_of=at.date()).get("delivered", 0) >= 1
    sent = [event for event in received if event["type"] == "touch.due"]
    assert sent and any(MARKER in json.dumps(event).casefold() for event in sent)
    leave_a_killed_order_import(db, config)
    assert traces(db), "the flow must have spread the marker around, or the test proves nothing"
    return member, json.dumps(payload)


def leave_a_killed_order_import(db, config) -> None:
    """An `import orders` run killed after reading: its staged lines stay behind, a good one and a
    rejected one, both naming the member by email in the cells as read."""
    header = ["order_id", "email", "placed_at", "sku", "quantity", "unit_price"]
    cells = [
        ["imp-1", EMAIL.upper(), "2026-10-01 10:00", "TEA", "1", "20.00"],
        ["imp-2", EMAIL, "2026-10-02 10:00", "TEA", "many", "20.00"],
    ]
    rows = [Row(line=number, values=dict(zip(header, row)), raw=row) for number, row in enumerate(cells, start=2)]
    with db.unit_of_work() as session:
        rejected = order_staging.stage_batch(
            session, rows, run="killed-run", now=clock.now(), region="CN", zone=config.program_timezone
        )
    assert rejected == 1


def test_after_erasure_the_whole_database_holds_nothing_of_the_member(client, auth, db, config, httpserver):
    member, _ = live_a_full_life(client, auth, db, config, httpserver)
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("staff")).status_code == 204
    assert traces(db) == []
    # The ledger stays, anonymised: the balance still adds up.
    assert client.get(f"/v1/members/{member['id']}/ledger", headers=auth("staff")).get_json()["data"]


def test_a_replayed_sign_up_and_a_replayed_delivery_say_erased(client, auth, db, config, httpserver):
    member, payload = live_a_full_life(client, auth, db, config, httpserver)
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("staff")).status_code == 204
    replayed = client.post(
        "/v1/members",
        data=payload,
        content_type="application/json",
        headers={**auth("staff"), "Idempotency-Key": "k-signup"},
    )
    assert replayed.status_code == 409 and replayed.get_json()["code"] == "member_erased"
    assert MARKER not in replayed.get_data(as_text=True).casefold()
    subscription = client.get("/v1/webhooks", headers=auth()).get_json()["data"][0]
    log = client.get(f"/v1/webhooks/{subscription['id']}/deliveries?limit=100", headers=auth()).get_json()["data"]
    with db.engine.connect() as connection:
        about = set(
            connection.execute(text("SELECT id FROM outbox_events WHERE member_id = :m"), {"m": member["id"]}).scalars()
        )
    theirs = [d for d in log if d["event_id"] in about]
    assert theirs and MARKER not in json.dumps(log).casefold()
    for delivery in theirs:
        refused = client.post(f"/v1/webhooks/deliveries/{delivery['id']}/replay", headers=auth())
        assert refused.status_code == 409 and refused.get_json()["code"] == "member_erased"
    others = [d for d in log if d["event_id"] not in about]
    if others:  # a delivery about someone else still replays
        assert client.post(f"/v1/webhooks/deliveries/{others[0]['id']}/replay", headers=auth()).status_code == 200


def test_erasing_a_survivor_erases_the_duplicates_merged_into_it(client, auth, db, config, httpserver):
    duplicate, payload = live_a_full_life(client, auth, db, config, httpserver)
    survivor = create_member(client, auth)
    merged = client.post(
        f"/v1/members/{survivor['id']}/merge", json={"member_id": duplicate["id"]}, headers=auth("staff")
    )
    assert merged.status_code == 200, merged.get_json()
    assert client.delete(f"/v1/members/{survivor['id']}", headers=auth("staff")).status_code == 204
    assert traces(db) == []  # the duplicate's sign-up response, events, touches and complaints too
    replayed = client.post(
        "/v1/members",
        data=payload,
        content_type="application/json",
        headers={**auth("staff"), "Idempotency-Key": "k-signup"},
    )
    assert replayed.status_code == 409 and replayed.get_json()["code"] == "member_erased"
    callbacks = client.get("/v1/callbacks?limit=100", headers=auth("staff")).get_json()["data"]
    assert MARKER not in json.dumps(callbacks).casefold()


def test_an_erased_members_open_callbacks_leave_the_call_list(client, auth):
    member = create_member(client, auth)
    assert (
        client.post(
            f"/v1/members/{member['id']}/interactions",
            json={"kind": "complaint", "content": "late"},
            headers=auth("staff"),
        ).status_code
        == 201
    )
    open_before = client.get("/v1/callbacks?limit=100", headers=auth("staff")).get_json()["data"]
    assert [c for c in open_before if c["member_id"] == member["id"]]
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("staff")).status_code == 204
    calls = client.get("/v1/callbacks?limit=100", headers=auth("staff")).get_json()["data"]
    assert not [c for c in calls if c["member_id"] == member["id"]]
    touches = client.get(f"/v1/care/touches?member_id={member['id']}", headers=auth("staff")).get_json()["data"]
    assert touches and all(t["status"] == "suppressed" and t["reason"] == "member_erased" for t in touches)
