"""Example requests and responses for the OpenAPI document: one consistent story (the member Li Wei
enrols, orders tea, returns a cup, pays with points) captured from the real service, so generated
client docs show what the service actually answers. tests/api/test_api_examples.py validates them."""

CREATE_REQUEST = {
    "external_id": "shop-10482",
    "name": "Li Wei",
    "email": "li.wei@example.com",
    "phone": "+86 139 1234 5678",
    "birthday": "1990-05-17",
    "city": "Shanghai",
    "tags": ["tea lover"],
    "consent": {"email": True, "sms": False},
}

CREATE_RESPONSE = {
    "id": "mbr_01M7P63RSTABV0FFJS3246VQJ5",
    "member_number": "981037398972",
    "external_id": "shop-10482",
    "name": "Li Wei",
    "email": "li.wei@example.com",
    "phone": "+8613912345678",
    "birthday": "1990-05-17",
    "gender": None,
    "city": "Shanghai",
    "occupation": None,
    "timezone": None,
    "locale": None,
    "tags": ["tea lover"],
    "consent": {"email": True, "sms": False, "phone": False, "push": False, "marketing": False},
    "share_code": "JKAJRXN3",
    "referred_by_code": None,
    "referral_code": None,
    "status": "active",
    "tier": None,
    "enrolled_at": "2026-11-18T02:00:00Z",
    "updated_at": "2026-11-18T02:00:00Z",
    "erased_at": None,
}
