"""Example requests and responses for the OpenAPI document: one consistent story (the member Li Wei
enrols, orders tea, returns a cup, pays with points) captured from the real service, so generated
client docs show what the service actually answers. tests/api/test_api_examples.py validates them."""

LOOKUP_RESPONSE = {
    "member_id": "mbr_01M7P63RSTABV0FFJS3246VQJ5",
    "member_number": "981037398972",
    "display_name": "Li Wei",
    "status": "active",
    "tier": None,
    "discount_percent": "0",
    "available_points": 398,
    "points_value": "3.98",
    "currency": "CNY",
    "flags": {"birthday_this_month": False, "reward_ready": False, "can_redeem": True},
}
