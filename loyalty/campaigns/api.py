from __future__ import annotations

from flask import Response, stream_with_context

from loyalty.campaigns import schemas, segments, service
from loyalty.core.api import Blueprint
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, database, request_session
from loyalty.members.schemas import ListArgsSchema

blp = Blueprint("segments", __name__, url_prefix="/v1/segments", description="Segments: saved member filters")


@blp.route("", methods=["GET"])
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.SegmentPageSchema)
@requires("staff")
def list_segments(args):
    """Saved segments, newest first"""
    return segments.list_segments(request_session(), **args)


@blp.route("", methods=["POST"])
@blp.arguments(schemas.SegmentInSchema)
@blp.response(201, schemas.SegmentSchema)
@accepts_json
@idempotent
@requires("staff")
def create_segment(data):
    """Save a filter (tiers, tags, stages, RFM scores, last order, birthday months, ages, cities, balance, consent)"""
    session = request_session()
    return segments.with_count(session, segments.create(session, name=data["name"], filters=data["filters"],
                                                        actor=current_actor().label))


@blp.route("/<segment_id>", methods=["GET"])
@blp.response(200, schemas.SegmentSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def get_segment(segment_id):
    """A segment and how many members it holds now"""
    session = request_session()
    return segments.with_count(session, segments.get(session, segment_id))


@blp.route("/<segment_id>/members", methods=["GET"])
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.SegmentMembersPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def segment_members(args, segment_id):
    """The members a segment holds now, by id"""
    return segments.members_page(request_session(), segment_id=segment_id, **args)


@blp.route("/<segment_id>/export.csv", methods=["GET"])
@blp.response(200, description="CSV, streamed", content_type="text/csv")
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def export_segment(segment_id):
    """The segment's members as CSV, streamed (id, member_number, name, email, phone, tier, status, city, enrolled_at)"""
    segments.get(request_session(), segment_id)  # 404 before the stream starts
    db = database()

    def stream():
        # Its own session: the request's is committed and closed before the body is sent.
        with db.sessions() as session:
            yield from segments.export_rows(session, segment_id=segment_id)

    return Response(stream_with_context(stream()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{segment_id}.csv"'})


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


@campaigns_blp.route("/<campaign_id>/preview", methods=["POST"])
@campaigns_blp.response(200, schemas.PreviewSchema)
@campaigns_blp.doc(responses={"404": "NotFound"})
@idempotent
@requires("staff")
def preview_campaign(campaign_id):
    """Who it would reach now: count, a sample, how many would be held back and why (writes nothing)"""
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
