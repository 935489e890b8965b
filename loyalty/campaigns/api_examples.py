"""Example requests and responses for the OpenAPI document: one consistent story (the member Li Wei
enrols, orders tea, returns a cup, pays with points) captured from the real service, so generated
client docs show what the service actually answers. tests/api/test_api_examples.py validates them."""

SEGMENTS_CREATE_REQUEST = {
    "name": "Lapsed tea lovers",
    "filters": {"tags": ["tea lover"], "last_order_before": "2026-08-20"},
}

SEGMENTS_CREATE_RESPONSE = {
    "id": "seg_01M7P63S4HGXBD0F2HW9SJJ9N8",
    "name": "Lapsed tea lovers",
    "filters": {"tags": ["tea lover"], "last_order_before": "2026-08-20"},
    "members": 1,
    "created_at": "2026-11-18T02:00:00Z",
    "created_by": "key:sdkutu8i",
}

CAMPAIGNS_CREATE_REQUEST = {
    "name": "We miss you",
    "segment_id": "seg_01M7P63S4HGXBD0F2HW9SJJ9N8",
    "channel": "sms",
    "gift_points": 500,
    "send_rate": 60,
    "template": "{{ name }}, we miss you: {{ gift_points }} points are yours",
}

CAMPAIGNS_CREATE_RESPONSE = {
    "id": "cmp_01M7P63S4Y4DAXDWEFGWS3TWN0",
    "name": "We miss you",
    "segment_id": "seg_01M7P63S4HGXBD0F2HW9SJJ9N8",
    "channel": "sms",
    "template": "{{ name }}, we miss you: {{ gift_points }} points are yours",
    "gift_points": 500,
    "reward_id": None,
    "starts_at": None,
    "send_rate": 60,
    "conversion_days": 14,
    "holdout_percent": 0,
    "status": "draft",
    "created_at": "2026-11-18T02:00:00Z",
    "launched_at": None,
    "finished_at": None,
    "created_by": "key:sdkutu8i",
    "results": {
        "targeted": 0,
        "sent": 0,
        "failed": 0,
        "suppressed": 0,
        "suppressed_by_reason": {},
        "waiting": 0,
        "responded": 0,
        "converted": 0,
        "points_spent": 0,
        "held_out": 0,
        "converted_held_out": 0,
        "conversion_rate": None,
        "conversion_rate_held_out": None,
        "lift": None,
        "relative_lift": None,
    },
}
