"""Segments: saved member filters (staff)."""

from __future__ import annotations

from flask import Response, stream_with_context

from loyalty.campaigns import export, segment_schemas as schemas, segments
from loyalty.core.api import Blueprint
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, database, read_session, request_session
from loyalty.members.answers import with_referral_codes
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
    session = read_session()
    return segments.with_count(session, segments.get(session, segment_id))


@blp.route("/<segment_id>", methods=["PATCH"])
@blp.arguments(schemas.SegmentUpdateSchema)
@blp.response(200, schemas.SegmentSchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@requires("staff")
def update_segment(data, segment_id):
    """Rename a segment or replace its filters; 409 segment_in_use while a running or paused campaign reads it"""
    session = request_session()
    return segments.with_count(session, segments.update(session, segment_id=segment_id, data=data))


@blp.route("/<segment_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@requires("staff")
def delete_segment(segment_id):
    """Delete a segment; 409 segment_in_use while a draft, running or paused campaign uses it"""
    segments.delete(request_session(), segment_id=segment_id)


@blp.route("/<segment_id>/members", methods=["GET"])
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.SegmentMembersPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
@with_referral_codes
def segment_members(args, segment_id):
    """The members a segment holds now, by id"""
    return segments.members_page(read_session(), segment_id=segment_id, **args)


@blp.route("/<segment_id>/export.csv", methods=["GET"])
@blp.response(200, description="CSV, streamed", content_type="text/csv")
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def export_segment(segment_id):
    """The segment's members as CSV, streamed (id, member_number, name, email, phone, tier, status, city, enrolled_at)"""
    segments.get(read_session(), segment_id)  # 404 before the stream starts
    db = database()

    def stream():
        # Its own session (the request's is closed before the body is sent), on the replica if any.
        with db.reader() as session:
            yield from export.export_rows(session, segment_id=segment_id)

    return Response(stream_with_context(stream()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{segment_id}.csv"'})
