"""Example requests and responses for the OpenAPI document: one consistent story (the member Li Wei
enrols, orders tea, returns a cup, pays with points) captured from the real service, so generated
client docs show what the service actually answers. tests/api/test_api_examples.py validates them."""

CREATE_REQUEST = {
    "order_id": "SO-2026-004211",
    "member_id": "mbr_01M7P63RSTABV0FFJS3246VQJ5",
    "placed_at": "2026-10-19T02:00:00Z",
    "items": [
        {"sku": "TEA-OOLONG-250", "category": "tea", "quantity": 2, "unit_price": "49.00"},
        {"sku": "CUP-CELADON", "category": "teaware", "quantity": 1, "unit_price": "30.00"},
    ],
}

CREATE_RESPONSE = {
    "order_id": "SO-2026-004211",
    "member_id": "mbr_01M7P63RSTABV0FFJS3246VQJ5",
    "points_earned": 128,
    "bonus_points": 0,
    "available_at": "2026-11-02T02:00:00Z",
    "tier": None,
    "placed_at": "2026-10-19T02:00:00Z",
    "currency": "CNY",
    "channel": "online",
    "store_id": None,
    "net_amount": "128.00",
    "eligible_amount": "128.00",
    "refunded_amount": "0.00",
    "points_reversed": 0,
    "created_at": "2026-11-18T02:00:00Z",
}

REFUND_REQUEST = {"refund_id": "RF-2026-000731", "items": [{"sku": "CUP-CELADON", "quantity": 1}]}

REFUND_RESPONSE = {
    "refund_id": "RF-2026-000731",
    "order_id": "SO-2026-004211",
    "amount": "30.00",
    "points_reversed": 30,
    "points_returned": 0,
    "created_at": "2026-11-18T02:00:00Z",
}

QUOTE_REQUEST = {
    "member_id": "mbr_01M7P63RSTABV0FFJS3246VQJ5",
    "items": [{"sku": "TEA-OOLONG-250", "category": "tea", "quantity": 1, "unit_price": "49.00"}],
}

QUOTE_RESPONSE = {
    "member_id": "mbr_01M7P63RSTABV0FFJS3246VQJ5",
    "tier": None,
    "currency": "CNY",
    "net_amount": "49.00",
    "discount_percent": "0",
    "discount_amount": "0.00",
    "points_to_earn": 49,
    "promotion_points": 0,
    "bonus_points": 0,
    "total_points": 49,
    "max_redeemable_points": 98,
    "max_redeemable_value": "0.98",
}
