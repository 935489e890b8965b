"""Campaigns: drafts, preview, launch, pause, resume and results (staff)."""

from __future__ import annotations

from typing import Any

from loyalty.campaigns import api_examples, schemas, service
from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.schemas import ListArgsSchema
from loyalty.core.web import current_actor, request_session

campaigns_blp = Blueprint("campaigns", __name__, url_prefix="/v1/campaigns", description="Campaigns")


@campaigns_blp.route("", methods=["GET"])
@campaigns_blp.doc(operationId="campaigns.list")
@campaigns_blp.arguments(ListArgsSchema, location="query")
@campaigns_blp.response(200, schemas.CampaignPageSchema)
@requires("staff")
def list_campaigns(args):
    """Campaigns, newest first

    Pages through all campaigns, newest first, whatever their status. Errors: 400 invalid_cursor for a cursor
    this service didn't issue; 422 validation_error for a bad limit.
    """
    return service.list_campaigns(request_session(), **args)


@campaigns_blp.route("", methods=["POST"])
@campaigns_blp.doc(operationId="campaigns.create")
@campaigns_blp.arguments(schemas.CampaignInSchema, example=api_examples.CAMPAIGNS_CREATE_REQUEST)
@campaigns_blp.response(201, schemas.CampaignSchema, example=api_examples.CAMPAIGNS_CREATE_RESPONSE)
@accepts_json
@idempotent
@requires("staff")
def create_campaign(data):
    """A draft campaign: segment, channel, template, optional gift, start time, send rate

    Creates a campaign in `draft`; nothing is sent until it is launched. Errors: 422 validation_error
    when the segment or gift reward does not exist, the template does not render, or a field is bad.
    """
    session = request_session()
    campaign = service.create(session, data=data, actor=current_actor().label)
    return service.results(session, campaign_id=campaign.id)


@campaigns_blp.route("/<campaign_id>", methods=["GET"], parameters=path_params("campaign_id"))
@campaigns_blp.doc(operationId="campaigns.get")
@campaigns_blp.response(200, schemas.CampaignSchema)
@campaigns_blp.doc(responses={"404": "NotFound"})
@requires("staff")
def get_campaign(campaign_id):
    """A campaign and its results: targeted, suppressed by reason, sent, failed, responded, converted, points spent

    Reads one campaign with its running results. Errors: 404 not_found.
    """
    return service.results(request_session(), campaign_id=campaign_id)


@campaigns_blp.route("/<campaign_id>", methods=["PATCH"], parameters=path_params("campaign_id"))
@campaigns_blp.doc(operationId="campaigns.update")
@campaigns_blp.arguments(schemas.CampaignUpdateSchema)
@campaigns_blp.response(200, schemas.CampaignSchema)
@campaigns_blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def update_campaign(data, campaign_id):
    """Change a draft (only the fields sent change); 409 conflict once launched

    Changes a draft campaign; only the fields sent change. Errors: 404 not_found; 409 conflict once
    the campaign has been launched; 422 validation_error.
    """
    session = request_session()
    service.update(session, campaign_id=campaign_id, data=data)
    return service.results(session, campaign_id=campaign_id)


@campaigns_blp.route("/<campaign_id>", methods=["DELETE"], parameters=path_params("campaign_id"))
@campaigns_blp.doc(operationId="campaigns.delete")
@campaigns_blp.response(204)
@campaigns_blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@requires("staff")
def delete_campaign(campaign_id):
    """Delete a draft; 409 conflict once launched (a launched campaign stays for its results)

    Deletes a draft campaign for good. Errors: 404 not_found; 409 conflict once launched.
    """
    service.delete(request_session(), campaign_id=campaign_id)


@campaigns_blp.route("/<campaign_id>/preview", methods=["POST"], parameters=path_params("campaign_id"))
@campaigns_blp.doc(operationId="campaigns.preview")
@campaigns_blp.response(200, schemas.PreviewSchema)
@campaigns_blp.doc(responses={"404": "NotFound"})
@idempotent
@requires("staff")
def preview_campaign(campaign_id):
    """Who it would reach now: count, a sample, how many would be held back and why, and held out (writes nothing)

    Evaluates the campaign's segment now and answers who would be reached, a sample, how many would
    be suppressed and why, and the hold-out group. Writes nothing. Errors: 404 not_found.
    """
    return service.preview(request_session(), campaign_id=campaign_id)


# Each route keeps its description on one docstring line: a line break would show in the OpenAPI text.
@campaigns_blp.route("/<campaign_id>/launch", methods=["POST"], parameters=path_params("campaign_id"))
@campaigns_blp.doc(operationId="campaigns.launch")
@campaigns_blp.response(200, schemas.CampaignSchema)
@campaigns_blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@requires("staff")
@idempotent
def launch_campaign(campaign_id):
    """Launch a draft: campaigns.run fans it out from its start time at its send rate

    Moves a draft to running; the `campaigns.run` job plans and sends touches from the start time at the send rate. Errors: 404 not_found; 409 conflict when the campaign is not a draft.
    """  # noqa: E501
    return _move(campaign_id, action="launch")


@campaigns_blp.route("/<campaign_id>/pause", methods=["POST"], parameters=path_params("campaign_id"))
@campaigns_blp.doc(operationId="campaigns.pause")
@campaigns_blp.response(200, schemas.CampaignSchema)
@campaigns_blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@requires("staff")
@idempotent
def pause_campaign(campaign_id):
    """Pause a running campaign: nothing more is planned or sent until it resumes

    Pauses a running campaign; nothing more is planned or sent until it resumes. Errors: 404 not_found; 409 conflict when it is not running.
    """  # noqa: E501
    return _move(campaign_id, action="pause")


@campaigns_blp.route("/<campaign_id>/resume", methods=["POST"], parameters=path_params("campaign_id"))
@campaigns_blp.doc(operationId="campaigns.resume")
@campaigns_blp.response(200, schemas.CampaignSchema)
@campaigns_blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@requires("staff")
@idempotent
def resume_campaign(campaign_id):
    """Resume a paused campaign

    Resumes a paused campaign where it stopped. Errors: 404 not_found; 409 conflict when it is not paused.
    """
    return _move(campaign_id, action="resume")


def _move(campaign_id: str, *, action: str) -> dict[str, Any]:
    session = request_session()
    service.move(session, campaign_id=campaign_id, action=action)
    return service.results(session, campaign_id=campaign_id)
