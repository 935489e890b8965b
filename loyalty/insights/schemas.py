from __future__ import annotations

import marshmallow as ma

from loyalty.core.fields import DecimalString, Instant, MoneyString, ResponseSchema
from loyalty.insights.models import STAGES


class MemberInsightSchema(ResponseSchema):
    member_id = ma.fields.String()
    stage = ma.fields.String(metadata={"enum": list(STAGES)})
    churn_risk = DecimalString(metadata={"description": "0 to 1: how far past their own rhythm the member is"})
    r_score = ma.fields.Integer(allow_none=True, metadata={"description": "Recency quintile, 5 = most recent"})
    f_score = ma.fields.Integer(allow_none=True, metadata={"description": "Frequency quintile (orders in 12 months)"})
    m_score = ma.fields.Integer(allow_none=True, metadata={"description": "Monetary quintile (spend in 12 months)"})
    orders_total = ma.fields.Integer()
    orders_12m = ma.fields.Integer()
    spend_12m = MoneyString()
    spend_total = MoneyString()
    first_order_at = ma.fields.AwareDateTime(allow_none=True)
    last_order_at = ma.fields.AwareDateTime(allow_none=True)
    usual_interval_days = DecimalString(allow_none=True)
    refreshed_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "null: insights.refresh hasn't run since"}
    )


class SummaryArgsSchema(ma.Schema):
    start = Instant(data_key="from", metadata={"description": "Default: 12 months before `to`"})
    end = Instant(data_key="to", metadata={"description": "Default: now"})


class TierStageSchema(ResponseSchema):
    tier = ma.fields.String(allow_none=True)
    stage = ma.fields.String()
    members = ma.fields.Integer()


class ParetoSchema(ResponseSchema):
    buyers = ma.fields.Integer()
    spend = MoneyString(metadata={"description": "Spend of the top 20% of buyers"})
    total_spend = MoneyString()
    share = DecimalString(metadata={"description": "Their share of all spend, 0 to 1"})


class LiabilitySchema(ResponseSchema):
    points = ma.fields.Integer()
    value = MoneyString()


class SummarySchema(ResponseSchema):
    start = ma.fields.AwareDateTime(data_key="from")
    end = ma.fields.AwareDateTime(data_key="to")
    currency = ma.fields.String()
    members_by_tier_and_stage = ma.fields.List(ma.fields.Nested(TierStageSchema))
    top_20_percent = ma.fields.Nested(ParetoSchema)
    points_liability = ma.fields.Nested(LiabilitySchema)
    referral_funnel = ma.fields.Dict()
    care_outcomes = ma.fields.List(ma.fields.Dict())
    campaigns = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "Campaigns launched in the window, with results"}
    )
