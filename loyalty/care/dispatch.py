"""care.dispatch: send what is due, within consent, quiet hours and the weekly cap.

Messages (email, sms, push) leave as `touch.due` events through the outbox, so the operator's
messaging gateway receives them as signed webhooks; phone touches become callbacks for staff.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from loyalty.care import rules, templates
from loyalty.care.models import PROMOTIONAL, Touch
from loyalty.care.rules_service import all_rules
from loyalty.core.db import among
from loyalty.members.service import people
from loyalty.points.ledger import Source
from loyalty.points.service import available_points, grant_bonus
from loyalty.program.service import settings
from loyalty.rewards.service import gift_coupon
from loyalty.tiers.service import ladder
from loyalty.webhooks.outbox import emit_many

BATCH = 1000
WEEK = timedelta(days=7)
_campaigns: dict = {}


def use_campaign_terms(terms, paused) -> None:
    """The campaigns feature (above care) hands in each campaign's message and gifts, and which are paused."""
    _campaigns.update(terms=terms, paused=paused)


def dispatch_batch(session: Session, *, now: datetime, actor: str = "job:care.dispatch") -> dict[str, int]:
    """One batch of due touches, claimed with SKIP LOCKED so two dispatchers share the work."""
    held = _campaigns["paused"](session) if _campaigns else []  # a paused campaign's touches wait
    due = select(Touch).where(Touch.status == "planned", Touch.due_at <= now)
    if held:
        due = due.where(or_(Touch.campaign_id.is_(None), Touch.campaign_id.not_in(held)))
    touches = list(session.scalars(due.order_by(Touch.due_at, Touch.id).limit(BATCH)
                                   .with_for_update(skip_locked=True)))
    if not touches:
        return {}
    program = settings(session)
    care, every_rule = program.care, all_rules(session)
    member_ids = sorted({t.member_id for t in touches})
    members = people(session, member_ids)
    sent_this_week = _promotional_sent_since(session, member_ids, now - WEEK)
    points = available_points(session, member_ids, now=now)
    tier_names = {rung.code: rung.code.title() for rung in ladder(session)}
    campaign_ids = sorted({t.campaign_id for t in touches if t.campaign_id})
    campaigns = _campaigns["terms"](session, campaign_ids) if campaign_ids and _campaigns else {}
    counts: dict[str, int] = {}
    events = []
    for touch in touches:
        member = members[touch.member_id]
        rule = every_rule[touch.kind]
        if touch.campaign_id in campaigns:
            rule = {**rule, **{k: v for k, v in campaigns[touch.campaign_id].items() if k != "paused"}}
        zone = member.timezone or program.timezone
        quiet_until = rules.in_quiet_hours(now, zone, care["quiet_start"], care["quiet_end"])
        if quiet_until is not None and touch.channel != "phone":  # staff call in office hours anyway
            touch.due_at, touch.reason = quiet_until, rules.QUIET_HOURS
            counts["deferred"] = counts.get("deferred", 0) + 1
            continue
        addresses = frozenset({"push"} | ({"email"} if member.email else set())
                              | ({"sms", "phone"} if member.phone else set()))
        recipient = rules.Recipient(member.status, bool(member.erased_at or member.merged_into), member.consent or {},
                                    sent_this_week.get(member.id, 0), addresses)
        promotional = touch.kind in PROMOTIONAL
        reason = rules.suppression(recipient, channel=touch.channel, promotional=promotional,
                                   enabled=rule["enabled"], weekly_cap=int(care["weekly_cap"]),
                                   service_call=touch.kind == "complaint_callback")
        coupon, gift_missed = None, False
        if reason not in (rules.MEMBER_GONE, rules.MEMBER_BLOCKED, rules.RULE_DISABLED):
            coupon, gift_missed = _give_gifts(session, touch, rule, program, now, actor)
        if reason is not None:
            touch.status, touch.reason = "suppressed", reason
            counts[reason] = counts.get(reason, 0) + 1
            continue
        try:
            touch.message = templates.render(rule["template"] or "", _context(touch, member, program, points,
                                                                              tier_names, rule, coupon))
        except templates.TemplateFailed as error:  # one member's message, not the whole run
            touch.status, touch.reason, touch.notes = "failed", rules.TEMPLATE_ERROR, str(error)[:500]
            counts["failed"] = counts.get("failed", 0) + 1
            continue
        touch.reason, touch.sent_at = ("gift_unavailable" if gift_missed else None), now
        if touch.channel == "phone":
            touch.status = "callback"
            counts["callbacks"] = counts.get("callbacks", 0) + 1
        else:
            touch.status = "sent"
            events.append({"touch_id": touch.id, "member_id": member.id, "kind": touch.kind,
                           "occasion": touch.occasion, "channel": touch.channel, "message": touch.message,
                           "to": {"email": member.email, "sms": member.phone, "push": member.id}.get(touch.channel),
                           "locale": member.locale, "campaign_id": touch.campaign_id, "coupon_code": coupon})
            counts["sent"] = counts.get("sent", 0) + 1
        if promotional:
            sent_this_week[member.id] = sent_this_week.get(member.id, 0) + 1
    session.flush()
    emit_many(session, "touch.due", events, at=now)
    counts["looked_at"] = len(touches)
    return counts


def _promotional_sent_since(session: Session, member_ids: list[str], since: datetime) -> dict[str, int]:
    return dict(session.execute(
        select(Touch.member_id, func.count()).where(among(session, Touch.member_id, member_ids),
                                                    Touch.kind.in_(sorted(PROMOTIONAL)), Touch.sent_at >= since)
        .group_by(Touch.member_id)).all())


def _give_gifts(session: Session, touch: Touch, rule: dict, program, now: datetime,
                actor: str) -> tuple[str | None, bool]:
    """Gifts don't depend on the message getting through: a birthday gift once a year (the rule's
    gift_points, else the program's birthday_bonus), others once per touch. Returns the coupon code
    given, and whether a reward gift could not be given (out of stock, inactive)."""
    if touch.kind == "birthday":
        points, source = rule["gift_points"] or program.birthday_bonus, Source("birthday", touch.occasion)
    else:
        points, source = rule["gift_points"], Source("touch", touch.id)
    if points:
        grant_bonus(session, member_id=touch.member_id, points=int(points), source=source,
                    note=f"{touch.kind.replace('_', ' ')} gift", now=now, actor=actor)
    if not rule.get("reward_id"):
        return None, False
    once = hashlib.sha256(f"{source.type}:{touch.member_id}:{source.id}".encode()).hexdigest()[:27]
    coupon = gift_coupon(session, reward_id=rule["reward_id"], member_id=touch.member_id, source_id=f"gift_{once}",
                         now=now)
    return (coupon.code, False) if coupon else (None, True)


def _occasion_date(touch: Touch) -> str:
    """The day being celebrated: planned touches carry it in `source` (birthday, anniversary) or
    in the occasion (holiday); otherwise the day it is sent."""
    if touch.kind == "holiday":
        return touch.occasion.split(":", 1)[0]
    if touch.kind in ("birthday", "anniversary") and touch.source:
        return touch.source
    return touch.due_at.date().isoformat()


def _context(touch: Touch, member, program, points: dict, tier_names: dict, rule: dict, coupon: str | None) -> dict:
    available = max(0, points.get(member.id, 0))
    return {
        "name": member.name or "Member", "member_number": member.member_number, "tier": member.tier_code or "",
        "tier_name": tier_names.get(member.tier_code, ""), "city": member.city or "", "points": available,
        "points_value": str((available * program.point_value).quantize(Decimal("0.01"))), "currency": program.currency,
        "program": program.name, "kind": touch.kind, "occasion": touch.occasion,
        "occasion_name": touch.occasion.split(":", 1)[1] if touch.kind == "holiday" else touch.kind.replace("_", " "),
        "date": _occasion_date(touch), "coupon": coupon or "",
        "gift_points": rule["gift_points"] or (program.birthday_bonus if touch.kind == "birthday" else 0),
        "years": int(touch.occasion.split(":")[-1]) if touch.kind == "anniversary" and touch.occasion[-1].isdigit()
        else 0,
    }
