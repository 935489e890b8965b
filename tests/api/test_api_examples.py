"""The main flows carry a real example request and response, and each example is valid against the
schema the document gives for it (so a generated client's docs never show something we'd refuse)."""

from __future__ import annotations

import jsonschema_rs  # schemathesis's validator, already a dev dependency through it
import pytest

JSON = "application/json"
# operationId -> (METHOD path, success status); one story: enrol, order, refund, quote, redeem, till, campaign.
FLOWS = {
    "members.create": ("POST /v1/members", "201"),
    "orders.create": ("POST /v1/orders", "201"),
    "orders.refund": ("POST /v1/orders/{order_id}/refunds", "201"),
    "orders.quote": ("POST /v1/quote", "200"),
    "redemptions.create": ("POST /v1/redemptions", "201"),
    "redemptions.capture": ("POST /v1/redemptions/{redemption_id}/capture", "200"),
    "pos.lookup": ("GET /v1/pos/members/{identifier}", "200"),
    "segments.create": ("POST /v1/segments", "201"),
    "campaigns.create": ("POST /v1/campaigns", "201"),
}


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


def _operation(spec, key):
    method, path = key.split(" ", 1)
    return spec["paths"][path][method.lower()]


def _validate(spec, schema, instance):
    # $refs in the document are "#/components/...": give the schema the components as siblings so
    # they resolve against the served document itself.
    root = {**schema, "components": spec["components"]}
    jsonschema_rs.Draft202012Validator(root, validate_formats=True).validate(instance)


@pytest.mark.parametrize("operation_id", sorted(FLOWS))
def test_flow_has_a_request_example_valid_against_its_schema(spec, operation_id):
    key, _status = FLOWS[operation_id]
    operation = _operation(spec, key)
    assert operation["operationId"] == operation_id
    if "requestBody" not in operation:
        return  # nothing to send (capture, lookup)
    content = operation["requestBody"]["content"][JSON]
    assert content.get("example"), f"{operation_id} has no request example"
    _validate(spec, content["schema"], content["example"])


@pytest.mark.parametrize("operation_id", sorted(FLOWS))
def test_flow_has_a_response_example_valid_against_its_schema(spec, operation_id):
    key, status = FLOWS[operation_id]
    content = _operation(spec, key)["responses"][status]["content"][JSON]
    assert content.get("example"), f"{operation_id} has no response example"
    _validate(spec, content["schema"], content["example"])


def test_examples_tell_one_consistent_story(spec):
    """The order, refund, quote, redemption and lookup examples are all about the member enrolled."""

    def example(operation_id, part):
        key, status = FLOWS[operation_id]
        operation = _operation(spec, key)
        where = operation["requestBody"] if part == "request" else operation["responses"][status]
        return where["content"][JSON]["example"]

    member = example("members.create", "response")
    assert member["id"].startswith("mbr_")
    for operation_id in ("orders.create", "orders.quote", "redemptions.create"):
        assert example(operation_id, "request")["member_id"] == member["id"], operation_id
    assert example("pos.lookup", "response")["member_number"] == member["member_number"]
    order = example("orders.create", "response")
    assert example("orders.refund", "response")["order_id"] == order["order_id"]
    segment = example("segments.create", "response")
    assert example("campaigns.create", "request")["segment_id"] == segment["id"]


def test_an_invalid_example_would_be_caught(spec):
    """The validation above is real: a member example with a number for its id fails."""
    key, status = FLOWS["members.create"]
    content = _operation(spec, key)["responses"][status]["content"][JSON]
    with pytest.raises(jsonschema_rs.ValidationError):
        _validate(spec, content["schema"], {**content["example"], "id": 12345})
