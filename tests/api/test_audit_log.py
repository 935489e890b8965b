"""The audit log: who changed what (field names, never values), when, in which request (issue 12)."""

from __future__ import annotations

import json
from datetime import timedelta

import time_machine
from click.testing import CliRunner
from sqlalchemy import text

from loyalty.cli import main
from tests.api.test_tiers import LADDER
from tests.clock import NOW
from tests.factories import create_member

MARKER = "zq-audit-marker"


def _log(client, auth, **query):
    response = client.get("/v1/audit-log", query_string=query, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_staff_patch_records_the_field_names_never_the_values(client, auth, db):
    member = create_member(client, auth)
    response = client.patch(
        f"/v1/members/{member['id']}",
        headers=auth("staff", **{"X-Request-Id": "req-77"}),
        json={"name": f"{MARKER} name", "email": f"{MARKER}@example.com", "consent": {"sms": True}},
    )
    assert response.status_code == 200
    entries = _log(client, auth, action="members.update_member")["data"]
    assert len(entries) == 1
    entry = entries[0]
    staff_prefix = auth.key("staff").split("_")[1]
    assert entry["actor"] == {"prefix": staff_prefix, "name": "test staff", "role": "staff"}
    assert entry["target"] == member["id"] and entry["request_id"] == "req-77"
    assert entry["fields"] == ["consent.sms", "email", "name"]
    assert entry["at"]
    with db.unit_of_work() as session:
        rows = [json.dumps([str(v) for v in row]) for row in session.execute(text("SELECT * FROM audit_log"))]
    assert rows and not any(MARKER in row for row in rows)


def test_a_refused_change_records_nothing(client, auth):
    member = create_member(client, auth)
    assert (
        client.patch(f"/v1/members/{member['id']}", json={"email": "not an email"}, headers=auth("staff")).status_code
        == 422
    )
    assert _log(client, auth, action="members.update_member")["data"] == []


def test_admin_put_of_the_tier_ladder_is_recorded(client, auth):
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    [entry] = _log(client, auth, action="tiers.put_ladder")["data"]
    assert entry["actor"]["role"] == "admin" and entry["target"] == "tiers" and entry["fields"] == ["tiers"]


def test_creates_name_the_created_id_and_reads_are_not_recorded(client, auth):
    member = create_member(client, auth)  # a staff key enrols
    client.get(f"/v1/members/{member['id']}", headers=auth("staff"))
    [entry] = _log(client, auth)["data"]
    assert entry["action"] == "members.create_member" and entry["target"] == member["id"]
    assert "email" in entry["fields"] and member["email"] not in json.dumps(entry)


def test_storefront_order_traffic_is_not_audited_but_its_member_changes_are(client, auth):
    member = create_member(client, auth)
    client.patch(f"/v1/members/{member['id']}", json={"phone": "+86 139 5555 0101"}, headers=auth("storefront"))
    entries = _log(client, auth, target=member["id"])["data"]
    assert [(e["action"], e["actor"]["role"]) for e in entries] == [
        ("members.update_member", "storefront"),
        ("members.create_member", "staff"),
    ]


def test_filters_and_pages(client, auth):
    first = create_member(client, auth)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        second = create_member(client, auth)
        client.patch(f"/v1/members/{second['id']}", json={"city": "Hangzhou"}, headers=auth())
    everything = _log(client, auth)["data"]
    assert [e["action"] for e in everything] == [
        "members.update_member",
        "members.create_member",
        "members.create_member",
    ]  # newest first
    admin_prefix = auth.key("admin").split("_")[1]
    assert [e["target"] for e in _log(client, auth, actor=admin_prefix)["data"]] == [second["id"]]
    assert [e["target"] for e in _log(client, auth, target=first["id"])["data"]] == [first["id"]]
    later = (NOW + timedelta(days=1)).isoformat()
    assert len(_log(client, auth, **{"from": later})["data"]) == 2
    assert [e["target"] for e in _log(client, auth, to=later)["data"]] == [first["id"]]
    page = _log(client, auth, limit=2)
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = _log(client, auth, limit=2, cursor=page["next_cursor"])
    assert [e["id"] for e in page["data"] + rest["data"]] == [e["id"] for e in everything]
    assert rest["next_cursor"] is None


def test_bad_filters_are_422_and_bad_cursors_400(client, auth):
    assert client.get("/v1/audit-log?from=yesterday", headers=auth()).status_code == 422
    assert client.get("/v1/audit-log?cursor=nonsense", headers=auth()).status_code == 400


def test_only_admin_reads_the_audit_log(client, auth):
    for role in ("storefront", "pos", "staff"):
        response = client.get("/v1/audit-log", headers=auth(role))
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    assert client.get("/v1/audit-log").status_code == 401


def test_key_changes_at_the_command_line_are_recorded_as_cli(client, auth, database_url):
    runner = CliRunner()
    env = {"LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"}
    created = runner.invoke(main, ["keys", "create", "--role", "pos", "--name", "till 9"], env=env)
    prefix = created.output.strip().splitlines()[-1].split("_")[1]
    rotated = runner.invoke(main, ["keys", "rotate", prefix], env=env)
    new_prefix = rotated.output.strip().splitlines()[-1].split("_")[1]
    assert runner.invoke(main, ["keys", "revoke", new_prefix], env=env).exit_code == 0
    entries = _log(client, auth, actor="cli")["data"]
    assert [(e["action"], e["target"]) for e in entries] == [
        ("keys.revoke", new_prefix),
        ("keys.create", new_prefix),
        ("keys.rotate", prefix),
        ("keys.create", prefix),
    ]
    assert all(e["actor"] == {"prefix": "cli", "name": "cli", "role": "cli"} for e in entries)


def test_a_replayed_idempotent_write_is_recorded_once(client, auth):
    from tests.factories import member_payload

    headers = auth("staff", **{"Idempotency-Key": "enrol-1"})
    body = member_payload()
    first = client.post("/v1/members", json=body, headers=headers)
    again = client.post("/v1/members", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [e["target"] for e in _log(client, auth)["data"]] == [first.get_json()["id"]]
