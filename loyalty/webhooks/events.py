"""What each webhook carries, published in the OpenAPI document's top-level `webhooks` section
(OpenAPI 3.1), so receivers can generate types and validate payloads like any other part of the API."""

from __future__ import annotations

from typing import TypeVar

import marshmallow as ma
from apispec import APISpec

from loyalty.core.fields import ResponseSchema

S, I, D = ma.fields.String, ma.fields.Integer, ma.fields.AwareDateTime  # noqa: E741 - short names keep the catalog one line an event


_Field = TypeVar("_Field", bound=ma.fields.Field)


def _nullable(field: _Field) -> _Field:
    field.allow_none = True
    return field


class MemberCreatedData(ResponseSchema):
    """Ids only: receivers read the member's details over the API (erasure then reaches them too)."""

    member_id, member_number, external_id, tier = S(), S(), _nullable(S()), _nullable(S())
    referral = _nullable(ma.fields.Dict(metadata={"description": "The sign-up's referral (id, status, reason)"}))


class OrderPointsAwardedData(ResponseSchema):
    order_id, member_id, points_earned, bonus_points = S(), S(), I(), I()
    available_at, tier = _nullable(D()), _nullable(S())


class PointsExpiringData(ResponseSchema):
    member_id, points, expires_at = S(), I(), D()


class TierChangedData(ResponseSchema):
    member_id, reason, since = S(), S(), D()
    from_, to, kept_until = _nullable(S(data_key="from")), _nullable(S()), _nullable(D())


class RedemptionCapturedData(ResponseSchema):
    redemption_id, member_id, points = S(), S(), I()
    order_id, reward_id, coupon_code = _nullable(S()), _nullable(S()), _nullable(S())


class ReferralQualifiedData(ResponseSchema):
    referral_id, referrer_id, referee_id, order_id = S(), S(), S(), _nullable(S())
    referrer_points, referee_points = I(), I()


class TouchDueData(ResponseSchema):
    """For the messaging gateway: send `message` to `to` (an address, a phone number or, for push,
    the member id) over `channel`."""

    touch_id, member_id, kind, channel, message = S(), S(), S(), S(), S()
    occasion, to, locale, campaign_id, coupon_code = (
        _nullable(S()),
        _nullable(S()),
        _nullable(S()),
        _nullable(S()),
        _nullable(S()),
    )


class CampaignFinishedData(ResponseSchema):
    campaign_id = S()
    targeted, sent, failed, suppressed, responded, waiting, held_out = I(), I(), I(), I(), I(), I(), I()
    suppressed_by_reason = ma.fields.Dict(keys=S(), values=I())


class PingData(ResponseSchema):
    subscription_id = S()


EVENT_DATA = {
    "member.created": (MemberCreatedData, "A member enrolled"),
    "order.points_awarded": (OrderPointsAwardedData, "An order earned points"),
    "points.expiring": (PointsExpiringData, "Points will expire soon (one notice per lot date)"),
    "tier.changed": (TierChangedData, "A member moved up or down the tier ladder"),
    "redemption.captured": (RedemptionCapturedData, "Points were spent"),
    "referral.qualified": (ReferralQualifiedData, "A referred friend's first purchase qualified; both were rewarded"),
    "touch.due": (TouchDueData, "A care message is due: the messaging gateway sends it"),
    "campaign.finished": (CampaignFinishedData, "A campaign ended, with its counts"),
    "ping": (PingData, "A test sent by POST /v1/webhooks/{id}/ping (never retried)"),
}
_HEADERS = (
    ("webhook-id", "The delivery's id: the same on every retry and replay; dedupe on it"),
    ("webhook-timestamp", "Unix seconds of this attempt; refuse stale ones"),
    (
        "webhook-signature",
        (
            "`v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed "
            "with the base64-decoded secret (Standard Webhooks)"
        ),
    ),
)


def document(spec: APISpec) -> None:
    """Adds each event's envelope schema and its entry under `webhooks`."""
    hooks = {}
    for event_type, (data_schema, summary) in EVENT_DATA.items():
        name = "".join(part.title() for part in event_type.replace("_", ".").split(".")) + "Event"
        spec.components.schema(
            name,
            {
                "type": "object",
                "required": ["type", "timestamp", "data"],
                "properties": {
                    "type": {"type": "string", "const": event_type},
                    "timestamp": {
                        "type": "string",
                        "format": "date-time",
                        "description": "When it happened (ISO 8601)",
                    },
                    "data": {"$ref": f"#/components/schemas/{name}Data"},
                },
            },
        )
        spec.components.schema(f"{name}Data", schema=data_schema)
        hooks[event_type] = {
            "post": {
                "summary": summary,
                "operationId": f"webhook_{event_type.replace('.', '_')}",
                "parameters": [
                    {
                        "in": "header",
                        "name": header,
                        "required": True,
                        "schema": {"type": "string"},
                        "description": text,
                    }
                    for header, text in _HEADERS
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                },
                "responses": {
                    "2XX": {"description": "Received: not sent again"},
                    "410": {"description": "Gone: the subscription is disabled and nothing more is sent"},
                    "default": {"description": "Retried with backoff for 24 hours"},
                },
            }
        }
    spec.options["webhooks"] = hooks
