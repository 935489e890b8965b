"""Signing with several secrets (a rotation's grace period), checked against the Standard Webhooks
reference library as a receiver would use it."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from loyalty.core import signing
from tests.clock import NOW

NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()
OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"x" * 32).decode()
BODY = b'{"data":{"member_id":"mbr_1"},"timestamp":"2026-11-18T02:00:00+00:00","type":"member.created"}'
STAMP = int(NOW.timestamp())


def headers(signature: str) -> dict[str, str]:
    return {"webhook-id": "msg_1", "webhook-timestamp": str(STAMP), "webhook-signature": signature}


def test_both_signatures_are_sent_and_either_secret_verifies_with_the_reference_library():
    header = signing.sign_all([NEW, OLD], "msg_1", STAMP, BODY)
    assert header.split() == [signing.sign(NEW, "msg_1", STAMP, BODY), signing.sign(OLD, "msg_1", STAMP, BODY)]
    for secret in (NEW, OLD):
        assert Webhook(secret).verify(BODY, headers(header)) == {
            "data": {"member_id": "mbr_1"},
            "timestamp": "2026-11-18T02:00:00+00:00",
            "type": "member.created",
        }
        assert signing.verify(secret, "msg_1", STAMP, BODY, header)
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(BODY, headers(header))
    assert not signing.verify(OTHER, "msg_1", STAMP, BODY, header)


def test_one_secret_signs_as_before_and_a_changed_body_fails():
    header = signing.sign_all([NEW], "msg_1", STAMP, BODY)
    assert header == signing.sign(NEW, "msg_1", STAMP, BODY) and " " not in header
    Webhook(NEW).verify(BODY, headers(header))
    with pytest.raises(WebhookVerificationError):
        Webhook(NEW).verify(BODY.replace(b"mbr_1", b"mbr_2"), headers(header))


def test_a_secret_given_twice_signs_once_and_none_is_refused():
    assert signing.sign_all([NEW, NEW], "msg_1", STAMP, BODY) == signing.sign(NEW, "msg_1", STAMP, BODY)
    with pytest.raises(ValueError):
        signing.sign_all([], "msg_1", STAMP, BODY)
    with pytest.raises(ValueError):
        signing.sign_all([NEW, "not-a-secret"], "msg_1", STAMP, BODY)


@pytest.mark.parametrize(
    ("previous", "until", "expected"),
    [
        (OLD, NOW + timedelta(hours=1), (NEW, OLD)),  # inside the grace period: both, the new first
        (OLD, NOW + timedelta(microseconds=1), (NEW, OLD)),
        (OLD, NOW, (NEW,)),  # its end is outside it
        (OLD, NOW - timedelta(hours=1), (NEW,)),  # after it: only the new one
        (None, NOW + timedelta(hours=1), (NEW,)),  # never rotated
        (OLD, None, (NEW,)),
        (NEW, NOW + timedelta(hours=1), (NEW,)),  # "rotated" to the same secret: signs once
    ],
)
def test_the_previous_secret_signs_only_during_its_grace_period(previous, until, expected):
    assert signing.in_force(NEW, previous, until, now=NOW) == expected
