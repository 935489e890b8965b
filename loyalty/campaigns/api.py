"""Campaigns: drafts, preview, launch, pause, resume and results (staff)."""

from __future__ import annotations

from loyalty.campaigns import schemas, service
from loyalty.core.api import Blueprint
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, request_session
from loyalty.members.schemas import ListArgsSchema

campaigns_blp = Blueprint("campaigns", __name__, url_prefix="/v1/campaigns", description="Campaigns")


@campaigns_blp.route("", methods=["GET"])
@campaigns_blp.arguments(ListArgsSchema, location="query")
@campaigns_blp.response(200, schemas.CampaignPageSchema)
@requires("staff")
def list_campaigns(args):
    """Campaigns, newest first"""
    return service.list_campaigns(request_session(), **args)


@campaigns_blp.route("", methods=["POST"])
@campaigns_blp.arguments(schemas.CampaignInSchema)
@campaigns_blp.response(201, schemas.CampaignSchema)
@accepts_json
@idempotent
@requires("staff")
def create_campaign(data):
    """A draft campaign: segment, channel, template, optional gift, start time, send rate"""
    session = request_session()
    campaign = service.create(session, data=data, actor=current_actor().label)
    return service.results(session, campaign_id=campaign.id)


@campaigns_blp.route("/<campaign_id>", methods=["GET"])
@campaigns_blp.response(200, schemas.CampaignSchema)
@campaigns_blp.doc(responses={"404": "NotFound"})
@requires("staff")
def get_campaign(campaign_id):
    """A campaign and its results: targeted, suppressed by reason, sent, failed, responded, converted, points spent"""
    return service.results(request_session(), campaign_id=campaign_id)


@campaigns_blp.route("/<campaign_id>", methods=["PATCH"])
@campaigns_blp.arguments(schemas.CampaignUpdateSchema)
@campaigns_blp.response(200, schemas.CampaignSchema)
@campaigns_blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@requires("staff")
def update_campaign(data, campaign_id):
    """Change a draft (only the fields sent change); 409 conflict once launched"""
    session = request_session()
    service.update(session, campaign_id=campaign_id, data=data)
    return service.results(session, campaign_id=campaign_id)


@campaigns_blp.route("/<campaign_id>", methods=["DELETE"])
@campaigns_blp.response(204)
@campaigns_blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@requires("staff")
def delete_campaign(campaign_id):
    """Delete a draft; 409 conflict once launched (a launched campaign stays for its results)"""
    service.delete(request_session(), campaign_id=campaign_id)


@campaigns_blp.route("/<campaign_id>/preview", methods=["POST"])
@campaigns_blp.response(200, schemas.PreviewSchema)
@campaigns_blp.doc(responses={"404": "NotFound"})
@idempotent
@requires("staff")
def preview_campaign(campaign_id):
    """Who it would reach now: count, a sample, how many would be held back and why, and held out (writes nothing)"""
    return service.preview(request_session(), campaign_id=campaign_id)


def _mover(action: str):
    def view(campaign_id):
        session = request_session()
        service.move(session, campaign_id=campaign_id, action=action)
        return service.results(session, campaign_id=campaign_id)

    view.__name__ = f"{action}_campaign"
    view.__doc__ = {"launch": "Launch a draft: campaigns.run fans it out from its start time at its send rate",
                    "pause": "Pause a running campaign: nothing more is planned or sent until it resumes",
                    "resume": "Resume a paused campaign"}[action]
    decorated = requires("staff")(idempotent(view))
    decorated = campaigns_blp.doc(responses={"404": "NotFound", "409": "Conflict"})(decorated)
    decorated = campaigns_blp.response(200, schemas.CampaignSchema)(decorated)
    return campaigns_blp.route(f"/<campaign_id>/{action}", methods=["POST"])(decorated)


for _action in ("launch", "pause", "resume"):
    _mover(_action)
