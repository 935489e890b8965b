from __future__ import annotations

from loyalty.audit.rules import field_names, should_record
from loyalty.members.rules import lookup_refusal


def test_field_names_are_names_only_nested_ones_dotted():
    body = {"email": "a@b.cn", "consent": {"sms": True, "email": False}, "tags": ["vip"], "birthday": None}
    assert field_names(body) == ["birthday", "consent.email", "consent.sms", "email", "tags"]
    assert field_names([{"name": "x"}]) == [] and field_names(None) == []
    # a key that looks like a value (an address, a phone) is not a field name and is dropped
    assert field_names({"a@b.cn": 1, "+8613912345678": 2, "name": "x"}) == ["name"]


def test_which_writes_are_kept():
    assert should_record(role="staff", method="POST", rule="/v1/orders", action="orders.post_order")
    assert not should_record(role="staff", method="GET", rule="/v1/members", action="members.list_members")
    assert not should_record(role="storefront", method="POST", rule="/v1/orders", action="orders.post_order")
    assert should_record(
        role="storefront", method="PATCH", rule="/v1/members/<member_id>", action="members.update_member"
    )
    assert should_record(role="pos", method="PUT", rule="/v1/care/rules/<kind>", action="care.put_rule")
    assert not should_record(role="pos", method="POST", rule="/v1/tiersx", action="x.y")


def test_only_staff_and_admin_browse_members():
    assert lookup_refusal("staff", {"q": "wang"}) is None
    assert lookup_refusal("storefront", {"email": "a@b.cn"}) is None
    assert lookup_refusal("storefront", {}) and lookup_refusal("storefront", {"email": "a@b.cn", "tag": "vip"})
    assert lookup_refusal("storefront", {"phone": "1", "cursor": "x"})
