"""Campaigns: create, preview, launch, pause, resume, fan out, and read what they achieved.

A campaign's touches go through the care pipeline (kind `campaign`), so the same consent,
quiet hours, weekly cap and signed webhooks apply; this module only decides who and when.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.campaigns import segments
from loyalty.campaigns.models import Campaign
from loyalty.care import rules as care_rules
from loyalty.care.models import PROMOTIONAL, Touch
from loyalty.care.planning import insert_touches, touch_row
from loyalty.care.templates import problem
from loyalty.core.db import among, utcnow
from loyalty.core.errors import Conflict, NotFound, ValidationFailed
from loyalty.core.ids import new_id
from loyalty.core.pagination import keyset_page
from loyalty.members.service import people
from loyalty.points.service import bonus_points_for
from loyalty.rewards.models import Reward
from loyalty.webhooks.outbox import emit

WEEK = timedelta(days=7)
SAMPLE = 10
_orders: list[Callable] = []


def use_conversions(source: Callable) -> None:
    """The orders feature hands in how to tell who ordered within N days of a touch."""
    _orders[:] = [source]


def create(session: Session, *, data: dict, actor: str, now: datetime | None = None) -> Campaign:
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    if session.get(segments.Segment, data["segment_id"]) is None:
        errors["segment_id"] = [f"No segment `{data['segment_id']}`."]
    if problem(data["template"]):
        errors["template"] = [problem(data["template"])]
    if data.get("reward_id") and session.get(Reward, data["reward_id"]) is None:
        errors["reward_id"] = [f"No reward `{data['reward_id']}`."]
    if errors:
        raise ValidationFailed(errors)
    campaign = Campaign(id=new_id("cmp"), status="draft", cursor="", fanned_out=False, created_at=now,
                        created_by=actor, starts_at=data.get("starts_at"), **{
                            k: v for k, v in data.items() if k != "starts_at"})
    session.add(campaign)
    session.flush()
    return campaign


def get(session: Session, campaign_id: str, *, lock: bool = False) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=lock)
    if campaign is None:
        raise NotFound(f"No campaign `{campaign_id}`.")
    return campaign


def list_campaigns(session: Session, *, limit: int, cursor: str | None = None) -> dict:
    return keyset_page(session, select(Campaign), Campaign.id, limit=limit, cursor=cursor, descending=True)


_MOVES = {"launch": ({"draft"}, "running"), "pause": ({"running"}, "paused"), "resume": ({"paused"}, "running")}


def move(session: Session, *, campaign_id: str, action: str, now: datetime | None = None) -> Campaign:
    campaign = get(session, campaign_id, lock=True)
    allowed, target = _MOVES[action]
    if campaign.status not in allowed:
        raise Conflict(f"Campaign `{campaign_id}` is {campaign.status}; it can't {action}.", campaign_status=campaign.status)
    campaign.status = target
    if action == "launch":
        campaign.launched_at = now or utcnow()
        campaign.starts_at = campaign.starts_at or campaign.launched_at
    session.flush()
    return campaign


def preview(session: Session, *, campaign_id: str, now: datetime | None = None) -> dict:
    """Who it would reach: the count, a sample, and how many would be held back and why."""
    now = now or utcnow()
    campaign = get(session, campaign_id)
    filters = segments.get(session, campaign.segment_id).filters
    suppressed: dict[str, int] = {}
    total, sample, after = 0, [], ""
    while True:
        ids = _segment_page(session, filters, after=after, limit=2000, now=now)
        if not ids:
            break
        members = people(session, ids)
        week = _promotional_sent_since(session, ids, now - WEEK)
        for member_id in ids:
            member = members[member_id]
            reason = care_rules.suppression(_recipient(member, week.get(member_id, 0)), channel=campaign.channel,
                                            promotional=True, enabled=True, weekly_cap=_weekly_cap(session))
            if reason:
                suppressed[reason] = suppressed.get(reason, 0) + 1
            if len(sample) < SAMPLE:
                sample.append({"member_id": member.id, "name": member.name, "member_number": member.member_number})
        total += len(ids)
        after = ids[-1]
    return {"campaign_id": campaign.id, "count": total, "sample": sample, "suppressed": suppressed,
            "would_send": total - sum(suppressed.values())}


def _weekly_cap(session: Session) -> int:
    from loyalty.program.service import settings

    return int(settings(session).care["weekly_cap"])


def _recipient(member, sent_this_week: int) -> care_rules.Recipient:
    addresses = frozenset({"push"} | ({"email"} if member.email else set()) | (
        {"sms", "phone"} if member.phone else set()))
    return care_rules.Recipient(member.status, bool(member.erased_at or member.merged_into), member.consent or {},
                                sent_this_week, addresses)


def _promotional_sent_since(session: Session, member_ids: list[str], since: datetime) -> dict[str, int]:
    return dict(session.execute(
        select(Touch.member_id, func.count()).where(among(session, Touch.member_id, member_ids),
                                                    Touch.kind.in_(sorted(PROMOTIONAL)), Touch.sent_at >= since)
        .group_by(Touch.member_id)).all())


def _segment_page(session: Session, filters: dict, *, after: str, limit: int, now: datetime) -> list[str]:
    ids = segments.compile_filters(segments.loaded(filters), now=now).subquery()
    return list(session.scalars(select(ids.c.id).where(ids.c.id > after).order_by(ids.c.id).limit(limit)))


def fan_out(session: Session, campaign: Campaign, *, now: datetime) -> int:
    """Plan the next `send_rate` touches of a running campaign (one per member, ever)."""
    ids = _segment_page(session, segments.get(session, campaign.segment_id).filters, after=campaign.cursor,
                        limit=campaign.send_rate, now=now)
    if not ids:
        campaign.fanned_out = True
        return 0
    made = insert_touches(session, [touch_row(m, "campaign", f"campaign:{campaign.id}", campaign.channel, now, now,
                                              campaign_id=campaign.id) for m in ids])
    campaign.cursor = ids[-1]
    return made


def finish_if_done(session: Session, campaign: Campaign, *, now: datetime) -> bool:
    planned = session.scalar(select(func.count()).select_from(Touch).where(Touch.campaign_id == campaign.id,
                                                                           Touch.status == "planned"))
    if not campaign.fanned_out or planned:
        return False
    campaign.status, campaign.finished_at = "finished", now
    emit(session, "campaign.finished", {"campaign_id": campaign.id, **_counts(session, campaign)}, at=now)
    return True


def paused(session: Session) -> list[str]:
    return list(session.scalars(select(Campaign.id).where(Campaign.status == "paused")))


def terms(session: Session, campaign_ids: list[str]) -> dict[str, dict]:
    """What care.dispatch needs to send a campaign's touches: its message, gifts and whether it's paused."""
    rows = session.scalars(select(Campaign).where(among(session, Campaign.id, campaign_ids))) if campaign_ids else []
    return {c.id: {"template": c.template, "gift_points": c.gift_points, "reward_id": c.reward_id,
                   "paused": c.status == "paused"} for c in rows}


def _counts(session: Session, campaign: Campaign) -> dict:
    rows = session.execute(select(Touch.status, Touch.reason, Touch.outcome, func.count())
                           .where(Touch.campaign_id == campaign.id)
                           .group_by(Touch.status, Touch.reason, Touch.outcome)).all()
    counts = {"targeted": 0, "sent": 0, "failed": 0, "suppressed": 0, "suppressed_by_reason": {}, "responded": 0,
              "waiting": 0}
    for status, reason, outcome, count in rows:
        counts["targeted"] += count
        if status in ("sent", "callback", "done"):
            counts["sent"] += count
        elif status == "failed":
            counts["failed"] += count
        elif status == "suppressed":
            counts["suppressed"] += count
            counts["suppressed_by_reason"][reason] = counts["suppressed_by_reason"].get(reason, 0) + count
        elif status == "planned":
            counts["waiting"] += count
        if outcome in ("responded", "reached"):
            counts["responded"] += count
    return counts


def results(session: Session, *, campaign_id: str) -> dict:
    campaign = get(session, campaign_id)
    counts = _counts(session, campaign)
    reached = session.execute(select(Touch.id, Touch.member_id, Touch.sent_at).where(
        Touch.campaign_id == campaign.id, Touch.sent_at.is_not(None))).all()
    converted = _orders[0](session, [(m, at) for _, m, at in reached], days=campaign.conversion_days) if _orders else 0
    touch_ids = [t for t, _, _ in session.execute(select(Touch.id, Touch.member_id, Touch.sent_at)
                                                  .where(Touch.campaign_id == campaign.id)).all()]
    return {**_campaign(campaign), "results": {**counts, "converted": converted,
                                               "points_spent": bonus_points_for(session, "touch", touch_ids)}}


def _campaign(c: Campaign) -> dict:
    return {name: getattr(c, name) for name in (
        "id", "name", "segment_id", "channel", "template", "gift_points", "reward_id", "starts_at", "send_rate",
        "conversion_days", "status", "created_at", "launched_at", "finished_at", "created_by")}


def summary(session: Session, *, start: datetime, end: datetime) -> list[dict]:
    """Campaigns launched in [start, end) with their results, for the insights summary."""
    launched = session.scalars(select(Campaign).where(Campaign.launched_at >= start, Campaign.launched_at < end)
                               .order_by(Campaign.launched_at))
    return [{"id": c.id, "name": c.name, "status": c.status, **results(session, campaign_id=c.id)["results"]}
            for c in launched]
