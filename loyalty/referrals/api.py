from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import requires
from loyalty.core.web import current_actor, request_session
from loyalty.referrals import schemas, service

blp = Blueprint("referrals", __name__, url_prefix="/v1", description="Referrals")


@blp.route("/members/<member_id>/referral", methods=["GET"], parameters=path_params("member_id"))
@blp.doc(operationId="referrals.member")
@blp.response(200, schemas.MemberReferralSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "staff")
def member_referral(member_id):
    """A member's referral code, link and how their referrals stand

    Reads a member's referral code and link and how the member's referrals stand. Errors: 404
    not_found.
    """
    return service.member_referral(request_session(), member_id=member_id)


@blp.route("/referrals", methods=["GET"])
@blp.doc(operationId="referrals.list")
@blp.arguments(schemas.ReferralQueryArgsSchema, location="query")
@blp.response(200, schemas.ReferralPageSchema)
@requires("storefront", "staff")
def list_referrals(args):
    """Referrals, newest first (filters: referrer_id, referee_id, status; a storefront key must give one of the ids)

    Pages through referrals, newest first, filtered by referrer, referee or status; a storefront key
    must name the referrer or referee. Errors: 422 validation_error.
    """
    return service.list_referrals(request_session(), role=current_actor().role, **args)
