"""Segments: saved member filters (staff)."""

from __future__ import annotations

from flask import Response, stream_with_context

from loyalty.campaigns import api_examples, export, segments
from loyalty.campaigns import segment_schemas as schemas
from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.schemas import ListArgsSchema
from loyalty.core.web import current_actor, database, read_session, request_session
from loyalty.members.answers import with_referral_codes

blp = Blueprint("segments", __name__, url_prefix="/v1/segments", description="Segments: saved member filters")


@blp.route("", methods=["GET"])
@blp.doc(operationId="segments.list")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.SegmentPageSchema)
@requires("staff")
def list_segments(args):
    """Saved segments, newest first

    Pages through saved segments, newest first. Errors: 400 invalid_cursor for a cursor
    this service didn't issue.
    """
    return segments.list_segments(request_session(), **args)


@blp.route("", methods=["POST"])
@blp.doc(operationId="segments.create")
@blp.arguments(schemas.SegmentInSchema, example=api_examples.SEGMENTS_CREATE_REQUEST)
@blp.response(201, schemas.SegmentSchema, example=api_examples.SEGMENTS_CREATE_RESPONSE)
@accepts_json
@idempotent
@requires("staff")
def create_segment(data):
    """Save a filter (tiers, tags, stages, RFM scores, last order, birthday months, ages, cities, balance, consent)

    Saves a named member filter (tiers, tags, stages, RFM scores, last order, birthday months, ages,
    cities, balance, consent) for campaigns and exports. Errors: 422 validation_error.
    """
    session = request_session()
    return segments.with_count(
        session, segments.create(session, name=data["name"], filters=data["filters"], actor=current_actor().label)
    )


@blp.route("/<segment_id>", methods=["GET"], parameters=path_params("segment_id"))
@blp.doc(operationId="segments.get")
@blp.response(200, schemas.SegmentSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def get_segment(segment_id):
    """A segment and how many members it holds now

    Reads a segment and how many members it holds now. Errors: 404 not_found.
    """
    session = read_session()
    return segments.with_count(session, segments.get(session, segment_id))


@blp.route("/<segment_id>", methods=["PATCH"], parameters=path_params("segment_id"))
@blp.doc(operationId="segments.update")
@blp.arguments(schemas.SegmentUpdateSchema)
@blp.response(200, schemas.SegmentSchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def update_segment(data, segment_id):
    """Rename a segment or replace its filters; 409 segment_in_use while a running or paused campaign reads it

    Renames a segment or replaces its filters. Errors: 404 not_found; 409 segment_in_use while a
    running or paused campaign reads it; 422 validation_error.
    """
    session = request_session()
    return segments.with_count(session, segments.update(session, segment_id=segment_id, data=data))


@blp.route("/<segment_id>", methods=["DELETE"], parameters=path_params("segment_id"))
@blp.doc(operationId="segments.delete")
@blp.response(204)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@requires("staff")
def delete_segment(segment_id):
    """Delete a segment; 409 segment_in_use while a draft, running or paused campaign uses it

    Deletes a segment. Errors: 404 not_found; 409 segment_in_use while a draft, running or paused
    campaign uses it.
    """
    segments.delete(request_session(), segment_id=segment_id)


@blp.route("/<segment_id>/members", methods=["GET"], parameters=path_params("segment_id"))
@blp.doc(operationId="segments.members")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.SegmentMembersPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
@with_referral_codes
def segment_members(args, segment_id):
    """The members a segment holds now, by id

    Pages through the ids of the members the segment holds now. Errors: 404 not_found; 400 invalid_cursor for a cursor
    this service didn't issue.
    """
    return segments.members_page(read_session(), segment_id=segment_id, **args)


@blp.route("/<segment_id>/export.csv", methods=["GET"], parameters=path_params("segment_id"))
@blp.doc(operationId="segments.export")
@blp.response(200, description="CSV, streamed", content_type="text/csv")
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def export_segment(segment_id):
    """The segment's members as CSV, streamed (id, member_number, name, email, phone, tier, status, city, enrolled_at)

    Streams the segment's members as CSV (id, member_number, name, email, phone, tier, status, city,
    enrolled_at); the export is audited. Errors: 404 not_found.
    """
    segments.get(read_session(), segment_id)  # 404 before the stream starts
    db = database()

    def stream():
        # Its own session (the request's is closed before the body is sent), on the replica if any.
        with db.reader() as session:
            yield from export.export_rows(session, segment_id=segment_id)

    return Response(
        stream_with_context(stream()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{segment_id}.csv"'},
    )
