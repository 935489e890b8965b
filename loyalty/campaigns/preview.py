"""Who a campaign would reach now: the count, a sample, how many would be held back and why, and
how many its hold-out would keep out. Writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.campaigns import rules, segments
from loyalty.campaigns.filters import compile_filters
from loyalty.campaigns.models import Campaign
from loyalty.care import rules as care_rules
from loyalty.care import templates
from loyalty.care.messages import context as message_context
from loyalty.care.models import PROMOTIONAL, Touch
from loyalty.core.db import among
from loyalty.members.models import Member
from loyalty.members.service import people
from loyalty.points.service import available_points
from loyalty.program.service import settings
from loyalty.tiers.service import ladder

WEEK = timedelta(days=7)
SAMPLE = 10
PAGE = 2000


class SampleMember(TypedDict):
    member_id: str
    name: str | None
    member_number: str


class CampaignPreview(TypedDict):
    campaign_id: str
    count: int
    sample: list[SampleMember]
    suppressed: dict[str, int]  # members held back, by reason
    held_out: int
    would_send: int


@dataclass(frozen=True)
class _SampleTouch:
    """The touch a sample message is rendered for: never stored."""

    kind: str
    occasion: str
    due_at: datetime
    source: str | None


def preview(session: Session, campaign: Campaign, *, now: datetime) -> CampaignPreview:
    filters = segments.get(session, campaign.segment_id).filters
    weekly_cap = int(settings(session).care["weekly_cap"])
    suppressed: dict[str, int] = {}
    sample: list[SampleMember] = []
    total, held, after = 0, 0, ""
    while ids := segment_page(session, filters, after=after, limit=PAGE, now=now):
        members = people(session, ids)
        week = _promotional_sent_since(session, ids, now - WEEK)
        for member_id in ids:
            member = members[member_id]
            reason = care_rules.suppression(
                _recipient(member, week.get(member_id, 0)),
                channel=campaign.channel,
                promotional=True,
                enabled=True,
                weekly_cap=weekly_cap,
            )
            if reason:
                suppressed[reason] = suppressed.get(reason, 0) + 1
            elif rules.held_out(campaign.id, member_id, campaign.holdout_percent):
                held += 1
            if len(sample) < SAMPLE:
                sample.append({"member_id": member.id, "name": member.name, "member_number": member.member_number})
        total += len(ids)
        after = ids[-1]
    return {
        "campaign_id": campaign.id,
        "count": total,
        "sample": sample,
        "suppressed": suppressed,
        "held_out": held,
        "would_send": total - sum(suppressed.values()) - held,
    }


# A walk through a segment reads the members a window at a time, in id order: each query then
# reads that range of members, insights and lots by their keys, whatever the filters. An open-ended
# "after the cursor, first N" let PostgreSQL scan every member after the cursor and every insight
# for each page (0.3-0.5 s a page over a million; a walk of pages grew with the square of its length).
# A window that doesn't fill the page makes the next one twice as large, so a sparse segment is
# walked in a few windows.
WINDOW = 20_000


def segment_page(session: Session, filters: dict, *, after: str, limit: int, now: datetime) -> list[str]:
    """The next `limit` member ids of a segment as it stands now, in id order (fewer: it ends)."""
    loaded = segments.loaded(filters)
    ids: list[str] = []
    size = WINDOW
    while len(ids) < limit:
        until = _window_end(session, after, size)
        query = compile_filters(loaded, now=now, after=after, until=until)
        ids += session.scalars(query.order_by(Member.id).limit(limit - len(ids)))
        if until is None:
            break
        after, size = until, size * 2
    return ids


def _window_end(session: Session, after: str, size: int) -> str | None:
    """The id `size` members after `after` (any member row, live or not); None: fewer are left."""
    ids = select(Member.id).order_by(Member.id).offset(size - 1).limit(1)
    return session.scalar(ids.where(Member.id > after) if after else ids)


def _recipient(member: Member, sent_this_week: int) -> care_rules.Recipient:
    addresses = frozenset(
        {"push"} | ({"email"} if member.email else set()) | ({"sms", "phone"} if member.phone else set())
    )
    return care_rules.Recipient(
        member.status, bool(member.erased_at or member.merged_into), member.consent or {}, sent_this_week, addresses
    )


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


def sample_message(
    session: Session, *, filters: dict, template: str, gift_points: int, now: datetime
) -> tuple[Member | None, str]:
    """A draft's message as the segment's first member would get it now (with the template's own
    sample fields when the segment is empty): the member or None, and the text. Raises
    templates.TemplateFailed as dispatch would fail that member's touch."""
    ids = segment_page(session, filters, after="", limit=1, now=now)
    if not ids:
        return None, templates.render(template, {"gift_points": gift_points})
    member = people(session, ids)[ids[0]]
    touch = _SampleTouch(kind="campaign", occasion="campaign:preview", due_at=now, source=None)
    context = message_context(
        touch,
        member,
        settings(session),
        available_points(session, ids, now=now),
        {rung.code: rung.code.title() for rung in ladder(session)},
        {"gift_points": gift_points},
        None,
    )
    return member, templates.render(template, context)
