from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import requires
from loyalty.core.errors import ValidationFailed
from loyalty.core.web import read_session, request_session
from loyalty.insights import schemas, service

blp = Blueprint("insights", __name__, url_prefix="/v1", description="Insights")


@blp.route("/members/<member_id>/insights", methods=["GET"], parameters=path_params("member_id"))
@blp.doc(operationId="insights.member")
@blp.response(200, schemas.MemberInsightSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def member_insights(member_id):
    """A member's RFM scores, lifecycle stage and churn risk (as of the last insights.refresh)

    Reads a member's RFM scores, lifecycle stage and churn risk as computed by the last
    `insights.refresh` run. Errors: 404 not_found for an unknown member or one not yet scored.
    """
    return service.member_insights(request_session(), member_id=member_id)


@blp.route("/insights/summary", methods=["GET"])
@blp.doc(operationId="insights.summary")
@blp.arguments(schemas.SummaryArgsSchema, location="query")
@blp.response(200, schemas.SummarySchema)
@requires("staff")
def summary(args):
    """Members by tier and stage, the top 20%'s share of spend, points liability, referral funnel, care outcomes

    Summarises the program for a date window: members by tier and stage, the top 20%'s share of
    spend, points liability, referral funnel and care outcomes. Errors: 422 validation_error for a
    bad window.
    """
    if args.get("start") and args.get("end") and args["start"] >= args["end"]:
        raise ValidationFailed({"from": ["Must be before `to`."]})
    return service.summary(read_session(), **args)  # may lag: figures, not decisions
