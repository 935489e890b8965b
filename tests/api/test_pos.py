"""The POS lookup: every identifier kind, one read, no read at all for a mistyped number."""

from __future__ import annotations

from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import event

from loyalty.core.ids import luhn_check_digit
from loyalty.points.models import PointAccount
from loyalty.scheduler import run_job
from tests.api.test_tiers import LADDER
from tests.clock import today
from tests.factories import create_member, post_order


@pytest.fixture
def member(client, auth):
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    member = create_member(
        client, auth, name="Lin Mei", phone="+86 139 1234 5678", birthday=today().replace(year=1990, day=1).isoformat()
    )
    post_order(client, auth, member["id"], "pos-seed", "2500")  # silver, 2500 points matured
    return member


def lookup(client, auth, identifier, role="pos"):
    return client.get(f"/v1/pos/members/{identifier}", headers=auth(role))


@contextmanager
def statements(db):
    """Every statement sent: through SQLAlchemy, and straight through the driver (the lookup's own
    prepared statement on PostgreSQL, core/prepared_read.py)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sent_by_driver = psycopg.Cursor.execute

    def execute(cursor, query, params=None, *, prepare=None, **kwargs):
        if prepare:  # SQLAlchemy never asks for it: psycopg prepares its statements by itself
            seen.append(str(query))
        return sent_by_driver(cursor, query, params, prepare=prepare, **kwargs)

    event.listen(db.engine, "before_cursor_execute", record)
    psycopg.Cursor.execute = execute
    try:
        yield seen
    finally:
        psycopg.Cursor.execute = sent_by_driver
        event.remove(db.engine, "before_cursor_execute", record)


def test_found_by_member_number_with_tier_discount_points_and_flags(client, auth, member, db):
    lookup(client, auth, member["member_number"])  # warms the key and ladder caches
    with statements(db) as seen:
        response = lookup(client, auth, member["member_number"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == {
        "member_id": member["id"],
        "member_number": member["member_number"],
        "display_name": "Lin Mei",
        "status": "active",
        "tier": "silver",
        "discount_percent": "3",
        "available_points": 2500,
        "points_value": "25.00",
        "currency": "CNY",
        "flags": {"birthday_this_month": True, "reward_ready": False, "can_redeem": True},
    }
    member_reads = [s for s in seen if "members" in s]
    assert len(member_reads) == 1, seen  # one statement answers it all


def test_a_change_after_the_balances_were_counted_is_seen_by_the_next_lookup(client, auth, member, db, config):
    """The lookup reads the stored balance (points.balances) while it holds; every change of points
    sets it aside in the change's own transaction, so no till is shown points already spent."""
    assert run_job("points.balances", db=db, config=config, as_of=today())["balances_counted"] == 1
    with db.unit_of_work() as session:
        assert session.get(PointAccount, member["id"]).balance == 2500
    assert lookup(client, auth, member["member_number"]).get_json()["available_points"] == 2500
    spent = client.post(
        "/v1/redemptions", json={"member_id": member["id"], "points": 700, "capture": True}, headers=auth("pos")
    )
    assert spent.status_code == 201, spent.get_json()
    assert lookup(client, auth, member["member_number"]).get_json()["available_points"] == 1800
    taken = client.post(
        f"/v1/members/{member['id']}/adjustments", json={"points": -300, "reason": "t"}, headers=auth("staff")
    )
    assert taken.status_code == 201, taken.get_json()
    assert lookup(client, auth, member["phone"]).get_json()["available_points"] == 1500


@pytest.mark.parametrize(
    "phone",
    ["+8613912345678", "+86 139 1234 5678", "139-1234-5678", "13912345678", "(139) 1234 5678", "+86.139.1234.5678"],
)
def test_found_by_phone_in_any_common_format(client, auth, member, phone):
    response = lookup(client, auth, phone)
    assert response.status_code == 200 and response.get_json()["member_id"] == member["id"]


def test_a_keyed_number_with_spaces_is_read_as_the_card_number(client, auth, member):
    number = member["member_number"]
    assert lookup(client, auth, f"{number[:4]} {number[4:8]} {number[8:]}").get_json()["member_id"] == member["id"]


def test_a_wrong_check_digit_is_404_without_reading_the_database(client, auth, member, db):
    number = member["member_number"]
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    lookup(client, auth, number)
    with statements(db) as seen:
        response = lookup(client, auth, wrong)
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert not [s for s in seen if "members" in s or "coupons" in s], seen


@pytest.mark.parametrize("identifier", ["nobody", "12345", "++", "ZZZZZZZZZZZZ", "9" * 40, "ابج"])
def test_nonsense_is_404(client, auth, member, identifier):
    assert lookup(client, auth, identifier).status_code == 404


def test_a_nul_in_the_path_is_a_bad_request(client, auth, member):
    assert lookup(client, auth, "%00").status_code == 400


def test_an_unknown_valid_number_is_404(client, auth, member):
    payload = "99999999999"
    assert lookup(client, auth, payload + str(luhn_check_digit(payload))).status_code == 404


def test_found_by_coupon_code_and_the_reward_ready_flag(client, auth, member):
    reward = client.post(
        "/v1/rewards", json={"name": "Tea cup", "kind": "gift", "points_cost": 300}, headers=auth()
    ).get_json()
    coupon = client.post(
        "/v1/redemptions",
        json={"member_id": member["id"], "reward_id": reward["id"], "capture": True},
        headers=auth("pos"),
    ).get_json()["coupon_code"]
    body = lookup(client, auth, coupon.lower()).get_json()
    assert body["member_id"] == member["id"] and body["flags"]["reward_ready"] is True
    assert body["available_points"] == 2200
    assert client.post(f"/v1/coupons/{coupon}/use", headers=auth("pos")).status_code == 200
    assert lookup(client, auth, member["member_number"]).get_json()["flags"]["reward_ready"] is False


def test_a_blocked_member_is_answered_with_status_and_no_discount(client, auth, member):
    assert (
        client.patch(f"/v1/members/{member['id']}", json={"status": "blocked"}, headers=auth("staff")).status_code
        == 200
    )
    body = lookup(client, auth, member["member_number"]).get_json()
    assert body["status"] == "blocked" and body["discount_percent"] == "0" and body["available_points"] == 0
    assert body["flags"]["can_redeem"] is False


def test_a_merged_card_finds_the_survivor(client, auth, member):
    other = create_member(client, auth, email="x@example.com", phone="+8613700000009", external_id="x-9")
    assert (
        client.post(
            f"/v1/members/{member['id']}/merge", json={"member_id": other["id"]}, headers=auth("staff")
        ).status_code
        == 200
    )
    assert lookup(client, auth, other["member_number"]).get_json()["member_id"] == member["id"]


def test_the_pos_key_is_enough_and_storefront_is_not(client, auth, member):
    assert lookup(client, auth, member["member_number"], role="staff").status_code == 200
    assert lookup(client, auth, member["member_number"], role="storefront").status_code == 403
    assert client.get(f"/v1/pos/members/{member['member_number']}").status_code == 401


def test_full_width_digits_landlines_and_written_out_coupons(client, auth, member):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in member["member_number"])
    assert lookup(client, auth, full_width).get_json()["member_id"] == member["id"]
    assert lookup(client, auth, "１３９１２３４５６７８").get_json()["member_id"] == member["id"]
    assert lookup(client, auth, "(+86) 139-1234-5678").get_json()["member_id"] == member["id"]
    landline = create_member(client, auth, phone="0755 2345 6789", email="l@example.com", external_id="l-1")
    for written in ("0755 2345 6789", "0755-2345-6789", "075523456789"):
        assert lookup(client, auth, written).get_json()["member_id"] == landline["id"], written
    reward = client.post(
        "/v1/rewards", json={"name": "Cup", "kind": "gift", "points_cost": 10}, headers=auth()
    ).get_json()
    coupon = client.post(
        "/v1/redemptions",
        json={"member_id": member["id"], "reward_id": reward["id"], "capture": True},
        headers=auth("pos"),
    ).get_json()["coupon_code"]
    dashed = f"{coupon[:4]}-{coupon[4:8]}-{coupon[8:]}".lower()
    assert lookup(client, auth, dashed).get_json()["member_id"] == member["id"]


def test_the_answer_built_without_marshmallow_is_what_the_documented_schema_gives(client, auth, member):
    """The lookup writes its answer directly (no schema dump on the till's hot path): it must be
    exactly what PosMemberSchema would answer for the same values, for each kind of member."""
    from datetime import timedelta
    from decimal import Decimal

    from loyalty.pos.schemas import PosMemberSchema

    schema = PosMemberSchema()
    ladder = [*LADDER[:2], {**LADDER[2], "discount_percent": "7.50"}]  # answered as "7.5"
    assert client.put("/v1/tiers", json={"tiers": ladder}, headers=auth()).status_code == 200
    bare = create_member(client, auth)  # no name, no tier, no points
    gold = create_member(client, auth, name="Gold One")
    until = (today() + timedelta(days=30)).isoformat()
    floor = {"tier": "gold", "until": until, "reason": "test"}
    assert client.post(f"/v1/members/{gold['id']}/tier", json=floor, headers=auth("staff")).status_code == 200
    blocked = create_member(client, auth, name="Blocked One")
    patched = client.patch(f"/v1/members/{blocked['id']}", json={"status": "blocked"}, headers=auth("staff"))
    assert patched.status_code == 200
    assert lookup(client, auth, gold["member_number"]).get_json()["discount_percent"] == "7.5"
    for someone in (member, bare, gold, blocked):
        body = lookup(client, auth, someone["member_number"]).get_json()
        assert set(body) == set(schema.fields)
        typed = {
            **body,
            "discount_percent": Decimal(body["discount_percent"]),
            "points_value": Decimal(body["points_value"]),
        }
        assert schema.dump(typed) == body
