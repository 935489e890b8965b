"""care.dispatch: send what is due, within consent, quiet hours and the weekly cap.

Messages (email, sms, push) leave as `touch.due` events through the outbox, so the operator's
messaging gateway receives them as signed webhooks; phone touches become callbacks for staff.

A batch claims its touches as plain rows (`Due`), loads what they are decided with (`_load`),
decides each touch without writing (`decide`), then applies the verdict (`_apply`: gifts, message,
event); the touches' new columns are written once for the whole batch (care/touch_writes.py), and
its events with one statement. Campaigns sit above care: their terms and which are paused come
through the registry (`loyalty.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from loyalty import registry
from loyalty.care import rules, templates
from loyalty.care.messages import POINTS_FIELDS, give_gifts
from loyalty.care.messages import context as message_context
from loyalty.care.models import PROMOTIONAL, Touch
from loyalty.care.planning import latest_orders
from loyalty.care.rule_settings import all_rules
from loyalty.care.touch_writes import update_touches
from loyalty.core.claims import MEMBERS_IN_DISPATCH, lock_keys, skip_locked
from loyalty.core.db import among
from loyalty.members.service import people_fields
from loyalty.points.service import available_points
from loyalty.program.service import ProgramSettings, settings
from loyalty.tiers.service import ladder
from loyalty.webhooks.outbox import emit_many

BATCH = 1000
WEEK = timedelta(days=7)
# Reasons that mean no gift either: the member can't or needn't be given anything.
_NO_GIFT = (rules.MEMBER_GONE, rules.MEMBER_BLOCKED, rules.RULE_DISABLED, rules.NO_LONGER_LAPSED)


class Due(NamedTuple):
    """A claimed touch, as plain values: what deciding and sending it reads (not an ORM object, whose
    building and change tracking cost more than the rest of a touch's work)."""

    id: str
    member_id: str
    kind: str
    occasion: str
    channel: str
    due_at: datetime
    campaign_id: str | None
    held_out: bool
    source: str | None


class Addressee(NamedTuple):
    """What a touch is decided and its message made with, of its member."""

    id: str
    name: str | None
    member_number: str
    status: str
    erased_at: datetime | None
    merged_into: str | None
    consent: dict | None
    email: str | None
    phone: str | None
    timezone: str | None
    locale: str | None
    tier_code: str | None
    city: str | None


_DUE = select(*[Touch.__table__.c[name] for name in Due._fields])


@dataclass
class _Batch:
    """What a batch of touches is decided with, loaded once for all of them; and what it decided,
    written once for all of them."""

    now: datetime
    actor: str
    program: ProgramSettings
    rules: dict[str, dict[str, Any]]
    members: dict[str, Addressee]
    sent_this_week: dict[str, int]
    points: dict[str, int]
    tier_names: dict[str, str]
    campaigns: dict[str, dict[str, Any]]
    returned: set[str]  # win-back touches whose member ordered since they were planned
    quiet: dict[str, datetime | None] = field(default_factory=dict)  # zone -> when its quiet hours end
    events: list[dict[str, Any]] = field(default_factory=list)
    # The columns a verdict changes -> one row per touch: written with one statement each.
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = field(default_factory=dict)
    messages: templates.Renderings = field(default_factory=templates.Renderings)

    def change(self, touch: Due, **values: Any) -> None:
        self.changes.setdefault(tuple(values), []).append({"id": touch.id, **values})


def dispatch_batch(session: Session, *, now: datetime, actor: str = "job:care.dispatch") -> dict[str, int]:
    """One batch of due touches, claimed with SKIP LOCKED so dispatchers in several processes share
    the work (see loyalty/core/claims.py). `busy`: touches left for the dispatcher that is sending
    to the same member right now."""
    claimed = _claim(session, now)
    if not claimed:
        return {}
    # One member's touches are decided by one dispatcher at a time: the weekly cap counts what was
    # sent, and two batches deciding the same member at once would each count without the other.
    # The member's lock is taken before anything about them is read, so a later batch reads what an
    # earlier one committed.
    mine = lock_keys(session, MEMBERS_IN_DISPATCH, [t.member_id for t in claimed])
    touches = [t for t in claimed if t.member_id in mine]
    counts: dict[str, int] = {"busy": len(claimed) - len(touches)} if len(touches) < len(claimed) else {}
    if not touches:
        counts["looked_at"] = 0
        return counts
    batch = _load(session, touches, now=now, actor=actor)
    for touch in touches:
        outcome = _apply(session, batch, touch, decide(batch, touch))
        counts[outcome] = counts.get(outcome, 0) + 1
    for rows in batch.changes.values():
        update_touches(session, rows)
    emit_many(session, "touch.due", batch.events, at=now)
    counts["looked_at"] = len(touches)
    return counts


def _claim(session: Session, now: datetime) -> list[Due]:
    held = registry.current().paused_campaigns(session)  # a paused campaign's touches wait
    due = _DUE.where(Touch.status == "planned", Touch.due_at <= now)
    if held:
        due = due.where(or_(Touch.campaign_id.is_(None), Touch.campaign_id.not_in(held)))
    # Oldest first, ties as the index holds them: ordering ties by id too made PostgreSQL read and
    # sort every planned touch sharing the instant (a campaign's whole fan-out) for each batch, as
    # no index has the id after due_at. Within the batch they are decided in (due_at, id) order.
    claim = skip_locked(due.order_by(Touch.due_at), limit=BATCH)
    return sorted((Due._make(row) for row in session.execute(claim)), key=lambda t: (t.due_at, t.id))


def _load(session: Session, touches: list[Due], *, now: datetime, actor: str) -> _Batch:
    member_ids = sorted({t.member_id for t in touches})
    campaign_ids = sorted({t.campaign_id for t in touches if t.campaign_id})
    care_rules = all_rules(session)
    campaigns = registry.current().campaign_terms(session, campaign_ids) if campaign_ids else {}
    return _Batch(
        now=now,
        actor=actor,
        program=settings(session),
        rules=care_rules,
        members={row[0]: Addressee._make(row) for row in people_fields(session, member_ids, Addressee._fields)},
        sent_this_week=_promotional_sent_since(session, member_ids, now - WEEK),
        points=available_points(session, member_ids, now=now) if _reads_points(touches, care_rules, campaigns) else {},
        tier_names={rung.code: rung.code.title() for rung in ladder(session)},
        campaigns=campaigns,
        returned=_came_back(session, touches),
    )


def _reads_points(touches: list[Due], care_rules: dict[str, dict], campaigns: dict[str, dict]) -> bool:
    """Whether a message of the batch may say the member's points (every template that could be
    its message: the rule's, and a campaign's own over it)."""
    candidates = {care_rules[t.kind]["template"] or "" for t in touches}
    candidates |= {terms.get("template") or "" for terms in campaigns.values()}
    return any(templates.reads_any(template, POINTS_FIELDS) for template in candidates)


def _came_back(session: Session, touches: list[Due]) -> set[str]:
    """Win-backs to hold back: their member ordered after the order they were planned on (one
    grouped query for the batch)."""
    win_backs = [t for t in touches if t.kind == "win_back"]
    latest = latest_orders(session, sorted({t.member_id for t in win_backs})) if win_backs else {}
    return {t.id for t in win_backs if rules.came_back(rules.lapse_seen(t.source, t.occasion), latest.get(t.member_id))}


@dataclass(frozen=True)
class Verdict:
    """What becomes of one touch: `deferred` to `until` (quiet hours), `held_out`, `suppressed` for
    `reason`, or `send`; `gift`: its gifts are given whichever of the last two it is."""

    outcome: str
    rule: dict  # the care rule, with a campaign's own message and gifts over it
    zone: str
    until: datetime | None = None
    reason: str | None = None
    gift: bool = False


def decide(batch: _Batch, touch: Due) -> Verdict:
    """Wait for the morning, hold it back, hold it out, or send it: nothing written (the batch only
    remembers each zone's end of quiet hours, the same for every member in it)."""
    member, care = batch.members[touch.member_id], batch.program.care
    rule = batch.rules[touch.kind]
    if touch.campaign_id in batch.campaigns:
        rule = {**rule, **{k: v for k, v in batch.campaigns[touch.campaign_id].items() if k != "paused"}}
    zone = member.timezone or batch.program.timezone
    if zone not in batch.quiet:
        batch.quiet[zone] = rules.in_quiet_hours(batch.now, zone, care["quiet_start"], care["quiet_end"])
    quiet_until = batch.quiet[zone]
    if quiet_until is not None and touch.channel != "phone":  # a call is due when the night ends (_send)
        return Verdict("deferred", rule, zone, until=quiet_until)
    addresses = frozenset(
        {"push"} | ({"email"} if member.email else set()) | ({"sms", "phone"} if member.phone else set())
    )
    recipient = rules.Recipient(
        member.status,
        bool(member.erased_at or member.merged_into),
        member.consent or {},
        batch.sent_this_week.get(member.id, 0),
        addresses,
    )
    reason = rules.suppression(
        recipient,
        channel=touch.channel,
        promotional=touch.kind in PROMOTIONAL,
        enabled=rule["enabled"],
        weekly_cap=int(care["weekly_cap"]),
        service_call=touch.kind == "complaint_callback",
        returned=touch.id in batch.returned,
    )
    if touch.held_out and reason is None:  # a campaign's comparison group: checked alike, never sent
        return Verdict("held_out", rule, zone)
    gift = reason not in _NO_GIFT and not touch.held_out
    return Verdict("send" if reason is None else "suppressed", rule, zone, reason=reason, gift=gift)


def _apply(session: Session, batch: _Batch, touch: Due, verdict: Verdict) -> str:
    """Carry out the verdict on the touch (its row is written with the batch's). Returns what
    happened, for the counts."""
    if verdict.outcome == "deferred":
        assert verdict.until is not None  # `decide` defers only to a moment
        batch.change(touch, due_at=verdict.until, reason=rules.QUIET_HOURS)
        return "deferred"
    if verdict.outcome == "held_out":
        batch.change(touch, status="held_out", closed_at=batch.now)
        return "held_out"
    coupon, gift_missed = None, False
    if verdict.gift:
        coupon, gift_missed = give_gifts(session, touch, verdict.rule, batch.program, batch.now, batch.actor)
    if verdict.outcome == "suppressed":
        assert verdict.reason is not None  # `decide` suppresses only for a reason
        batch.change(touch, status="suppressed", reason=verdict.reason)
        return verdict.reason
    return _send(batch, touch, batch.members[touch.member_id], verdict.rule, coupon, gift_missed, verdict.zone)


def _send(
    batch: _Batch, touch: Due, member: Addressee, rule: dict, coupon: str | None, gift_missed: bool, zone: str
) -> str:
    context = message_context(touch, member, batch.program, batch.points, batch.tier_names, rule, coupon)
    try:
        message = batch.messages.render(rule["template"] or "", context)
    except templates.TemplateFailed as error:  # one member's message, not the whole run
        batch.change(touch, status="failed", reason=rules.TEMPLATE_ERROR, notes=str(error)[:500])
        return "failed"
    reason = "gift_unavailable" if gift_missed else None
    if touch.kind in PROMOTIONAL:
        batch.sent_this_week[member.id] = batch.sent_this_week.get(member.id, 0) + 1
    if touch.channel == "phone":  # staff call it in the member's working hours
        care = batch.program.care
        due_at = rules.callback_due(touch.due_at, zone, care["quiet_start"], care["quiet_end"])
        batch.change(touch, status="callback", reason=reason, sent_at=batch.now, message=message, due_at=due_at)
        return "callbacks"
    batch.change(touch, status="sent", reason=reason, sent_at=batch.now, message=message)
    batch.events.append(
        {
            "touch_id": touch.id,
            "member_id": member.id,
            "kind": touch.kind,
            "occasion": touch.occasion,
            "channel": touch.channel,
            "message": message,
            "to": {"email": member.email, "sms": member.phone, "push": member.id}.get(touch.channel),
            "locale": member.locale,
            "campaign_id": touch.campaign_id,
            "coupon_code": coupon,
        }
    )
    return "sent"


def _promotional_sent_since(session: Session, member_ids: list[str], since: datetime) -> dict[str, int]:
    return dict(
        session.execute(
            select(Touch.member_id, func.count())
            .where(
                among(session, Touch.member_id, member_ids), Touch.kind.in_(sorted(PROMOTIONAL)), Touch.sent_at >= since
            )
            .group_by(Touch.member_id)
        ).all()
    )
