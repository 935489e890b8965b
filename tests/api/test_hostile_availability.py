"""Inputs that once answered 500 instead of a 4xx: forged cursors, deep JSON under an
Idempotency-Key, templates nested past the parser's recursion (issue 12, availability)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.core.errors import InvalidCursor
from loyalty.core.pagination import decode_cursor, decode_position, encode_cursor
from tests.factories import create_member


def _raw(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


TIMELINE_ONLY = [
    encode_cursor(["2026-01-01T00:00:00+00:00", "mev_²"]),  # isdigit() yet not int()
    encode_cursor(["2026-01-01T00:00:00+00:00", "mev_" + "9" * 300]),  # past bigint
]
FORGED = [
    encode_cursor(["9999-12-31T23:59:59-14:00", "mev_1"]),  # overflows turned into UTC
    encode_cursor(["0001-01-01T00:00:00+14:00", "x"]),  # underflows likewise
    encode_cursor(["2026-01-01T00:00:00+00:00", "mev_\u0000"]),  # NUL for PostgreSQL
    _raw(["2026-01-01T00:00:00+00:00", "a\ud800"]),  # lone surrogate: no UTF-8
    encode_cursor(["2026-01-01T00:00:00", "mev_1"]),  # naive
]


@pytest.mark.parametrize("cursor", TIMELINE_ONLY + FORGED)
def test_forged_cursors_are_400_invalid_cursor(client, auth, cursor):
    member = create_member(client, auth)
    paths = [f"/v1/members/{member['id']}/timeline"]
    if cursor in FORGED:
        paths += [f"/v1/members/{member['id']}/coupons", "/v1/callbacks"]
    for path in paths:
        response = client.get(path, query_string={"cursor": cursor}, headers=auth())
        assert response.status_code == 400, (path, response.get_data(as_text=True))
        assert response.get_json()["code"] == "invalid_cursor", path


@pytest.mark.parametrize("id_key", [str(10**300), "mev_" + "1" * 300])
def test_huge_ids_in_id_cursors_are_400(client, auth, id_key):
    member = create_member(client, auth)
    for path, value in ((f"/v1/members/{member['id']}/ledger", 10**300), ("/v1/members", id_key)):
        response = client.get(path, query_string={"cursor": _raw([value])}, headers=auth())
        assert response.status_code == 400 and response.get_json()["code"] == "invalid_cursor", path


def _decoders():
    return [
        lambda cursor: decode_cursor(cursor, 1, (str,)),
        lambda cursor: decode_cursor(cursor, 1, (int,)),
        lambda cursor: decode_cursor(cursor, 2),
        decode_position,
    ]


def _check(cursor: str) -> None:
    for decode in _decoders():
        try:
            decoded = decode(cursor)
        except InvalidCursor:
            continue
        if decoded is None:
            continue
        # What decodes is storable: no NUL, valid UTF-8, ints within a bigint, aware UTC times.
        for part in decoded:
            if isinstance(part, str):
                assert "\x00" not in part
                part.encode()
            elif isinstance(part, int):
                assert -(2**63) < part < 2**63
            else:
                assert part.utcoffset() is not None


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None, database=None)
def test_every_cursor_decoder_takes_arbitrary_bytes(raw):
    _check(base64.urlsafe_b64encode(raw).decode().rstrip("="))


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None, database=None)
def test_every_cursor_decoder_takes_arbitrary_text(text):
    _check(text)


_json_parts = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@given(st.lists(_json_parts, min_size=1, max_size=2) | _json_parts)
@settings(max_examples=300, deadline=None, database=None)
def test_every_cursor_decoder_takes_arbitrary_json(key):
    _check(_raw(key))
    if isinstance(key, list) and len(key) == 2:
        _check(_raw(["2026-01-01T00:00:00+00:00", *key[1:]]))


@given(st.text(max_size=40), st.text(max_size=40))
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_arbitrary_position_cursors_never_500(client, auth, at, item):
    cursor = _raw([at, item])
    response = client.get("/v1/callbacks", query_string={"cursor": cursor}, headers=auth())
    assert response.status_code in (200, 400, 422), response.get_data(as_text=True)  # 422: over 500 characters


def test_deep_json_with_an_idempotency_key_is_400(client, auth):
    deep = "[" * 100_000 + "]" * 100_000
    for index, raw in enumerate((deep, '{"name": ' + deep + "}")):
        response = client.post(
            "/v1/members",
            data=raw,
            content_type="application/json",
            headers=auth(**{"Idempotency-Key": f"deep-{index}"}),
        )
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["code"] == "malformed_json"


@pytest.mark.parametrize(
    "template",
    [
        "{{ " + "(" * 2400 + "name" + ")" * 2400 + " }}",
        "{{ " + "not " * 1200 + "name }}",
        "{% if " + "not " * 1200 + "name %}x{% endif %}",
    ],
)
def test_templates_nested_past_the_parser_are_422(client, auth, template):
    response = client.put("/v1/care/rules/birthday", json={"template": template}, headers=auth())
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "template" in response.get_json()["errors"]
