"""Regressions from a newcomer's hostile session: each of these once answered 500 or did harm."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from loyalty import create_app
from loyalty.members.models import Member, MemberEvent
from tests.conftest import make_config
from tests.factories import create_member, member_payload


def _members(db) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Member))


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "a\\ud800b"}',  # lone surrogate: no UTF-8 form
        b'{"name": "a\xed\xa0\x80b"}',  # the same surrogate sent as its own bytes (json.loads reads them)
        '{"name": "a\\u0000b"}',  # NUL, escaped: no text column stores it
        "[" * 5000 + "]" * 5000,  # nesting deep enough to blow the recursion limit
        '{"tags": ' + "[" * 40 + "]" * 40 + "}",  # deeper than any schema needs
        '{"signup_bonus": 1' + "0" * 5000 + "}",  # an integer of 5000 digits
    ],
)
def test_unstorable_json_is_400_malformed_json(client, auth, db, raw):
    for path, method in (("/v1/members", "POST"), ("/v1/program", "PATCH")):
        response = client.open(path, method=method, data=raw, content_type="application/json", headers=auth())
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["code"] == "malformed_json"
    assert _members(db) == 0


def test_chunked_bodies_are_refused_with_411(client, auth, db):
    response = client.post(
        "/v1/members",
        data=json.dumps({"name": "x"}),
        content_type="application/json",
        headers=auth(**{"Transfer-Encoding": "chunked"}),
    )
    assert response.status_code == 411 and response.get_json()["code"] == "length_required"
    assert _members(db) == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("holiday_country", "CHN"),
        ("holiday_country", "USA"),
        ("holiday_country", "UK"),
        ("exchange_rates", {"USD": "1e-999999999"}),
        ("points_per_unit", "1e-9"),
        ("point_value", "1_0"),
        ("point_value", " 0.01 "),
        ("point_value", "1E-2"),
        ("points_per_unit", "0.0000000000000000001"),
        ("point_value", 0.30000000000000004),
        ("name", "a\u0000b"),
        ("name", "\u200b"),
    ],
)
def test_program_settings_that_look_valid_but_are_not(client, auth, field, value):
    before = client.get("/v1/program", headers=auth()).get_json()
    response = client.patch("/v1/program", json={field: value}, headers=auth())
    # A NUL anywhere in a body is refused before any field is read (nothing can store it): 400.
    assert response.status_code == (400 if "\u0000" in str(value) else 422), response.get_json()
    assert client.get("/v1/program", headers=auth()).get_json() == before


def test_json_numbers_are_read_by_their_text(client, auth):
    body = client.patch(
        "/v1/program", json={"point_value": 0.02, "exchange_rates": {"USD": 7}}, headers=auth()
    ).get_json()
    assert body["point_value"] == "0.02" and body["exchange_rates"] == {"USD": "7"}


@pytest.mark.parametrize("name", ["a\u0085b", "a\u202eb", "\u200b", "   "])
def test_invisible_and_bidi_characters_are_refused_in_names(client, auth, name):
    response = client.post("/v1/members", json=member_payload(name=name), headers=auth("staff"))
    assert response.status_code == 422 and "name" in response.get_json()["errors"]


def test_a_tombstone_id_can_be_read_but_not_changed(client, auth):
    survivor = create_member(client, auth)
    source = create_member(client, auth)
    client.post(f"/v1/members/{survivor['id']}/merge", json={"member_id": source["id"]}, headers=auth("staff"))
    for method, body in (("DELETE", None), ("PATCH", {"city": "X"})):
        response = client.open(f"/v1/members/{source['id']}", method=method, json=body, headers=auth("staff"))
        assert response.status_code == 409, response.get_json()
        assert response.get_json()["code"] == "member_merged"
        assert response.get_json()["survivor_id"] == survivor["id"]
    assert client.get(f"/v1/members/{survivor['id']}", headers=auth()).get_json()["erased_at"] is None


def test_callers_without_a_valid_key_are_rate_limited_per_address(database_url, db):
    app = create_app(make_config(database_url, rate_limit="5 per minute"), database=db)
    client = app.test_client()
    statuses = [
        client.get("/v1/program", headers={"Authorization": "Bearer lk_aaaaaaaa_guess"}).status_code for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


def test_made_up_methods_do_not_grow_the_metrics(client):
    for n in range(3):
        client.open("/nope", method=f"XMETH{n}")
    text = client.get("/metrics").get_data(as_text=True)
    assert "XMETH" not in text and 'method="other"' in text


@pytest.mark.parametrize("query", ["email=", "phone=", "external_id=", "tier=", "member_number="])
def test_an_empty_filter_is_refused_not_ignored(client, auth, query):
    create_member(client, auth)
    assert client.get(f"/v1/members?{query}", headers=auth()).status_code == 422


def test_a_bad_email_in_search_is_reported_as_email(client, auth):
    errors = client.get("/v1/members?email=notanemail", headers=auth()).get_json()["errors"]
    assert list(errors) == ["email"]


def test_name_search_folds_case_beyond_ascii(client, auth):
    member = create_member(client, auth, name="Émile Zoë")
    for q in ("%C3%89mile", "%C3%A9mile", "ZO%C3%8B", "mile"):
        found = client.get(f"/v1/members?q={q}", headers=auth()).get_json()["data"]
        assert [m["id"] for m in found] == [member["id"]], q


def test_a_patch_that_changes_nothing_leaves_no_trace(client, auth, db):
    member = create_member(client, auth)
    for body in ({}, {"city": member["city"], "tags": member["tags"], "consent": {"email": True}}):
        response = client.patch(f"/v1/members/{member['id']}", json=body, headers=auth("staff"))
        assert response.get_json()["updated_at"] == member["updated_at"]
    with db.unit_of_work() as session:
        kinds = session.scalars(select(MemberEvent.kind).where(MemberEvent.member_id == member["id"])).all()
    assert kinds == ["member.enrolled"]


def test_only_staff_change_a_members_status(client, auth):
    member = create_member(client, auth)
    client.patch(f"/v1/members/{member['id']}", json={"status": "blocked"}, headers=auth("staff"))
    response = client.patch(f"/v1/members/{member['id']}", json={"status": "active"}, headers=auth("storefront"))
    assert response.status_code == 403
    assert client.get(f"/v1/members/{member['id']}", headers=auth()).get_json()["status"] == "blocked"


def test_empty_identifiers_are_invalid_null_clears(client, auth):
    member = create_member(client, auth)
    assert client.patch(f"/v1/members/{member['id']}", json={"phone": ""}, headers=auth("staff")).status_code == 422
    cleared = client.patch(f"/v1/members/{member['id']}", json={"phone": None}, headers=auth("staff")).get_json()
    assert cleared["phone"] is None


def test_401_names_the_scheme_and_204_has_no_body_type(client, auth):
    assert client.get("/v1/program").headers["WWW-Authenticate"].startswith("Bearer")
    member = create_member(client, auth)
    response = client.delete(f"/v1/members/{member['id']}", headers=auth("staff"))
    assert response.status_code == 204 and "Content-Type" not in response.headers


def test_object_level_errors_name_the_object(client, auth):
    errors = client.post("/v1/members/x/merge", json={}, headers=auth("staff")).get_json()["errors"]
    assert "member_id" in errors
    errors = client.post(
        "/v1/orders",
        json={
            "order_id": "o",
            "placed_at": "2026-01-01T00:00:00+00:00",
            "items": [{"sku": "a", "quantity": 1, "unit_price": "1"}],
        },
        headers=auth("storefront"),
    ).get_json()["errors"]
    assert not any("_schema" in key for key in errors)


def test_nul_characters_are_refused_everywhere(client, auth):
    for method, url, body in (
        ("post", "/v1/segments", {"name": "x", "filters": {"cities": ["a\u0000b"]}}),
        ("post", "/v1/members", {"name": "a\u0000b"}),
        ("get", "/v1/care/touches?member_id=a%00b", None),
        ("get", "/v1/members/mbr_%00", None),
    ):
        response = (
            getattr(client, method)(url, json=body, headers=auth())
            if body
            else getattr(client, method)(url, headers=auth())
        )
        assert response.status_code == 400, (url, response.get_json())
        assert response.mimetype == "application/problem+json"
