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
        "whale_gone": create_member(client, auth, city="Suzhou", birthday="1980-03-02", tags=["vip"],
                                    consent={"sms": True, "marketing": True}),
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


@pytest.mark.parametrize("filters, who", [
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
    ({"enrolled_after": (TODAY - timedelta(days=1)).isoformat(), "statuses": ["active"]},
     {"whale_gone", "whale_here", "small", "never"}),
])
def test_each_filter(client, auth, shop, filters, who):
    found = segment(client, auth, **filters)
    assert members_of(client, auth, found["id"]) == {shop[name]["id"] for name in who}
    assert found["members"] == len(who)


@pytest.mark.parametrize("filters, field", [
    ({"favourite_colour": ["red"]}, "filters.favourite_colour"),
    ({"stages": ["sleepy"]}, "filters.stages.0"),
    ({"r_min": 6}, "filters.r_min"),
    ({"birthday_months": [13]}, "filters.birthday_months.0"),
    ({"consent": {"fax": True}}, "filters.consent"),
    ({"age_min": 50, "age_max": 20}, "filters.age_min"),
    ({"last_order_before": "yesterday"}, "filters.last_order_before"),
])
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
    unknown = client.post("/v1/segments", json={"name": "x", "filters": {"tiers": ["gold", "platinum"]}},
                          headers=auth("staff"))
    assert unknown.status_code == 422 and "filters.tiers.1" in unknown.get_json()["errors"]
    empty = client.post("/v1/segments", json={"name": "x", "filters": {"tiers": []}}, headers=auth("staff"))
    assert empty.status_code == 422 and "filters.tiers" in empty.get_json()["errors"]
