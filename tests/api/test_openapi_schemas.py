"""The document's schemas make good generated clients: one name per shape, names that say request
or response, `required` for what is always sent, and real answers that match what is documented."""

from __future__ import annotations

import json
import re
import warnings

import jsonschema_rs
import pytest

from loyalty import create_app
from tests.factories import create_member, order_payload

# Components a request and a response share on purpose: the same shape both ways.
SHARED = {"CustomDate", "SegmentFilters"}

# The main response shapes and the fields each may leave out (its description says when).
MAIN_RESPONSES = {
    "Member": {"referral"},
    "MemberPage": set(),
    "Balance": set(),
    "Order": set(),
    "Refund": set(),
    "Quote": set(),
    "Tier": set(),
    "Ladder": set(),
    "Redemption": set(),
    "PosMember": set(),
    "Flags": set(),
    "Segment": set(),
    "SegmentPage": set(),
    "Campaign": set(),
    "CampaignResults": set(),
    "Preview": set(),
    "Program": set(),
    "Reward": set(),
    "Coupon": set(),
    "LedgerEntry": set(),
    "Promotion": set(),
    "Subscription": {"secret"},
    "Problem": {"errors"},
    "MemberTier": set(),
}


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


def _pascal(name: str) -> str:
    # As openapi-python-client names classes: words split at anything not a letter or digit.
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", name) if word)


def _defines_a_class(schema: dict) -> bool:
    """An inline schema a client generator turns into a class of its own (a model or an enum)."""
    return "properties" in schema or schema.get("type") == "object" or "enum" in schema


def _inline_models(owner: str, schema: dict, found: list[tuple[str, dict]]) -> None:
    """Every class a generator makes for the inline schemas under `owner`, named as it names them:
    the owner's name then the property's (`Segment.filters` → `SegmentFilters`), `Item` for arrays."""
    for prop, sub in (schema.get("properties") or {}).items():
        _inline_one(owner + _pascal(prop), sub, found)


def _inline_one(name: str, schema: dict, found: list[tuple[str, dict]]) -> None:
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for i, part in enumerate(schema.get(key, [])):
            _inline_one(f"{name}Type{i}" if key != "allOf" else name, part, found)
    if "items" in schema:
        _inline_one(name + "Item", schema["items"], found)
    if _defines_a_class(schema):
        found.append((name, schema))
        _inline_models(name, schema, found)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra and _defines_a_class(extra):
            _inline_one(name + "AdditionalProperty", extra, found)


def _strip_docs(schema):
    if isinstance(schema, dict):
        return {k: _strip_docs(v) for k, v in schema.items() if k not in ("description", "example", "examples")}
    if isinstance(schema, list):
        return [_strip_docs(v) for v in schema]
    return schema


def test_no_two_schemas_resolve_to_one_name(db, config):
    # apispec would only warn and publish `Name1`; our resolver refuses, and this catches either.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = create_app(config, database=db)
        names = list(app.test_client().get("/openapi.json").get_json()["components"]["schemas"])
    assert not [w for w in caught if "Multiple schemas resolved" in str(w.message)]
    assert not [n for n in names if re.search(r"[0-9]$", n)], "a numbered component name is a collision"


def test_no_inline_schema_takes_a_component_name_or_another_inline_name(spec):
    components = spec["components"]["schemas"]
    found: list[tuple[str, dict]] = []
    for name, schema in components.items():
        _inline_models(name, schema, found)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            stem = _pascal(operation.get("operationId") or f"{method}_{path}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _inline_one(stem + "Body", media.get("schema", {}), found)
            for status, response in operation["responses"].items():
                for media in response.get("content", {}).values() if isinstance(response, dict) else ():
                    _inline_one(f"{stem}Response{status}", media.get("schema", {}), found)
    by_name: dict[str, dict] = {_pascal(n): s for n, s in components.items()}
    assert len(by_name) == len(components), "two component names differ only in case or separators"
    clashes = []
    for name, schema in found:
        if name in by_name and _strip_docs(by_name[name]) != _strip_docs(schema):
            clashes.append(name)
        by_name.setdefault(name, schema)
    assert not clashes, f"inline schemas named like another, different schema: {sorted(set(clashes))}"


def test_the_segment_collision_of_issue_15_is_gone(spec):
    schemas = spec["components"]["schemas"]
    for name in ("Segment", "SegmentListItem"):
        assert schemas[name]["properties"]["filters"] == {"$ref": "#/components/schemas/SegmentFilters"}
    assert schemas["SegmentIn"]["properties"]["filters"] == {"$ref": "#/components/schemas/SegmentFilters"}


def _refs(node, components, seen):
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] not in seen:
            seen.add(ref.rsplit("/", 1)[1])
            _refs(components[ref.rsplit("/", 1)[1]], components, seen)
        for value in node.values():
            _refs(value, components, seen)
    elif isinstance(node, list):
        for value in node:
            _refs(value, components, seen)
    return seen


def _requests_and_responses(spec):
    components = spec["components"]["schemas"]
    requests, responses = set(), set()
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                _refs(operation.get("requestBody", {}), components, requests)
                _refs(operation.get("responses", {}), components, responses)
    _refs(spec["components"].get("responses", {}), components, responses)
    _refs(spec.get("webhooks", {}), components, responses)
    return requests, responses


def test_names_say_request_or_response(spec):
    requests, responses = _requests_and_responses(spec)
    assert requests & responses == SHARED
    wrong_requests = sorted(n for n in requests - SHARED if not n.endswith(("In", "Update")))
    assert not wrong_requests, f"request bodies are <Thing>In (or <Thing>Update for PATCH): {wrong_requests}"
    wrong_responses = sorted(n for n in responses if n.endswith(("In", "Out", "Update", "Create")))
    assert not wrong_responses, f"responses are plain <Thing>: {wrong_responses}"
    components = spec["components"]["schemas"]
    pages = {n for n in responses if {"data", "next_cursor"} <= set(components[n].get("properties", {}))}
    assert pages and all(n.endswith("Page") for n in pages), sorted(pages)
    assert {"QuoteIn", "OrderIn", "MemberIn"} <= requests and {"Quote", "Order", "Member"} <= responses


def test_every_response_field_is_required_or_documented_as_optional(spec):
    components = spec["components"]["schemas"]
    _, responses = _requests_and_responses(spec)
    undocumented = []
    # A shared shape keeps its request's optional fields: a segment answers the filters it was given.
    for name in sorted(responses - SHARED):
        schema = components[name]
        required = set(schema.get("required", []))
        for prop, sub in schema.get("properties", {}).items():
            if prop not in required and not sub.get("description"):
                undocumented.append(f"{name}.{prop}")
    assert not undocumented, f"neither required nor saying when they are absent: {undocumented}"
    for name, optional in MAIN_RESPONSES.items():
        schema = components[name]
        assert set(schema["properties"]) - set(schema.get("required", [])) == optional, name


def test_a_nullable_field_with_an_enum_is_one_enum_or_null(spec):
    """`anyOf: [{type, enum}, {type: null}]`, so generators make one enum type of it (`Gender | None`);
    `type: [string, null]` with null among the values gave openapi-python-client three identical ones."""
    nullable_enums = 0
    for name, schema in spec["components"]["schemas"].items():
        for prop, sub in schema.get("properties", {}).items():
            assert not ("enum" in sub and isinstance(sub.get("type"), list)), f"{name}.{prop}"
            branches = sub.get("anyOf", [])
            if any("enum" in branch for branch in branches):
                nullable_enums += 1
                [values] = [branch for branch in branches if "enum" in branch]
                assert None not in values["enum"] and {"type": "null"} in branches, f"{name}.{prop}"
    assert nullable_enums >= 7  # gender (in and update), reasons and outcomes of touches, callbacks, referrals


class Checked:
    """Validates answers against the operation's documented response (JSON Schema 2020-12)."""

    def __init__(self, client, spec) -> None:
        self.client, self.spec, self.seen = client, spec, set()
        self._routes = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in spec["paths"]]

    def __call__(self, method: str, url: str, status: int, **kwargs):
        response = self.client.open(url, method=method, **kwargs)
        assert response.status_code == status, response.get_json()
        path = url.split("?")[0]
        template = next(t for rx, t in self._routes if rx.match(path) and method.lower() in self.spec["paths"][t])
        documented = self.spec["paths"][template][method.lower()]["responses"][str(status)]
        schema = documented["content"]["application/json"]["schema"]
        root = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.spec["components"],
            **schema,
        }
        body = response.get_json()
        errors = [f"{list(e.instance_path)}: {e.message}" for e in jsonschema_rs.validator_for(root).iter_errors(body)]
        assert not errors, f"{method} {template} answered what its schema refuses: {errors}\n{json.dumps(body)[:2000]}"
        self.seen.add(schema.get("$ref", "").rsplit("/", 1)[-1])
        return body


def test_real_answers_of_the_main_flows_match_their_schemas(client, auth, spec):
    check = Checked(client, spec)
    staff, pos, storefront = auth("staff"), auth("pos"), auth("storefront")
    check(
        "PUT",
        "/v1/tiers",
        200,
        headers=auth("admin"),
        json={
            "tiers": [
                {"code": "member", "name": "Member", "rank": 0, "threshold": "0"},
                {"code": "gold", "name": "Gold", "rank": 1, "threshold": "1000", "discount_percent": "5"},
            ]
        },
    )
    check("GET", "/v1/program", 200, headers=staff)
    referrer = create_member(client, auth)
    share = check("GET", f"/v1/members/{referrer['id']}", 200, headers=staff)["share_code"]
    member = check(
        "POST",
        "/v1/members",
        201,
        headers=staff,
        json={"name": "Li", "email": "li@example.com", "referral_code": share},
    )
    assert "referral" in member  # the one optional field is here when enrolling with a code
    bare = check("POST", "/v1/members", 201, headers=staff, json={})
    assert bare["name"] is None and "referral" not in bare
    check("GET", "/v1/members?limit=2", 200, headers=staff)
    check("GET", f"/v1/members/{member['id']}/tier", 200, headers=staff)
    items = [{"sku": "tea-1", "category": "tea", "quantity": 2, "unit_price": "60.00"}]
    check("POST", "/v1/quote", 200, headers=pos, json={"member_id": member["id"], "items": items})
    check(
        "POST", "/v1/orders", 201, headers=storefront, json=order_payload(member["id"], "o-1", "1200.00", days_ago=40)
    )
    check("POST", "/v1/orders/o-1/refunds", 201, headers=storefront, json={"refund_id": "r-1", "amount": "100"})
    check("GET", f"/v1/members/{member['id']}/balance", 200, headers=staff)
    check("GET", f"/v1/members/{member['id']}/ledger", 200, headers=staff)
    redemption = check("POST", "/v1/redemptions", 201, headers=pos, json={"member_id": member["id"], "points": 100})
    check("POST", f"/v1/redemptions/{redemption['id']}/capture", 200, headers=pos)
    pos_member = check("GET", f"/v1/pos/members/{member['member_number']}", 200, headers=pos)
    assert pos_member["tier"] == "gold"
    segment = check(
        "POST",
        "/v1/segments",
        201,
        headers=staff,
        json={
            "name": "gold in town",
            "filters": {"tiers": ["gold"], "enrolled_after": "2020-01-01", "spend_12m_min": "100.5"},
        },
    )
    assert segment["filters"]["enrolled_after"] == "2020-01-01"
    check("GET", f"/v1/segments/{segment['id']}", 200, headers=staff)
    check("GET", "/v1/segments", 200, headers=staff)
    check("GET", f"/v1/segments/{segment['id']}/members", 200, headers=staff)
    campaign = check(
        "POST",
        "/v1/campaigns",
        201,
        headers=staff,
        json={"name": "hello", "segment_id": segment["id"], "channel": "sms", "template": "Hi {{ name }}"},
    )
    check("POST", f"/v1/campaigns/{campaign['id']}/preview", 200, headers=staff)
    check("POST", f"/v1/campaigns/{campaign['id']}/launch", 200, headers=staff)
    check("GET", f"/v1/campaigns/{campaign['id']}", 200, headers=staff)
    assert {
        "Member",
        "MemberPage",
        "MemberTier",
        "Quote",
        "Order",
        "Refund",
        "Balance",
        "LedgerPage",
        "Redemption",
        "PosMember",
        "Segment",
        "SegmentPage",
        "SegmentMembersPage",
        "Campaign",
        "Preview",
        "Program",
        "Ladder",
    } <= check.seen


def test_the_resolver_refuses_two_classes_with_one_name_and_reads_openapi_name_uninherited():
    import marshmallow as ma

    from loyalty.core.openapi import SchemaNames

    class ThingSchema(ma.Schema):
        openapi_name = "ThingIn"

    class OtherThingSchema(ThingSchema):
        pass

    names = SchemaNames()
    assert names(ThingSchema) == names(ThingSchema()) == "ThingIn"
    assert names(OtherThingSchema) == "OtherThing"  # a subclass is another shape: no inherited name
    impostor = type("ThingSchema", (ma.Schema,), {"openapi_name": "ThingIn"})
    with pytest.raises(ValueError, match="ThingIn"):
        names(impostor)
