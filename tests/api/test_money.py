"""Money is answered one way everywhere: a decimal string with two decimals, by one serializer
(`loyalty.core.money.money`, through `MoneyString` in schemas)."""

from __future__ import annotations

import re

import marshmallow as ma
import pytest

from loyalty.core.fields import MONEY_PATTERN, DecimalString, MoneyString
from tests.factories import create_member, post_order

# A field answering money is named for it. Integers (points, counts) are never money.
MONEY_NAME = re.compile(r"(^|_)(amount|value|price|spend|total|cost|shipping|tax|liability)(_|$)")

# Decimals in responses that are not money, and why. A new decimal field must be money or listed here.
NOT_MONEY = {
    "JobRunSchema.duration_seconds": "seconds a job ran, not money",
    "SegmentFiltersSchema.spend_12m_min": "a segment's filter threshold, answered as it was sent and stored",
    "ProgramSchema.points_per_unit": "points per unit of currency: a rate",
    "ProgramSchema.point_value": "money per point, a rate with up to 12 decimals (0.005)",
    "ProgramSchema.max_redeem_share": "a share, 0 to 1",
    "ProgramSchema.exchange_rates": "program currency per unit of another: rates",
    "TierSchema.threshold": "in the program's tier_metric: money for spend_12m, points or orders otherwise",
    "TierSchema.discount_percent": "a percent",
    "TierSchema.earn_multiplier": "a multiplier",
    "MemberTierSchema.discount_percent": "a percent",
    "MemberTierSchema.earn_multiplier": "a multiplier",
    "MemberTierSchema.qualifying_value": "in the tier metric's unit; money(), as all money, for spend_12m",
    "PosMemberSchema.discount_percent": "a percent",
    "QuoteOutSchema.discount_percent": "a percent",
    "PromotionSchema.multiplier": "a multiplier",
    "MemberInsightSchema.churn_risk": "0 to 1",
    "MemberInsightSchema.usual_interval_days": "days",
    "ParetoSchema.share": "a share, 0 to 1",
    "CampaignResultsSchema.conversion_rate": "a share, 0 to 1",
    "CampaignResultsSchema.conversion_rate_held_out": "a share, 0 to 1",
    "CampaignResultsSchema.lift": "a difference of shares",
    "CampaignResultsSchema.relative_lift": "a ratio",
}


def _response_schemas(app, spec) -> list[type[ma.Schema]]:
    """The marshmallow classes behind every response of every operation in the served document."""
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    classes = {name: key[0] for key, name in api.ma_plugin.converter.refs.items()}

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from ([value.rsplit("/", 1)[-1]] if key == "$ref" else refs(value))
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    names = {
        name
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for name in refs(operation.get("responses", {}))
    }
    return [classes[name] for name in sorted(names) if name in classes]


def _fields(schema: type[ma.Schema], seen: set):
    """(schema class, field name, field) of a schema and every schema nested in it."""
    if schema in seen:
        return
    seen.add(schema)
    for name, field in schema._declared_fields.items():
        inner = field
        while isinstance(inner, ma.fields.List):
            inner = inner.inner
        if isinstance(inner, ma.fields.Nested):
            nested = inner.nested
            yield from _fields(nested if isinstance(nested, type) else type(nested), seen)
        else:
            yield schema, field.data_key or name, inner


def test_every_money_field_of_every_response_uses_the_money_serializer(app, client):
    spec = client.get("/openapi.json").get_json()
    seen: set = set()
    checked, wrong = [], []
    for root in _response_schemas(app, spec):
        for schema, name, field in _fields(root, seen):
            key = f"{schema.__name__}.{name}"
            if isinstance(field, MoneyString):
                checked.append(key)
            elif key in NOT_MONEY or isinstance(field, (ma.fields.Integer, ma.fields.Boolean, ma.fields.DateTime)):
                continue
            elif isinstance(field, (DecimalString, ma.fields.Decimal, ma.fields.Float)) or MONEY_NAME.search(name):
                wrong.append(f"{key} ({type(field).__name__})")
    assert not wrong, f"money answered without MoneyString (or list the field in NOT_MONEY, with why): {wrong}"
    assert {
        "OrderSchema.net_amount",
        "RewardSchema.value",
        "RedemptionSchema.value",
        "QuoteOutSchema.discount_amount",
        "ReferralSettingsOutSchema.min_order_amount",
        "RewardBriefSchema.value",
    } <= set(checked)
    stale = set(NOT_MONEY) - {f"{s.__name__}.{n}" for s in seen for n in s._declared_fields}
    assert not stale, f"NOT_MONEY lists fields no response has: {stale}"


def test_the_document_says_money_has_two_decimals(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    for name in ("Order", "Refund", "Quote", "Reward", "Redemption", "Balance"):
        for field, prop in schemas[name]["properties"].items():
            if MONEY_NAME.search(field) and prop.get("type") != "integer":
                assert prop.get("pattern") == MONEY_PATTERN and prop.get("example") == "128.50", (name, field)


@pytest.mark.parametrize(
    "kind, value, shown",
    [
        ("amount_off", "10", "10.00"),
        ("amount_off", "9.5", "9.50"),
        ("percent_off", "12.5", "12.50"),
        ("gift", None, None),
    ],
)
def test_a_rewards_value_is_answered_with_two_decimals(client, auth, kind, value, shown):
    body = {"name": "R", "kind": kind, "points_cost": 10, **({"value": value} if value else {})}
    created = client.post("/v1/rewards", json=body, headers=auth())
    assert created.status_code == 201 and created.get_json()["value"] == shown
    assert client.get(f"/v1/rewards/{created.get_json()['id']}", headers=auth("pos")).get_json()["value"] == shown
    assert client.get("/v1/rewards", headers=auth("pos")).get_json()["data"][0]["value"] == shown


def test_a_percent_off_with_more_decimals_than_it_would_show_is_refused(client, auth):
    body = {"name": "R", "kind": "percent_off", "value": "12.345", "points_cost": 10}
    refused = client.post("/v1/rewards", json=body, headers=auth())
    assert refused.status_code == 422 and "value" in refused.get_json()["errors"]
    reward = client.post("/v1/rewards", json={**body, "value": "12"}, headers=auth()).get_json()
    patched = client.patch(f"/v1/rewards/{reward['id']}", json={"value": "7.125"}, headers=auth())
    assert patched.status_code == 422 and "value" in patched.get_json()["errors"]
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth()).get_json()["value"] == "12.00"


def test_the_timelines_orders_answer_money_with_two_decimals(client, auth):
    member = create_member(client, auth)
    items = [{"sku": "longjing", "category": "tea", "quantity": 2, "unit_price": "168", "discount": "0.0000"}]
    post_order(client, auth, member["id"], "tl-1", items=items)
    client.post("/v1/orders/tl-1/refunds", json={"refund_id": "tl-1-r", "amount": "12.5"}, headers=auth("storefront"))
    timeline = client.get(f"/v1/members/{member['id']}/timeline", headers=auth("staff")).get_json()["data"]
    [placed] = [item for item in timeline if item["type"] == "order.placed"]
    assert placed["data"]["net_amount"] == "336.00" and placed["data"]["refunded_amount"] == "12.50"


def test_program_money_settings_are_answered_with_two_decimals(client, auth):
    client.patch("/v1/program", json={"referral": {"min_order_amount": "100"}}, headers=auth())
    assert client.get("/v1/program", headers=auth("pos")).get_json()["referral"]["min_order_amount"] == "100.00"
