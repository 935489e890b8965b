"""The staff call queue: when a callback falls due, and the list staff dial from.

Callbacks are due in the member's working hours (the program's `quiet_end` to `quiet_start`, in the
member's time zone, else the program's): a time the service picks (a complaint's callback, a retry
after no answer, a follow-up call) moves to the end of the night; a time staff choose inside the
night is refused (422), naming the next time that would do.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from loyalty.care import rules
from loyalty.care.models import Interaction, Touch
from loyalty.core.errors import ValidationFailed
from loyalty.core.pagination import decode_position, page
from loyalty.members.models import Member
from loyalty.program.service import settings
from loyalty.tiers.models import Tier

_COMPLAINT = "interaction:"
_TOUCH_FIELDS = tuple(column.key for column in Touch.__table__.columns)


def due(session: Session, member: Member, asked: datetime) -> datetime:
    """When a callback the service schedules for `asked` is due: then, or when the member's night ends."""
    program = settings(session)
    return rules.callback_due(
        asked, member.timezone or program.timezone, program.care["quiet_start"], program.care["quiet_end"]
    )


def check_chosen(session: Session, member: Member, when: datetime) -> None:
    """A callback time staff chose must be in the member's working hours (422 otherwise, writing nothing)."""
    program = settings(session)
    zone = member.timezone or program.timezone
    start, end = program.care["quiet_start"], program.care["quiet_end"]
    allowed = rules.callback_due(when, zone, start, end)
    if allowed != when:
        local = allowed.astimezone(ZoneInfo(zone))
        raise ValidationFailed(
            {
                "callback_at": [
                    f"{when.astimezone(local.tzinfo):%H:%M} is in the member's quiet hours ({start}-{end}, {zone}): "
                    f"calls are made {rules.working_hours(start, end)} there; "
                    f"the next such time is {local.isoformat()}."
                ]
            }
        )


def queue(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    assignee: str | None = None,
    due_before: datetime | None = None,
    kind: str | None = None,
    member_ids: list[str] | None = None,
    mine_or_unassigned: tuple[str, ...] | None = None,
) -> dict:
    """The calls staff must make, soonest due first, each with the member's name, phone, tier and
    what the call is about — one query (the member, tier and complaint joined). `mine_or_unassigned`
    (the console's Today) keeps the calls assigned to any of those names, or to nobody."""
    complaint_id = func.substr(Touch.source, len(_COMPLAINT) + 1)
    query = (
        select(Touch, Member, Tier.name, Interaction.content)
        .join(Member, Member.id == Touch.member_id)
        .outerjoin(Tier, Tier.code == Member.tier_code)
        .outerjoin(Interaction, and_(Touch.kind == "complaint_callback", Interaction.id == complaint_id))
        .where(Touch.channel == "phone", Touch.status == "callback")
    )
    if assignee:
        query = query.where(Touch.assignee == assignee)
    if due_before:
        query = query.where(Touch.due_at < due_before)
    if kind:
        query = query.where(Touch.kind == kind)
    if member_ids:
        query = query.where(Touch.member_id.in_(member_ids))
    if mine_or_unassigned:
        query = query.where(or_(Touch.assignee.is_(None), Touch.assignee.in_(mine_or_unassigned)))
    position = decode_position(cursor)
    if position:
        at, touch_id = position
        query = query.where(or_(Touch.due_at > at, and_(Touch.due_at == at, Touch.id > touch_id)))
    zone = settings(session).timezone
    rows = [_item(*row, zone) for row in session.execute(query.order_by(Touch.due_at, Touch.id).limit(limit + 1))]
    return page(rows, limit, lambda item: [item["due_at"].isoformat(), item["id"]])


def _item(touch: Touch, member: Member, tier_name: str | None, complaint: str | None, zone: str) -> dict:
    item = {name: getattr(touch, name) for name in _TOUCH_FIELDS}
    erased = member.erased_at is not None
    item["member"] = {
        "id": member.id,
        "member_number": member.member_number,
        "name": member.name,
        "phone": member.phone,
        "tier": member.tier_code,
        "tier_name": tier_name,
        "timezone": member.timezone or zone,
        "erased": erased,
    }
    item["about"] = about(touch.kind, touch.occasion, touch.source, complaint)
    if erased:  # nothing personal: the message and notes may name them, the complaint describe them
        item.update(about=None, message=None, notes=None)
    return item


def about(kind: str, occasion: str, source: str | None, complaint: str | None) -> str:
    """What the call is about, in a line staff can read before dialling."""
    if kind == "complaint_callback":
        return f"complaint: {complaint}" if complaint else "complaint"
    if kind == "follow_up":
        order = source.split(":", 1)[1] if source and source.startswith("order:") else None
        return f"follow-up on the first order {order}" if order else "follow-up on the first order"
    if kind == "win_back":
        return f"no order since {occasion.split(':', 1)[-1]}"
    if kind == "holiday":
        day, _, name = occasion.partition(":")
        return f"holiday: {name} ({day})"
    if kind == "birthday":
        return f"birthday on {source or occasion}"
    if kind == "anniversary":
        return f"{occasion} year(s) a member"
    return f"campaign {occasion.split(':', 1)[-1]}" if kind == "campaign" else kind.replace("_", " ")
