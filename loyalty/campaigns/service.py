"""Campaigns: create, change or delete a draft, preview, launch, pause, resume, fan out, finish.

A campaign's touches go through the care pipeline (kind `campaign`), so the same consent,
quiet hours, weekly cap and signed webhooks apply; this module only decides who and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.campaigns import preview as previews
from loyalty.campaigns import results as outcomes
from loyalty.campaigns import rules, segments
from loyalty.campaigns.models import Campaign
from loyalty.care.models import Touch
from loyalty.care.planning import insert_touches, touch_row
from loyalty.care.templates import problem
from loyalty.core.db import among, get_or_404, utcnow
from loyalty.core.errors import Conflict, NotFound, ValidationFailed
from loyalty.core.ids import new_id
from loyalty.core.pagination import keyset_page
from loyalty.rewards.models import Reward
from loyalty.webhooks.outbox import emit

_FIELDS = (
    "name",
    "segment_id",
    "channel",
    "template",
    "gift_points",
    "reward_id",
    "starts_at",
    "send_rate",
    "conversion_days",
    "holdout_percent",
)


def create(session: Session, *, data: dict, actor: str, now: datetime | None = None) -> Campaign:
    _check(session, data)
    campaign = Campaign(
        id=new_id("cmp"),
        status="draft",
        cursor="",
        fanned_out=False,
        created_at=now or utcnow(),
        created_by=actor,
        starts_at=data.get("starts_at"),
        **{k: v for k, v in data.items() if k != "starts_at"},
    )
    session.add(campaign)
    session.flush()
    return campaign


def update(session: Session, *, campaign_id: str, data: dict) -> Campaign:
    """Change a draft: only the fields sent change; a launched campaign is what it was launched as."""
    campaign = _draft(session, campaign_id, "changed")
    _check(session, data)
    for name in _FIELDS:
        if name in data:
            setattr(campaign, name, data[name])
    session.flush()
    return campaign


def delete(session: Session, *, campaign_id: str) -> None:
    """Delete a draft (it has planned nothing yet); launched campaigns stay for their results."""
    session.delete(_draft(session, campaign_id, "deleted"))
    session.flush()


def _draft(session: Session, campaign_id: str, change: str) -> Campaign:
    campaign = get(session, campaign_id, lock=True)
    if campaign.status != "draft":
        raise Conflict(
            f"Campaign `{campaign_id}` is {campaign.status}: only a draft can be {change}.",
            campaign_status=campaign.status,
        )
    return campaign


def _check(session: Session, data: dict) -> None:
    """What the schema can't see: the segment and reward exist, the template renders. The segment is
    locked, so it can't be deleted under a campaign being made to use it."""
    errors: dict[str, list[str]] = {}
    if "segment_id" in data:
        try:
            segments.get(session, data["segment_id"], lock=True)
        except NotFound:
            errors["segment_id"] = [f"No segment `{data['segment_id']}` (give the id of a segment not deleted)."]
    if "template" in data and (template_problem := problem(data["template"])):
        errors["template"] = [template_problem]
    if data.get("reward_id") and session.get(Reward, data["reward_id"]) is None:
        errors["reward_id"] = [f"No reward `{data['reward_id']}`."]
    if errors:
        raise ValidationFailed(errors)


def get(session: Session, campaign_id: str, *, lock: bool = False) -> Campaign:
    return get_or_404(session, Campaign, campaign_id, what="campaign", lock=lock)


def list_campaigns(session: Session, *, limit: int, cursor: str | None = None) -> dict:
    return keyset_page(session, select(Campaign), Campaign.id, limit=limit, cursor=cursor, descending=True)


_MOVES = {"launch": ({"draft"}, "running"), "pause": ({"running"}, "paused"), "resume": ({"paused"}, "running")}


def move(session: Session, *, campaign_id: str, action: str, now: datetime | None = None) -> Campaign:
    campaign = get(session, campaign_id, lock=True)
    allowed, target = _MOVES[action]
    if campaign.status not in allowed:
        raise Conflict(
            f"Campaign `{campaign_id}` is {campaign.status}; it can't {action}.", campaign_status=campaign.status
        )
    if action == "launch":
        segments.get(session, campaign.segment_id, lock=True)  # in step with a segment change or delete
        campaign.launched_at = now or utcnow()
        campaign.starts_at = campaign.starts_at or campaign.launched_at
    campaign.status = target
    session.flush()
    return campaign


def preview(session: Session, *, campaign_id: str, now: datetime | None = None) -> previews.CampaignPreview:
    """Who it would reach: the count, a sample, how many would be held back and why, how many held out."""
    return previews.preview(session, get(session, campaign_id), now=now or utcnow())


# Members a fan-out reads and plans at a time: a send rate of millions is walked in pages, so a
# run's memory is one page's, not the whole segment's (980 MB for 290k touches at once).
FAN_OUT_PAGE = 5000


def fan_out(session: Session, campaign: Campaign, *, now: datetime, page: int = FAN_OUT_PAGE) -> int:
    """Plan the next `send_rate` touches of a running campaign (one per member, ever), walking the
    segment from the campaign's cursor a page at a time; members of its hold-out get a touch marked
    held out, which dispatch checks but never sends. Returns the touches made."""
    filters = segments.get(session, campaign.segment_id).filters
    walked = made = 0
    while walked < campaign.send_rate:
        wanted = min(page, campaign.send_rate - walked)
        ids = previews.segment_page(session, filters, after=campaign.cursor, limit=wanted, now=now)
        if not ids:
            # Nobody after the cursor. As when a run read its whole send rate at once, the segment
            # is done only when a run finds nobody at all; the run that planned the last members
            # leaves that to the next one.
            if walked == 0:
                campaign.fanned_out = True
            break
        made += insert_touches(session, [_touch(campaign, member_id, now) for member_id in ids])
        campaign.cursor = ids[-1]
        walked += len(ids)
        _let_go(session, keep=campaign)
        if len(ids) < wanted:  # the segment ended inside this page
            break
    return made


def _touch(campaign: Campaign, member_id: str, now: datetime) -> dict:
    return touch_row(
        member_id,
        "campaign",
        f"campaign:{campaign.id}",
        campaign.channel,
        now,
        now,
        campaign_id=campaign.id,
        held_out=rules.held_out(campaign.id, member_id, campaign.holdout_percent),
    )


def _let_go(session: Session, *, keep: Campaign) -> None:
    """Forget what a page loaded into the session, so a run of millions holds one page at a time. The
    campaign stays (the run still changes it); changes are flushed first, so none is forgotten."""
    session.flush()
    for instance in list(session.identity_map.values()):
        if instance is not keep:
            session.expunge(instance)


def finish_if_done(session: Session, campaign: Campaign, *, now: datetime) -> bool:
    planned = session.scalar(
        select(func.count()).select_from(Touch).where(Touch.campaign_id == campaign.id, Touch.status == "planned")
    )
    if not campaign.fanned_out or planned:
        return False
    campaign.status, campaign.finished_at = "finished", now
    emit(session, "campaign.finished", {"campaign_id": campaign.id, **outcomes.counts(session, campaign)}, at=now)
    return True


def paused(session: Session) -> list[str]:
    return list(session.scalars(select(Campaign.id).where(Campaign.status == "paused")))


def terms(session: Session, campaign_ids: list[str]) -> dict[str, dict]:
    """What care.dispatch needs to send a campaign's touches: its message, gifts and whether it's paused."""
    rows: Iterable[Campaign] = (
        session.scalars(select(Campaign).where(among(session, Campaign.id, campaign_ids))) if campaign_ids else []
    )
    return {
        c.id: {
            "template": c.template,
            "gift_points": c.gift_points,
            "reward_id": c.reward_id,
            "paused": c.status == "paused",
        }
        for c in rows
    }


def results(session: Session, *, campaign_id: str) -> dict[str, Any]:
    campaign = get(session, campaign_id)
    return {
        **{
            name: getattr(campaign, name)
            for name in ("id", "status", "created_at", "launched_at", "finished_at", "created_by") + _FIELDS
        },
        "results": outcomes.of(session, campaign),
    }
