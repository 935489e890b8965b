"""Operation names are the generated clients' method names: they must stay put.

The full mapping is written out here on purpose: renaming or dropping an operationId breaks every
integrator's generated client, so it should take a deliberate edit of this file.
"""

from __future__ import annotations

import re

import pytest

EXPECTED = {
    "GET /v1/audit-log": "audit.list",
    "GET /v1/callbacks": "callbacks.list",
    "GET /v1/campaigns": "campaigns.list",
    "POST /v1/campaigns": "campaigns.create",
    "DELETE /v1/campaigns/{campaign_id}": "campaigns.delete",
    "GET /v1/campaigns/{campaign_id}": "campaigns.get",
    "PATCH /v1/campaigns/{campaign_id}": "campaigns.update",
    "POST /v1/campaigns/{campaign_id}/launch": "campaigns.launch",
    "POST /v1/campaigns/{campaign_id}/pause": "campaigns.pause",
    "POST /v1/campaigns/{campaign_id}/preview": "campaigns.preview",
    "POST /v1/campaigns/{campaign_id}/resume": "campaigns.resume",
    "GET /v1/care/rules": "care_rules.list",
    "PUT /v1/care/rules/{kind}": "care_rules.put",
    "GET /v1/care/touches": "touches.list",
    "POST /v1/care/touches/{touch_id}/outcome": "touches.record_outcome",
    "GET /v1/coupons/{code}": "coupons.get",
    "POST /v1/coupons/{code}/use": "coupons.use",
    "GET /v1/insights/summary": "insights.summary",
    "POST /v1/interactions/{interaction_id}/resolve": "interactions.resolve",
    "GET /v1/members": "members.list",
    "POST /v1/members": "members.create",
    "DELETE /v1/members/{member_id}": "members.erase",
    "GET /v1/members/{member_id}": "members.get",
    "PATCH /v1/members/{member_id}": "members.update",
    "POST /v1/members/{member_id}/adjustments": "points.adjust",
    "GET /v1/members/{member_id}/balance": "points.balance",
    "GET /v1/members/{member_id}/coupons": "coupons.list_for_member",
    "GET /v1/members/{member_id}/insights": "insights.member",
    "GET /v1/members/{member_id}/interactions": "interactions.list",
    "POST /v1/members/{member_id}/interactions": "interactions.create",
    "GET /v1/members/{member_id}/ledger": "points.ledger",
    "POST /v1/members/{member_id}/merge": "members.merge",
    "GET /v1/members/{member_id}/referral": "referrals.member",
    "GET /v1/members/{member_id}/tier": "member_tiers.get",
    "POST /v1/members/{member_id}/tier": "member_tiers.set_floor",
    "GET /v1/members/{member_id}/timeline": "members.timeline",
    "POST /v1/orders": "orders.create",
    "GET /v1/orders/{order_id}": "orders.get",
    "POST /v1/orders/{order_id}/refunds": "orders.refund",
    "GET /v1/pos/members/{identifier}": "pos.lookup",
    "GET /v1/program": "program.get",
    "PATCH /v1/program": "program.update",
    "GET /v1/promotions": "promotions.list",
    "POST /v1/promotions": "promotions.create",
    "PATCH /v1/promotions/{promotion_id}": "promotions.update",
    "POST /v1/quote": "orders.quote",
    "POST /v1/redemptions": "redemptions.create",
    "GET /v1/redemptions/{redemption_id}": "redemptions.get",
    "POST /v1/redemptions/{redemption_id}/cancel": "redemptions.cancel",
    "POST /v1/redemptions/{redemption_id}/capture": "redemptions.capture",
    "POST /v1/redemptions/{redemption_id}/reverse": "redemptions.reverse",
    "GET /v1/referrals": "referrals.list",
    "GET /v1/rewards": "rewards.list",
    "POST /v1/rewards": "rewards.create",
    "GET /v1/rewards/{reward_id}": "rewards.get",
    "PATCH /v1/rewards/{reward_id}": "rewards.update",
    "GET /v1/segments": "segments.list",
    "POST /v1/segments": "segments.create",
    "DELETE /v1/segments/{segment_id}": "segments.delete",
    "GET /v1/segments/{segment_id}": "segments.get",
    "PATCH /v1/segments/{segment_id}": "segments.update",
    "GET /v1/segments/{segment_id}/export.csv": "segments.export",
    "GET /v1/segments/{segment_id}/members": "segments.members",
    "GET /v1/tiers": "tiers.list",
    "PUT /v1/tiers": "tiers.replace",
    "GET /v1/webhooks": "webhooks.list",
    "POST /v1/webhooks": "webhooks.create",
    "POST /v1/webhooks/deliveries/{delivery_id}/replay": "webhooks.replay_delivery",
    "DELETE /v1/webhooks/{subscription_id}": "webhooks.delete",
    "GET /v1/webhooks/{subscription_id}": "webhooks.get",
    "PATCH /v1/webhooks/{subscription_id}": "webhooks.update",
    "GET /v1/webhooks/{subscription_id}/deliveries": "webhooks.deliveries",
    "POST /v1/webhooks/{subscription_id}/ping": "webhooks.ping",
    "GET /v1/jobs/runs": "jobs.runs",
}

NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def operations(client):
    spec = client.get("/openapi.json").get_json()
    return {
        f"{method.upper()} {path}": operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_operation_has_its_expected_operation_id(operations):
    served = {key: operation.get("operationId") for key, operation in operations.items()}
    assert served == EXPECTED


def test_operation_ids_are_unique(operations):
    ids = [operation.get("operationId") for operation in operations.values()]
    duplicates = sorted({name for name in ids if ids.count(name) > 1})
    assert not duplicates


def test_operation_ids_are_resource_dot_action(operations):
    bad = {key: op.get("operationId") for key, op in operations.items() if not NAME.match(op.get("operationId") or "")}
    assert not bad
