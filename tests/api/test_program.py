from __future__ import annotations

import pytest


def test_defaults_follow_the_contract(client, auth):
    body = client.get("/v1/program", headers=auth("storefront")).get_json()
    assert body["currency"] == "CNY" and body["timezone"] == "Asia/Shanghai" and body["holiday_country"] == "CN"
    assert body["points_per_unit"] == "1" and body["point_value"] == "0.01"
    assert body["pending_days"] == 14 and body["expiry_months"] == 24
    assert body["max_redeem_share"] == "0.5" and body["tier_metric"] == "spend_12m"
    assert body["signup_bonus"] == body["first_order_bonus"] == body["birthday_bonus"] == 0
    assert set(body["referral"]) == {
        "referrer_points",
        "referee_points",
        "min_order_amount",
        "monthly_cap",
        "total_cap",
        "link_template",
    }
    assert body["exchange_rates"] == {}


def test_patch_changes_only_what_is_sent(client, auth):
    response = client.patch(
        "/v1/program",
        json={
            "currency": "USD",
            "exchange_rates": {"CNY": "0.14", "EUR": 1.08},
            "points_per_unit": "2.5",
            "referral": {"referrer_points": 500},
            "signup_bonus": 100,
            "timezone": "America/New_York",
            "holiday_country": "US",
            "tier_metric": "orders_12m",
            "max_redeem_share": "0.3",
        },
        headers=auth("admin"),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["currency"] == "USD" and body["exchange_rates"] == {"CNY": "0.14", "EUR": "1.08"}
    assert body["points_per_unit"] == "2.5" and body["signup_bonus"] == 100
    assert body["referral"]["referrer_points"] == 500 and body["referral"]["referee_points"] == 0
    assert body["pending_days"] == 14
    assert client.get("/v1/program", headers=auth()).get_json() == body


@pytest.mark.parametrize(
    "field, value",
    [
        ("currency", "XXX"),
        ("currency", "usd"),
        ("timezone", "Moon/Base"),
        ("holiday_country", "ZZ"),
        ("points_per_unit", "-1"),
        ("points_per_unit", "NaN"),
        ("points_per_unit", True),
        ("point_value", "0"),
        ("pending_days", -1),
        ("pending_days", 1.5),
        ("pending_days", "3"),
        ("expiry_months", 1000),
        ("max_redeem_share", "1.5"),
        ("tier_metric", "vibes"),
        ("exchange_rates", {"USD": "-7"}),
        ("exchange_rates", {"NOPE": "1"}),
        ("exchange_rates", {"CNY": "1"}),
        ("exchange_rates", ["USD"]),
        ("referral", {"referrer_points": -5}),
        ("referral", {"monthly_cap": "many"}),
        ("referral", {"x": 1}),
        ("signup_bonus", -1),
        ("birthday_bonus", 10**12),
        ("name", ""),
        ("surprise", 1),
    ],
)
def test_invalid_settings_are_422_and_change_nothing(client, auth, field, value):
    before = client.get("/v1/program", headers=auth()).get_json()
    response = client.patch(
        "/v1/program",
        json={field: value, "signup_bonus": 5} if field != "signup_bonus" else {field: value},
        headers=auth("admin"),
    )
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert problem["code"] == "validation_error"
    assert any(key.split(".")[0] == field for key in problem["errors"]), problem
    assert client.get("/v1/program", headers=auth()).get_json() == before


def test_only_admin_may_change_settings(client, auth):
    for role in ("storefront", "pos", "staff"):
        assert client.patch("/v1/program", json={"signup_bonus": 1}, headers=auth(role)).status_code == 403
