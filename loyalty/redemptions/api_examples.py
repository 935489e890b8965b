"""Example requests and responses for the OpenAPI document: one consistent story (the member Li Wei
enrols, orders tea, returns a cup, pays with points) captured from the real service, so generated
client docs show what the service actually answers. tests/api/test_api_examples.py validates them."""

CREATE_REQUEST = {"member_id": "mbr_01M7P63RSTABV0FFJS3246VQJ5", "points": 200}

CREATE_RESPONSE = {
    "id": "rdm_01M7P63S3PHMY7YBQWENQRYQ76",
    "member_id": "mbr_01M7P63RSTABV0FFJS3246VQJ5",
    "status": "held",
    "points": 200,
    "points_returned": 0,
    "value": "2.00",
    "expires_at": "2026-11-18T02:15:00Z",
    "order_id": None,
    "reward_id": None,
    "coupon_code": None,
    "created_at": "2026-11-18T02:00:00Z",
    "reversed_at": None,
    "reversal_reason": None,
}

CAPTURE_RESPONSE = {
    "id": "rdm_01M7P63S3PHMY7YBQWENQRYQ76",
    "member_id": "mbr_01M7P63RSTABV0FFJS3246VQJ5",
    "status": "captured",
    "points": 200,
    "points_returned": 0,
    "value": "2.00",
    "expires_at": "2026-11-18T02:15:00Z",
    "order_id": None,
    "reward_id": None,
    "coupon_code": None,
    "created_at": "2026-11-18T02:00:00Z",
    "reversed_at": None,
    "reversal_reason": None,
}
