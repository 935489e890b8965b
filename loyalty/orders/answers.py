"""The order as POST /v1/orders answers it, written directly from its row: no schema dump on the
checkout's hot path. tests/api/test_orders.py checks it is exactly what OrderSchema (the documented
shape, still used by GET /v1/orders/<id>) gives for the same order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty.core.money import money


def order_answer(order: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "order_id": order["order_id"],
        "member_id": order["member_id"],
        "points_earned": order["points_earned"],
        "bonus_points": order["bonus_points"],
        "available_at": order["available_at"].isoformat(),
        "tier": order["tier_after"],
        "placed_at": order["placed_at"].isoformat(),
        "currency": order["currency"],
        "channel": order["channel"],
        "store_id": order["store_id"],
        "net_amount": money(order["net_amount"]),
        "eligible_amount": money(order["eligible_amount"]),
        "refunded_amount": money(order["refunded_amount"]),
        "points_reversed": (order["points_reversed"] or 0) - (order["points_forgiven"] or 0),  # Order.reversed_points
        "created_at": order["created_at"].isoformat(),
    }
