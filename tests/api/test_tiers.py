from __future__ import annotations

import pytest

from tests.factories import create_member, post_order

LADDER = [
    {"code": "regular", "name": "Regular", "rank": 0, "threshold": "0"},
    {
        "code": "silver",
        "name": "Silver",
        "rank": 1,
        "threshold": "2000",
        "discount_percent": "3",
        "earn_multiplier": "1.2",
    },
    {
        "code": "gold",
        "name": "Gold",
        "rank": 2,
        "threshold": "8000",
        "discount_percent": "5",
        "earn_multiplier": "1.5",
        "benefits": "free gift wrapping",
    },
]


def test_put_and_get_the_ladder(client, auth):
    response = client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    assert response.status_code == 200, response.get_json()
    body = client.get("/v1/tiers", headers=auth("pos")).get_json()
    assert [t["code"] for t in body["tiers"]] == ["regular", "silver", "gold"]
    assert body["tiers"][2]["earn_multiplier"] == "1.5" and body["tier_metric"] == "spend_12m"
    assert create_member(client, auth)["tier"] == "regular"


@pytest.mark.parametrize(
    "change, field",
    [
        ({1: {"code": "regular"}}, "tiers.1.code"),
        ({1: {"rank": 0}}, "tiers.1.rank"),
        ({0: {"threshold": "5"}}, "tiers.0.threshold"),
        ({2: {"threshold": "2000"}}, "tiers.2.threshold"),
        ({1: {"earn_multiplier": "0.5"}}, "tiers.1.earn_multiplier"),
        ({1: {"discount_percent": "101"}}, "tiers.1.discount_percent"),
        ({1: {"code": "Silver Tier"}}, "tiers.1.code"),
        ({1: {"threshold": "-1"}}, "tiers.1.threshold"),
        ({1: {"name": ""}}, "tiers.1.name"),
    ],
)
def test_an_unsound_ladder_is_422_and_the_old_one_stays(client, auth, change, field):
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    bad = [dict(t) for t in LADDER]
    for index, values in change.items():
        bad[index].update(values)
    response = client.put("/v1/tiers", json={"tiers": bad}, headers=auth())
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()
    assert [t["code"] for t in client.get("/v1/tiers", headers=auth()).get_json()["tiers"]] == [
        "regular",
        "silver",
        "gold",
    ]


def test_a_tier_members_hold_cannot_be_dropped(client, auth):
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    create_member(client, auth)  # on regular
    response = client.put(
        "/v1/tiers", json={"tiers": [{"code": "basic", "name": "Basic", "rank": 0, "threshold": "0"}]}, headers=auth()
    )
    assert response.status_code == 422 and "regular" in " ".join(response.get_json()["errors"]["tiers"])


def test_changed_multipliers_apply_to_the_next_order(client, auth):
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    member = create_member(client, auth)
    assert post_order(client, auth, member["id"], "t-1", "100")["points_earned"] == 100
    ladder = [dict(t) for t in LADDER]
    ladder[0]["earn_multiplier"] = "2"
    client.put("/v1/tiers", json={"tiers": ladder}, headers=auth())
    assert post_order(client, auth, member["id"], "t-2", "100")["points_earned"] == 200


def test_only_admin_changes_the_ladder(client, auth):
    for role in ("storefront", "pos", "staff"):
        assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth(role)).status_code == 403
    assert client.put("/v1/tiers", json={}, headers=auth()).status_code == 422
