"""Descriptions of the path parameters every feature's routes share, so a client generator
documents them the same way everywhere (``@blp.route(..., parameters=path_params("member_id"))``)."""

from __future__ import annotations

from typing import Any

PATH_PARAMS = {
    "member_id": "The member's id (`mbr_...`); a merged member's id resolves to the survivor",
    "order_id": "The order id the storefront or POS gave when posting the order",
    "redemption_id": "The redemption's id (`rdm_...`)",
    "reward_id": "The reward's id (`rwd_...`)",
    "promotion_id": "The promotion's id (`prm_...`)",
    "campaign_id": "The campaign's id (`cmp_...`)",
    "segment_id": "The segment's id (`seg_...`)",
    "subscription_id": "The webhook subscription's id (`whk_...`)",
    "delivery_id": "The delivery's id, from the subscription's delivery log",
    "touch_id": "The touch's id (`tch_...`)",
    "interaction_id": "The interaction's id (`int_...`)",
    "code": "The coupon code; case, spaces and dashes are ignored",
    "kind": "The kind of touch the rule is for, e.g. `birthday` or `win_back`",
    "identifier": "A member number (check digit verified), a phone number in any common format, or a coupon code",
}


def path_params(*names: str) -> list[dict[str, Any]]:
    """Path parameter docs for a route; flask-smorest merges them with the ones it reads from the rule."""
    return [{"in": "path", "name": name, "required": True, "description": PATH_PARAMS[name]} for name in names]
