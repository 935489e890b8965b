from __future__ import annotations

import pytest
from sqlalchemy import func, select

from loyalty.core.ids import luhn_valid
from loyalty.members.models import Member, MemberEvent
from tests.factories import create_member, member_payload


def _count(db) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Member))


def test_create_normalises_identifiers_and_numbers_the_member(client, auth):
    body = create_member(client, auth, email="  Li.Na@Example.COM ", phone="139 1234 5678", external_id="shop-7")
    assert body["email"] == "li.na@example.com"
    assert body["phone"] == "+8613912345678"
    assert body["id"].startswith("mbr_")
    assert len(body["member_number"]) == 12 and luhn_valid(body["member_number"])
    assert body["status"] == "active"
    assert body["consent"] == {"email": True, "sms": False, "phone": False, "push": False, "marketing": False}
    assert body["tags"] == ["tea lover"]
    assert body["enrolled_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "field, value", [("email", "DUP@example.com"), ("phone", "+86-139-0000-1111"), ("external_id", "dup-1")]
)
def test_duplicate_identifier_is_409_naming_the_existing_member(client, auth, db, field, value):
    first = create_member(client, auth, **{field: value})
    before = _count(db)
    response = client.post("/v1/members", json=member_payload(**{field: value}), headers=auth("staff"))
    assert response.status_code == 409
    problem = response.get_json()
    assert response.content_type == "application/problem+json"
    assert problem["code"] == "duplicate_member"
    assert problem["existing_member_id"] == first["id"]
    assert problem["field"] == field
    assert _count(db) == before


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "not-an-email"),
        ("email", 42),
        ("phone", "12"),
        ("phone", "+1 555"),
        ("birthday", "1990-02-30"),
        ("birthday", "2999-01-01"),
        ("gender", "robot"),
        ("timezone", "Mars/Olympus"),
        ("locale", "!!"),
        ("tags", ["ok", ""]),
        ("tags", ["   "]),
        ("city", " "),
        ("tags", "tea"),
        ("tags", ["x" * 51]),
        ("consent", {"sms": "yes"}),
        ("consent", {"fax": True}),
        ("name", "a\u0000b"),
        ("name", "x" * 201),
        ("external_id", "has space"),
        ("status", "active"),
        ("unknown", 1),
    ],
)
def test_each_invalid_field_is_422_naming_it_and_writes_nothing(client, auth, db, field, value):
    before = _count(db)
    response = client.post("/v1/members", json=member_payload(**{field: value}), headers=auth("staff"))
    if "\x00" in str(value):  # a NUL anywhere is refused before any field is read: nothing can store it
        assert response.status_code == 400 and _count(db) == before
        return
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert problem["code"] == "validation_error"
    assert any(key == field or key.startswith(field + ".") for key in problem["errors"]), problem
    assert _count(db) == before


def test_all_invalid_fields_are_reported_together(client, auth):
    response = client.post("/v1/members", json={"email": "x", "birthday": "nope", "gender": 3}, headers=auth("staff"))
    assert response.status_code == 422
    assert {"email", "birthday", "gender"} <= set(response.get_json()["errors"])


def test_a_member_may_be_a_bare_card(client, auth):
    response = client.post("/v1/members", json={}, headers=auth("staff"))
    assert response.status_code == 201
    assert luhn_valid(response.get_json()["member_number"])


def test_read_update_and_status(client, auth):
    member = create_member(client, auth)
    url = f"/v1/members/{member['id']}"
    assert client.get(url, headers=auth("storefront")).get_json()["id"] == member["id"]
    changed = client.patch(
        url,
        json={"city": "Suzhou", "consent": {"sms": True}, "tags": ["vip-ish", "gift buyer"], "status": "suspended"},
        headers=auth("staff"),
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["city"] == "Suzhou"
    assert body["consent"]["sms"] is True and body["consent"]["email"] is True
    assert body["tags"] == ["gift buyer", "vip-ish"]
    assert body["status"] == "suspended"
    assert client.get("/v1/members/mbr_nope", headers=auth()).status_code == 404


def test_update_to_anothers_email_is_409_and_changes_nothing(client, auth):
    first = create_member(client, auth)
    second = create_member(client, auth)
    response = client.patch(
        f"/v1/members/{second['id']}", json={"email": first["email"], "city": "X"}, headers=auth("staff")
    )
    assert response.status_code == 409
    assert response.get_json()["existing_member_id"] == first["id"]
    assert client.get(f"/v1/members/{second['id']}", headers=auth()).get_json()["city"] == "Shanghai"


def test_invalid_update_writes_nothing(client, auth):
    member = create_member(client, auth)
    response = client.patch(
        f"/v1/members/{member['id']}", json={"city": "Nanjing", "status": "gone"}, headers=auth("staff")
    )
    assert response.status_code == 422
    assert client.get(f"/v1/members/{member['id']}", headers=auth()).get_json()["city"] == "Shanghai"


def test_search_by_each_identifier_fragment_tag_status_and_tier(client, auth, db):
    target = create_member(
        client,
        auth,
        name="Wang Fang",
        email="wf@example.com",
        phone="13800138000",
        external_id="shop-42",
        tags=["prefers phone"],
    )
    create_member(client, auth, name="Li Lei")
    headers = auth("staff")

    def ids(query: str) -> list[str]:
        response = client.get(f"/v1/members?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [m["id"] for m in response.get_json()["data"]]

    assert ids("email=WF@Example.com") == [target["id"]]
    assert ids("phone=%2B86%20138%200013%208000") == [target["id"]]
    assert ids("phone=138-0013-8000") == [target["id"]]
    assert ids("external_id=shop-42") == [target["id"]]
    assert ids(f"member_number={target['member_number']}") == [target["id"]]
    wrong_digit = target["member_number"][:-1] + str((int(target["member_number"][-1]) + 1) % 10)
    assert ids(f"member_number={wrong_digit}") == []
    assert ids("q=ang%20f") == [target["id"]]
    assert ids("q=%25") == []  # a LIKE wildcard is a literal character here
    assert ids("tag=prefers%20phone") == [target["id"]]
    client.patch(f"/v1/members/{target['id']}", json={"status": "blocked"}, headers=headers)
    assert ids("status=blocked") == [target["id"]]
    with db.unit_of_work() as session:
        session.get(Member, target["id"]).tier_code = "gold"
    assert ids("tier=gold") == [target["id"]]
    assert client.get("/v1/members?status=zombie", headers=headers).status_code == 422
    assert client.get("/v1/members?phone=abc", headers=headers).status_code == 422


def test_merge_moves_record_and_leaves_a_tombstone(client, auth):
    survivor = create_member(client, auth, email=..., phone=..., tags=["a"])
    source = create_member(client, auth, tags=["b"], city="Chengdu")
    client.patch(f"/v1/members/{source['id']}", json={"status": "blocked"}, headers=auth("staff"))
    response = client.post(
        f"/v1/members/{survivor['id']}/merge", json={"member_id": source["id"]}, headers=auth("staff")
    )
    assert response.status_code == 200, response.get_json()
    merged = response.get_json()
    assert merged["email"] == source["email"] and merged["phone"] == source["phone"]
    assert merged["tags"] == ["a", "b"]
    assert merged["city"] == "Shanghai"  # the survivor's own values win
    assert merged["status"] == "blocked"  # merging never launders a block
    tomb = client.get(f"/v1/members/{source['id']}", headers=auth())
    assert tomb.get_json()["id"] == survivor["id"]
    found = client.get(f"/v1/members?email={source['email']}", headers=auth()).get_json()["data"]
    assert [m["id"] for m in found] == [survivor["id"]]
    again = client.post(f"/v1/members/{survivor['id']}/merge", json={"member_id": source["id"]}, headers=auth("staff"))
    assert again.status_code == 409
    self_merge = client.post(
        f"/v1/members/{survivor['id']}/merge", json={"member_id": survivor["id"]}, headers=auth("staff")
    )
    assert self_merge.status_code == 409
    missing = client.post(f"/v1/members/{survivor['id']}/merge", json={"member_id": "mbr_x"}, headers=auth("staff"))
    assert missing.status_code == 422


def test_erasure_wipes_personal_fields_and_frees_identifiers(client, auth, db):
    member = create_member(client, auth)
    response = client.delete(f"/v1/members/{member['id']}", headers=auth("staff"))
    assert response.status_code == 204
    erased = client.get(f"/v1/members/{member['id']}", headers=auth()).get_json()
    for field in ("name", "email", "phone", "external_id", "birthday", "city"):
        assert erased[field] is None
    assert erased["tags"] == [] and not any(erased["consent"].values())
    assert erased["erased_at"] and erased["member_number"] == member["member_number"]
    assert client.patch(f"/v1/members/{member['id']}", json={"city": "X"}, headers=auth("staff")).status_code == 409
    create_member(client, auth, email=member["email"], phone=member["phone"], external_id=member["external_id"])
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("staff")).status_code == 204
    with db.unit_of_work() as session:
        events = session.scalars(select(MemberEvent.data).where(MemberEvent.member_id == member["id"])).all()
    assert member["email"] not in repr(events)


def test_timeline_lists_what_happened_newest_first_with_paging(client, auth):
    member = create_member(client, auth)
    for city in ("A", "B", "C"):
        client.patch(f"/v1/members/{member['id']}", json={"city": city}, headers=auth("staff"))
    first = client.get(f"/v1/members/{member['id']}/timeline?limit=2", headers=auth()).get_json()
    assert [item["type"] for item in first["data"]] == ["member.updated", "member.updated"]
    rest = client.get(
        f"/v1/members/{member['id']}/timeline?limit=2&cursor={first['next_cursor']}", headers=auth()
    ).get_json()
    assert [item["type"] for item in rest["data"]] == ["member.updated", "member.enrolled"]
    assert rest["next_cursor"] is None
    assert client.get(f"/v1/members/{member['id']}/timeline?cursor=garbage", headers=auth()).status_code == 400


def test_storefront_may_not_erase_or_merge(client, auth):
    member = create_member(client, auth)
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("storefront")).status_code == 403
    assert client.get(f"/v1/members/{member['id']}", headers=auth("pos")).status_code == 403


def test_new_members_start_on_the_lowest_tier_once_a_ladder_exists(client, auth, db):
    from decimal import Decimal

    from loyalty.tiers.models import Tier

    assert create_member(client, auth)["tier"] is None
    with db.unit_of_work() as session:
        session.add_all(
            [
                Tier(
                    code="silver",
                    name="Silver",
                    rank=1,
                    threshold=Decimal(2000),
                    discount_percent=Decimal(3),
                    earn_multiplier=Decimal("1.2"),
                    benefits="",
                ),
                Tier(
                    code="regular",
                    name="Regular",
                    rank=0,
                    threshold=Decimal(0),
                    discount_percent=Decimal(0),
                    earn_multiplier=Decimal(1),
                    benefits="",
                ),
            ]
        )
    assert create_member(client, auth)["tier"] == "regular"


def test_merge_moves_points_holds_and_orders_to_the_survivor(client, auth):
    from tests.factories import balance, ledger, post_order

    survivor = create_member(client, auth)
    source = create_member(client, auth)
    post_order(client, auth, survivor["id"], "mg-1", "100")
    post_order(client, auth, source["id"], "mg-2", "300")
    held = client.post(
        "/v1/redemptions", json={"member_id": source["id"], "points": 50}, headers=auth("pos")
    ).get_json()
    client.post(f"/v1/members/{survivor['id']}/merge", json={"member_id": source["id"]}, headers=auth("staff"))
    assert balance(client, auth, survivor["id"])["available"] == 400
    assert balance(client, auth, survivor["id"])["lifetime_earned"] == 400
    assert client.get(f"/v1/redemptions/{held['id']}", headers=auth("pos")).get_json()["status"] == "cancelled"
    assert client.get("/v1/orders/mg-2", headers=auth()).get_json()["member_id"] == survivor["id"]
    entries = ledger(client, auth, survivor["id"])  # includes the tombstone's entries
    assert sum(e["points"] for e in entries) == 400
    assert sorted(e["points"] for e in entries if e["kind"] == "merge") == [-300, 300]
    refund = client.post(
        "/v1/orders/mg-2/refunds", json={"refund_id": "mg-r", "amount": "300"}, headers=auth("storefront")
    )
    assert refund.get_json()["points_reversed"] == 300
    assert balance(client, auth, survivor["id"])["available"] == 100
