"""Segments: saved filters compiled to one SQL query; unknown or bad filters are 422s naming them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from loyalty.scheduler import run_job
from tests.api.test_tiers import LADDER
from tests.clock import NOW, TODAY, today
from tests.factories import create_member, order_payload


def order(client, auth, member_id, order_id, amount, days_ago):
    payload = order_payload(member_id, order_id, amount, placed_at=(NOW - timedelta(days=days_ago)).isoformat())
    assert client.post("/v1/orders", json=payload, headers=auth("storefront")).status_code == 201


def segment(client, auth, **filters):
    response = client.post("/v1/segments", json={"name": "test", "filters": filters}, headers=auth("staff"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def members_of(client, auth, segment_id):
    body = client.get(f"/v1/segments/{segment_id}/members?limit=500", headers=auth("staff")).get_json()
    return {m["id"] for m in body["data"]}


@pytest.fixture
def shop(client, auth, db, config):
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    people = {
        "whale_gone": create_member(
            client, auth, city="Suzhou", birthday="1980-03-02", tags=["vip"], consent={"sms": True, "marketing": True}
        ),
        "whale_here": create_member(client, auth, city="Shanghai", birthday="1995-03-20"),
        "small": create_member(client, auth, city="Shanghai", birthday="2001-07-07", tags=["student"]),
        "never": create_member(client, auth, city="=HYPERLINK(evil)", birthday=None),
    }
    order(client, auth, people["whale_gone"]["id"], "wg-1", "9000", 300)
    order(client, auth, people["whale_gone"]["id"], "wg-2", "9000", 200)
    order(client, auth, people["whale_here"]["id"], "wh-1", "8500", 20)
    order(client, auth, people["small"]["id"], "s-1", "30", 10)
    run_job("insights.refresh", db=db, config=config, as_of=today())
    return people


def test_last_years_top_spenders_who_stopped_ordering(client, auth, shop):
    cutoff = (today() - timedelta(days=90)).isoformat()
    found = segment(client, auth, spend_12m_min="5000", last_order_before=cutoff)
    assert found["members"] == 1 and members_of(client, auth, found["id"]) == {shop["whale_gone"]["id"]}
    by_rfm = segment(client, auth, m_min=3, r_max=2)
    assert members_of(client, auth, by_rfm["id"]) == {shop["whale_gone"]["id"]}


@pytest.mark.parametrize(
    "filters, who",
    [
        ({"tiers": ["gold"]}, {"whale_gone", "whale_here"}),
        ({"tags": ["student"]}, {"small"}),
        ({"stages": ["prospect"]}, {"never"}),
        ({"cities": ["Shanghai"]}, {"whale_here", "small"}),
        ({"birthday_months": [3]}, {"whale_gone", "whale_here"}),
        ({"age_min": 40}, {"whale_gone"}),
        ({"age_max": 25}, {"small"}),
        ({"consent": {"sms": True, "marketing": True}}, {"whale_gone"}),
        ({"balance_min": 100}, {"whale_gone", "whale_here"}),
        ({"balance_max": 0}, {"never", "small"}),  # small's points are still pending
        ({"last_order_after": (TODAY - timedelta(days=15)).isoformat()}, {"small"}),
        (
            {"enrolled_after": (TODAY - timedelta(days=1)).isoformat(), "statuses": ["active"]},
            {"whale_gone", "whale_here", "small", "never"},
        ),
    ],
)
def test_each_filter(client, auth, shop, filters, who):
    found = segment(client, auth, **filters)
    assert members_of(client, auth, found["id"]) == {shop[name]["id"] for name in who}
    assert found["members"] == len(who)


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"favourite_colour": ["red"]}, "filters.favourite_colour"),
        ({"stages": ["sleepy"]}, "filters.stages.0"),
        ({"r_min": 6}, "filters.r_min"),
        ({"birthday_months": [13]}, "filters.birthday_months.0"),
        ({"consent": {"fax": True}}, "filters.consent"),
        ({"age_min": 50, "age_max": 20}, "filters.age_min"),
        ({"last_order_before": "yesterday"}, "filters.last_order_before"),
    ],
)
def test_an_unknown_or_bad_filter_is_a_422_naming_it(client, auth, filters, field):
    response = client.post("/v1/segments", json={"name": "x", "filters": filters}, headers=auth("staff"))
    assert response.status_code == 422
    assert any(key.startswith(field) for key in response.get_json()["errors"]), response.get_json()


def test_csv_export_is_streamed_and_safe_for_spreadsheets(client, auth, shop):
    everyone = segment(client, auth)
    response = client.get(f"/v1/segments/{everyone['id']}/export.csv", headers=auth("staff"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 4
    assert {r["city"] for r in rows} >= {"'=HYPERLINK(evil)", "Shanghai"}
    assert all(r["phone"].startswith("+86") for r in rows)  # phone numbers are not formulas
    assert client.get("/v1/segments/seg_nothing/export.csv", headers=auth("staff")).status_code == 404
    listed = client.get("/v1/segments", headers=auth("staff")).get_json()["data"]
    assert [s["id"] for s in listed] == [everyone["id"]]


def test_unknown_tiers_and_empty_lists_are_refused(client, auth, shop):
    unknown = client.post(
        "/v1/segments", json={"name": "x", "filters": {"tiers": ["gold", "platinum"]}}, headers=auth("staff")
    )
    assert unknown.status_code == 422 and "filters.tiers.1" in unknown.get_json()["errors"]
    empty = client.post("/v1/segments", json={"name": "x", "filters": {"tiers": []}}, headers=auth("staff"))
    assert empty.status_code == 422 and "filters.tiers" in empty.get_json()["errors"]


def _campaign(client, auth, segment_id, **fields):
    response = client.post(
        "/v1/campaigns",
        json={"name": "c", "segment_id": segment_id, "channel": "sms", "template": "Hi {{ name }}", **fields},
        headers=auth("staff"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_segment_can_be_renamed_and_refiltered(client, auth, shop):
    staff = auth("staff")
    found = segment(client, auth, cities=["Shanghai"])
    url = f"/v1/segments/{found['id']}"
    changed = client.patch(url, json={"name": "Suzhou people", "filters": {"cities": ["Suzhou"]}}, headers=staff)
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["name"], body["filters"], body["members"]) == ("Suzhou people", {"cities": ["Suzhou"]}, 1)
    assert members_of(client, auth, found["id"]) == {shop["whale_gone"]["id"]}
    renamed = client.patch(url, json={"name": "again"}, headers=staff).get_json()
    assert (renamed["name"], renamed["filters"]) == ("again", {"cities": ["Suzhou"]})  # only what is sent
    for filters, field in (
        ({"tiers": ["platinum"]}, "filters.tiers.0"),
        ({"r_min": 9}, "filters.r_min"),
        ({"age_min": 50, "age_max": 20}, "filters.age_min"),
    ):
        refused = client.patch(url, json={"name": "never", "filters": filters}, headers=staff)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], refused.get_json()
    assert client.patch(url, json={"name": ""}, headers=staff).status_code == 422
    assert client.get(url, headers=staff).get_json()["name"] == "again"  # nothing written
    assert client.patch("/v1/segments/seg_none", json={"name": "x"}, headers=staff).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=auth("storefront")).status_code == 403


def test_a_segment_a_campaign_reads_cannot_change_under_it_nor_be_deleted(client, auth, db, config, shop):
    staff = auth("staff")
    found = segment(client, auth, cities=["Shanghai"])
    url = f"/v1/segments/{found['id']}"
    campaign = _campaign(client, auth, found["id"])
    assert client.patch(url, json={"name": "a draft reads it at launch"}, headers=staff).status_code == 200
    in_use = client.delete(url, headers=staff)
    assert in_use.status_code == 409 and in_use.get_json()["code"] == "segment_in_use"
    assert in_use.get_json()["campaign_ids"] == [campaign["id"]]
    client.post(f"/v1/campaigns/{campaign['id']}/launch", headers=staff)
    for move in ("pause", "resume"):  # running, then paused
        for refused in (client.patch(url, json={"name": "x"}, headers=staff), client.delete(url, headers=staff)):
            assert refused.status_code == 409 and refused.get_json()["code"] == "segment_in_use", refused.get_json()
        client.post(f"/v1/campaigns/{campaign['id']}/{move}", headers=staff)
    run_job("campaigns.run", db=db, config=config, as_of=today())
    run_job("care.dispatch", db=db, config=config, as_of=today())
    assert run_job("campaigns.run", db=db, config=config, as_of=today())["finished"] == 1

    assert client.patch(url, json={"name": "finished campaigns keep their touches"}, headers=staff).status_code == 200
    assert client.delete(url, headers=staff).status_code == 204
    assert client.get(url, headers=staff).status_code == 404
    assert client.get(f"{url}/members", headers=staff).status_code == 404
    assert client.delete(url, headers=staff).status_code == 404
    assert found["id"] not in {s["id"] for s in client.get("/v1/segments", headers=staff).get_json()["data"]}
    finished = client.get(f"/v1/campaigns/{campaign['id']}", headers=staff).get_json()
    assert finished["segment_id"] == found["id"] and finished["results"]["targeted"] == 2
    again = client.post(
        "/v1/campaigns",
        json={"name": "c", "segment_id": found["id"], "channel": "sms", "template": "Hi"},
        headers=staff,
    )
    assert again.status_code == 422 and "segment_id" in again.get_json()["errors"]
