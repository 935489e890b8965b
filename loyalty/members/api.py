from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.schemas import ListArgsSchema
from loyalty.core.web import current_actor, read_session, request_session
from loyalty.members import api_examples, rules, schemas, search, service, timeline
from loyalty.members.answers import with_referral_codes

blp = Blueprint("members", __name__, url_prefix="/v1/members", description="Members")
_CONFLICT = {"409": "Conflict"}


@blp.route("", methods=["POST"])
@blp.doc(operationId="members.create")
@blp.arguments(schemas.MemberCreateSchema, example=api_examples.CREATE_REQUEST)
@blp.response(201, schemas.MemberSchema, example=api_examples.CREATE_RESPONSE)
@blp.doc(responses=_CONFLICT)
@accepts_json
@idempotent
@requires("storefront", "staff", "pos")
@with_referral_codes
def create_member(data):
    """Enrol a member (also a pos key: a card handed out at the till; 409 duplicate_member names the holder, except to pos keys)

    Enrols a member and answers the new member with its `mbr_` id and member number. A pos key may
    enrol a card handed out at the till. Errors: 409 duplicate_member when the email, phone or
    external id already belongs to a member (with `existing_member_id`, except to pos keys); 422
    validation_error.
    """  # noqa: E501 - the first line is the operation's summary
    actor = current_actor()
    return service.create_member(request_session(), data=data, actor=actor.label, reveal_holder=actor.role != "pos")


@blp.route("", methods=["GET"])
@blp.doc(operationId="members.list")
@blp.arguments(schemas.MemberQueryArgsSchema, location="query")
@blp.response(200, schemas.MemberPageSchema)
@requires("storefront", "staff")
@with_referral_codes
def list_members(args):
    """Find members by an exact identifier; staff and admin also browse by name fragment (q), tag, tier or status

    Finds members by an exact identifier (external id, email, phone, member number); staff and admin
    keys may also browse by name fragment, tag, tier or status. Errors: 400 invalid_cursor for a cursor
    this service didn't issue; 422 validation_error for a bad filter, or a storefront key giving no identifier.
    """
    session = read_session() if rules.may_read_replica(args) else request_session()
    return search.search_members(session, role=current_actor().role, **args)


@blp.route("/<member_id>", methods=["GET"], parameters=path_params("member_id"))
@blp.doc(operationId="members.get")
@blp.response(200, schemas.MemberSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "staff")
@with_referral_codes
def get_member(member_id):
    """Read a member (a merged member's id answers with the survivor)

    Reads one member; the id of a merged member answers with the survivor. Errors: 404 not_found.
    """
    return service.resolve(request_session(), member_id)


@blp.route("/<member_id>", methods=["PATCH"], parameters=path_params("member_id"))
@blp.doc(operationId="members.update")
@blp.arguments(schemas.MemberUpdateSchema)
@blp.response(200, schemas.MemberSchema)
@blp.doc(responses={"404": "NotFound", **_CONFLICT})
@accepts_json
@idempotent
@requires("storefront", "staff")
@with_referral_codes
def update_member(changes, member_id):
    """Change a member's fields, tags, consent or status; only the fields sent change

    Changes a member's fields, tags, consent or (staff and admin) status; only the fields sent
    change. Errors: 404 not_found; 409 duplicate_member when a new email or phone belongs to someone
    else; 422 validation_error.
    """
    actor = current_actor()
    return service.update_member(
        request_session(),
        member_id=member_id,
        changes=changes,
        actor=actor.label,
        may_change_status=actor.role in ("staff", "admin"),
    )


@blp.route("/<member_id>", methods=["DELETE"], parameters=path_params("member_id"))
@blp.doc(operationId="members.erase")
@blp.response(204)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def erase_member(member_id):
    """Erase a member's personal data on request; the ledger stays, anonymised

    Erases the member's personal data on request (right to erasure); ledger entries stay,
    anonymised, so balances and reports still add up. Errors: 404 not_found.
    """
    service.erase_member(request_session(), member_id=member_id, actor=current_actor().label)


@blp.route("/<member_id>/merge", methods=["POST"], parameters=path_params("member_id"))
@blp.doc(operationId="members.merge")
@blp.arguments(schemas.MergeSchema)
@blp.response(200, schemas.MemberSchema)
@blp.doc(responses={"404": "NotFound", **_CONFLICT})
@accepts_json
@idempotent
@requires("staff")
@with_referral_codes
def merge_member(data, member_id):
    """Merge another member into this one; the other becomes a tombstone resolving here

    Merges the member named in the body into this one: points, orders and history move here, and the
    other becomes a tombstone whose id resolves here. Errors: 404 not_found; 409 conflict when
    merging a member into itself or an already merged member; 422 validation_error.
    """
    return service.merge_members(
        request_session(), survivor_id=member_id, source_id=data["member_id"], actor=current_actor().label
    )


@blp.route("/<member_id>/timeline", methods=["GET"], parameters=path_params("member_id"))
@blp.doc(operationId="members.timeline")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.TimelinePageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "staff")
def member_timeline(args, member_id):
    """Everything that happened to the member, newest first

    Pages through everything that happened to the member (orders, points, redemptions, tier changes,
    touches, interactions), newest first. Errors: 404 not_found.
    """
    return timeline.timeline(request_session(), member_id=member_id, **args)
