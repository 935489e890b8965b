"""Staff care work: the interactions log, complaints and their callbacks, outcomes, the queues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from loyalty.care import callbacks
from loyalty.care.models import Interaction, Touch
from loyalty.care.rule_settings import all_rules
from loyalty.care.templates import TemplateFailed, render
from loyalty.core.db import get_or_404, utcnow
from loyalty.core.errors import Conflict, ValidationFailed
from loyalty.core.ids import new_id
from loyalty.core.pagination import decode_position, keyset_page, page
from loyalty.members.models import Member
from loyalty.members.service import direct, people, resolve, unerased
from loyalty.points.ledger import Source
from loyalty.points.service import grant_bonus

NO_ANSWER_RETRY = timedelta(hours=4)
CALLBACK_WITHIN = timedelta(hours=24)
CLOSING = {"reached", "responded", "not_interested"}
OUTCOMES = ("reached", "no_answer", "call_back_later", "responded", "not_interested")


def log_interaction(
    session: Session, *, member_id: str, data: dict, staff: str, now: datetime | None = None
) -> Interaction:
    """Record an interaction; a complaint opens a callback for staff, due at once (or when the
    member's night ends), within 24 h."""
    now = now or utcnow()
    member = direct(session, member_id, lock=False)
    unerased(session, member.id)  # waits for an erasure in flight, then refuses
    interaction = Interaction(
        id=new_id("int"),
        member_id=member.id,
        kind=data["kind"],
        channel=data.get("channel"),
        content=data["content"],
        score=data.get("score"),
        staff=staff,
        created_at=now,
        goodwill_points=0,
    )
    session.add(interaction)
    rule = all_rules(session)["complaint_callback"]
    if data["kind"] == "complaint" and rule["enabled"]:
        try:
            message = render(
                rule["template"],
                {
                    "name": member.name or "Member",
                    "member_number": member.member_number,
                    "city": member.city or "",
                    "kind": "complaint_callback",
                    "date": (now + CALLBACK_WITHIN).date().isoformat(),
                },
            )
        except TemplateFailed:
            message = None
        session.add(
            Touch(
                id=new_id("tch"),
                member_id=member.id,
                kind="complaint_callback",
                occasion=f"interaction:{interaction.id}",
                channel="phone",
                due_at=callbacks.due(session, member, now),
                status="callback",
                source=f"interaction:{interaction.id}",
                assignee=data.get("assignee"),
                attempts=0,
                created_at=now,
                sent_at=now,
                message=message,
            )
        )
    session.flush()
    return interaction


def list_interactions(session: Session, *, member_id: str, limit: int, cursor: str | None = None) -> dict:
    member = resolve(session, member_id)
    return keyset_page(
        session,
        select(Interaction).where(Interaction.member_id == member.id),
        Interaction.id,
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def open_complaints(session: Session, *, member_id: str, limit: int = 50) -> list[Interaction]:
    """A member's complaints not yet resolved, newest first (the console's resolve forms)."""
    return list(
        session.scalars(
            select(Interaction)
            .where(
                Interaction.member_id == member_id, Interaction.kind == "complaint", Interaction.resolved_at.is_(None)
            )
            .order_by(Interaction.created_at.desc(), Interaction.id.desc())
            .limit(limit)
        )
    )


def interaction_member(session: Session, interaction_id: str) -> str | None:
    """Whose interaction this is (None: no such interaction)."""
    return session.scalar(select(Interaction.member_id).where(Interaction.id == interaction_id))


def resolve_interaction(
    session: Session,
    *,
    interaction_id: str,
    resolution: str,
    goodwill_points: int,
    staff: str,
    now: datetime | None = None,
) -> Interaction:
    """Close a complaint (or any interaction needing it) once; goodwill points go with it, once."""
    now = now or utcnow()
    interaction = get_or_404(session, Interaction, interaction_id, what="interaction", lock=True)
    if interaction.kind not in ("complaint", "feedback"):
        raise Conflict(
            f"Interaction `{interaction_id}` is a {interaction.kind}: only complaints and feedback are resolved."
        )
    if interaction.resolved_at is not None:
        raise Conflict(f"Interaction `{interaction_id}` was resolved at {interaction.resolved_at.isoformat()}.")
    interaction.resolved_at, interaction.resolution, interaction.goodwill_points = now, resolution, goodwill_points
    # Resolved: its callback, if still open, has nothing left to do.
    session.execute(
        update(Touch)
        .where(Touch.source == f"interaction:{interaction.id}", Touch.status == "callback")
        .values(status="done", reason="resolved", closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if goodwill_points:
        member = resolve(session, interaction.member_id)
        grant_bonus(
            session,
            member_id=member.id,
            points=goodwill_points,
            source=Source("interaction", interaction.id),
            note=f"goodwill: {resolution}"[:500],
            now=now,
            actor=staff,
        )
    session.flush()
    return interaction


def get_touch(session: Session, touch_id: str, *, lock: bool = False) -> Touch:
    return get_or_404(session, Touch, touch_id, what="touch", lock=lock)


def record_outcome(session: Session, *, touch_id: str, data: dict, staff: str, now: datetime | None = None) -> Touch:
    """What came of a callback or a message: reached / responded / not interested close it; no answer
    tries again in 4 hours (or at `callback_at`); call back later needs `callback_at`. A retry is due in
    the member's working hours: 4 hours later moves to the end of their night; a `callback_at` inside
    it is refused."""
    now = now or utcnow()
    touch = get_touch(session, touch_id, lock=True)
    outcome = data["outcome"]
    if touch.status not in ("callback", "sent"):
        raise Conflict(f"Touch `{touch_id}` is {touch.status}: there is no outcome to record.")
    if touch.status == "sent" and outcome in ("no_answer", "call_back_later"):
        raise ValidationFailed({"outcome": ["A message isn't called back; record responded or not_interested."]})
    when = data.get("callback_at")
    when = when.astimezone(UTC) if when is not None else None  # answered in UTC, like every time
    if outcome == "call_back_later" and when is None:
        raise ValidationFailed(
            {
                "callback_at": [
                    "Required with call_back_later: when to call back, an ISO 8601 "
                    "time with its offset (e.g. 2026-11-20T15:00:00+08:00)."
                ]
            }
        )
    if when is not None and when <= now:
        raise ValidationFailed({"callback_at": [f"Must be later than now ({now:%Y-%m-%dT%H:%M}Z)."]})
    member = people(session, [touch.member_id])[touch.member_id]
    if when is not None and outcome not in CLOSING:
        callbacks.check_chosen(session, member, when)
    touch.attempts += 1
    touch.outcome, touch.notes = outcome, data.get("notes", touch.notes)
    touch.score = data.get("score", touch.score)
    touch.assignee = data.get("assignee", touch.assignee)
    if outcome in CLOSING:
        touch.status, touch.closed_at = "done", now
    else:
        touch.due_at = when or callbacks.due(session, member, now + NO_ANSWER_RETRY)
    session.add(
        Interaction(
            id=new_id("int"),
            member_id=touch.member_id,
            kind="call" if touch.channel == "phone" else "feedback",
            channel=touch.channel,
            content=data.get("notes") or outcome.replace("_", " "),
            score=data.get("score"),
            staff=staff,
            touch_id=touch.id,
            created_at=now,
            goodwill_points=0,
        )
    )
    session.flush()
    return touch


def list_touches(session: Session, *, limit: int, cursor: str | None = None, **filters) -> dict:
    query = select(Touch)
    for name in ("member_id", "kind", "status", "channel", "campaign_id"):
        if filters.get(name):
            query = query.where(getattr(Touch, name) == filters[name])
    if filters.get("due_before"):
        query = query.where(Touch.due_at < filters["due_before"])
    if filters.get("due_after"):
        query = query.where(Touch.due_at >= filters["due_after"])
    return keyset_page(session, query, Touch.id, limit=limit, cursor=cursor, descending=True)


def claim_callback(session: Session, *, touch_id: str, assignee: str) -> Touch:
    """Take an open callback: assigned to nobody (or already to `assignee`), it becomes theirs; one
    assigned to someone else, or no longer open, is a conflict (two people don't dial the same member)."""
    touch = get_touch(session, touch_id, lock=True)
    if touch.status != "callback":
        raise Conflict(f"Touch `{touch_id}` is {touch.status}: it is not an open callback.")
    if touch.assignee not in (None, assignee):
        raise Conflict(f"Callback `{touch_id}` is assigned to {touch.assignee}.")
    touch.assignee = assignee
    session.flush()
    return touch


def unresolved_complaints(
    session: Session, *, limit: int, cursor: str | None = None, member_ids: list[str] | None = None
) -> dict:
    """Complaints not yet resolved, oldest first, each with its member's name and the time the
    24-hour promise runs out — one query (the member joined). An erased member's show nothing personal."""
    query = (
        select(Interaction, Member.name, Member.timezone, Member.erased_at)
        .join(Member, Member.id == Interaction.member_id)
        .where(Interaction.kind == "complaint", Interaction.resolved_at.is_(None))
    )
    if member_ids:
        query = query.where(Interaction.member_id.in_(member_ids))
    position = decode_position(cursor)
    if position:
        at, interaction_id = position
        query = query.where(
            or_(Interaction.created_at > at, and_(Interaction.created_at == at, Interaction.id > interaction_id))
        )
    rows = session.execute(query.order_by(Interaction.created_at, Interaction.id).limit(limit + 1)).all()
    items = [
        {
            "id": i.id,
            "member_id": i.member_id,
            "name": None if erased else name,
            "timezone": zone,
            "erased": erased is not None,
            "content": None if erased else i.content,
            "channel": i.channel,
            "staff": i.staff,
            "created_at": i.created_at,
            "promised_by": i.created_at + CALLBACK_WITHIN,
        }
        for i, name, zone, erased in rows
    ]
    return page(items, limit, lambda item: [item["created_at"].isoformat(), item["id"]])


def timeline_touches(session: Session, member_ids: list[str], before, limit: int) -> list[dict]:
    """Touches as member timeline items (a timeline source, registered by loyalty.wiring)."""
    from loyalty.members.timeline import before_clause

    # When it last happened: closed, else sent, else planned (not when it is due).
    happened = func.coalesce(Touch.closed_at, Touch.sent_at, Touch.created_at)
    query = select(Touch).where(Touch.member_id.in_(member_ids))
    if before:
        query = query.where(before_clause(happened, Touch.id, before, "tch:", numeric=False))
    rows = session.scalars(query.order_by(happened.desc(), Touch.id.desc()).limit(limit))
    return [
        {
            "at": t.closed_at or t.sent_at or t.created_at,
            "type": f"touch.{t.status}",
            "id": f"tch:{t.id}",
            "data": {
                "kind": t.kind,
                "occasion": t.occasion,
                "channel": t.channel,
                "reason": t.reason,
                "outcome": t.outcome,
            },
        }
        for t in rows
    ]


def timeline_interactions(session: Session, member_ids: list[str], before, limit: int) -> list[dict]:
    from loyalty.members.timeline import before_clause

    query = select(Interaction).where(Interaction.member_id.in_(member_ids))
    if before:
        query = query.where(before_clause(Interaction.created_at, Interaction.id, before, "int:", numeric=False))
    rows = session.scalars(query.order_by(Interaction.created_at.desc(), Interaction.id.desc()).limit(limit))
    return [
        {
            "at": i.created_at,
            "type": f"interaction.{i.kind}",
            "id": f"int:{i.id}",
            "data": {
                "channel": i.channel,
                "score": i.score,
                "staff": i.staff,
                "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
            },
        }
        for i in rows
    ]


def outcomes(session: Session, *, start: datetime, end: datetime) -> list[dict]:
    """Touches planned in [start, end) by kind and channel: how many went out, were held back, answered."""
    rows = session.execute(
        select(Touch.kind, Touch.channel, Touch.status, Touch.outcome, func.count())
        .where(Touch.created_at >= start, Touch.created_at < end)
        .group_by(Touch.kind, Touch.channel, Touch.status, Touch.outcome)
    )
    table: dict[tuple, dict] = {}
    for kind, channel, status, outcome, count in rows:
        entry = table.setdefault(
            (kind, channel), {"kind": kind, "channel": channel, "touches": 0, "by_status": {}, "by_outcome": {}}
        )
        entry["touches"] += count
        entry["by_status"][status] = entry["by_status"].get(status, 0) + count
        if outcome:
            entry["by_outcome"][outcome] = entry["by_outcome"].get(outcome, 0) + count
    return sorted(table.values(), key=lambda e: (e["kind"], e["channel"]))
