"""The member page (/console/members/<id>): who they are and what they agreed to, their tier and how
far the next one is, their points and what expires soon, their referrals, RFM and stage, and the
timeline, paged. Display only: the actions panel (member_actions.py) is included by the template.

One request, a bounded number of queries: each part is one service call (the same the API's member
endpoints make), the timeline one query per source, the referred friends' names one query.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as L
from sqlalchemy import select

from loyalty.care import callbacks
from loyalty.care.service import unresolved_complaints
from loyalty.console.blueprint import bp
from loyalty.console.web import page
from loyalty.core.errors import NotFound
from loyalty.core.web import request_session
from loyalty.insights.service import member_insights
from loyalty.members import timeline as timelines
from loyalty.members.models import CONSENT_KEYS, Member
from loyalty.members.service import people, resolve
from loyalty.points.service import balance
from loyalty.referrals.service import list_referrals, member_referral
from loyalty.tiers.member_tier import member_tier
from loyalty.tiers.service import get_ladder

TIMELINE_PAGE = 20
FRIENDS = 10
OPEN_WORK = 20

# What each timeline item is, in the reader's language (the service's `type` codes).
EVENTS = {
    "member.enrolled": L("Joined the program"),
    "member.updated": L("Profile changed"),
    "member.status_changed": L("Status changed"),
    "member.merged": L("A duplicate was merged in"),
    "member.merged_into": L("Merged into another member"),
    "member.erased": L("Personal data erased"),
    "order.placed": L("Order"),
    "tier.changed": L("Tier changed"),
    "points.earn": L("Points earned"),
    "points.bonus": L("Bonus points"),
    "points.redeem": L("Points redeemed"),
    "points.reversal": L("Points reversed"),
    "points.return": L("Points returned"),
    "points.expire": L("Points expired"),
    "points.adjust": L("Points adjusted"),
    "points.merge": L("Points moved from a duplicate"),
    "touch.planned": L("Message planned"),
    "touch.sent": L("Message sent"),
    "touch.suppressed": L("Message held back"),
    "touch.callback": L("Callback to make"),
    "touch.done": L("Touch closed"),
    "touch.failed": L("Message failed"),
    "touch.held_out": L("Held out"),
    "interaction.call": L("Call"),
    "interaction.message": L("Message"),
    "interaction.visit": L("Visit"),
    "interaction.complaint": L("Complaint"),
    "interaction.feedback": L("Feedback"),
    "interaction.note": L("Note"),
}

METRICS = {
    "spend_12m": L("Spend in 12 months"),
    "points_12m": L("Points in 12 months"),
    "orders_12m": L("Orders in 12 months"),
}


def event_label(kind: str) -> str:
    label = EVENTS.get(kind)
    return str(label) if label is not None else kind


def _number(text) -> Decimal | None:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def tier_progress(tier: dict) -> dict | None:
    """The bar to the next tier: how much of its threshold the qualifying value reaches."""
    if not tier.get("next_tier"):
        return None
    value, missing = _number(tier.get("qualifying_value")), _number(tier.get("to_next"))
    if value is None or missing is None:
        return None
    return {"value": value, "max": value + missing, "missing": missing, "money": tier["metric"] == "spend_12m"}


def friends(session, member_id: str) -> dict:
    """The members this one referred, newest first, with their names (erased: none) — two queries."""
    found = list_referrals(session, limit=FRIENDS, referrer_id=member_id)
    names = people(session, [r.referee_id for r in found["data"] if r.referee_id])
    rows = [{"referral": r, "member": names.get(r.referee_id)} for r in found["data"]]
    return {"data": rows, "more": found["next_cursor"] is not None}


def tier_names(session) -> dict[str, str]:
    return {tier.code: tier.name for tier in get_ladder(session)["tiers"]}


def _timeline(session, member: Member, cursor: str | None) -> dict:
    found = timelines.timeline(session, member_id=member.id, limit=TIMELINE_PAGE, cursor=cursor)
    for item in found["data"]:
        item["label"] = event_label(item["type"])
        item["family"], _, item["code"] = item["type"].partition(".")
    return found


def _member_or_redirect(member_id: str):
    """The member the id names; a merged duplicate's id redirects to whom it was merged into."""
    session = request_session()
    try:
        member = resolve(session, member_id)
    except NotFound:
        raise NotFound(_("No member has this id.")) from None  # the 404 page, in the reader's language
    if member.id != member_id:
        flash(_("That member was merged into this one; here is the member that remains."))
        return None, redirect(url_for("console.member", member_id=member.id), 303)
    return member, None


@bp.get("/members/<member_id>")
def member(member_id: str) -> ResponseReturnValue:
    found, response = _member_or_redirect(member_id)
    if response is not None:
        return response
    session = request_session()
    context = {"member": found, "zone": found.timezone or None}
    if found.erased_at is None:  # erased: the page says so and shows nothing about them
        context["events"] = _timeline(session, found, request.args.get("cursor"))
        ids = [found.id, *session.scalars(select(Member.id).where(Member.merged_into == found.id))]
        tier = member_tier(session, member_id=found.id)
        context.update(
            consent={key: bool((found.consent or {}).get(key)) for key in CONSENT_KEYS},
            tier=tier,
            progress=tier_progress(tier),
            balance=balance(session, member_id=found.id),
            referral=member_referral(session, member_id=found.id),
            friends=friends(session, found.id),
            insight=member_insights(session, member_id=found.id),
            open_callbacks=callbacks.queue(session, limit=OPEN_WORK, member_ids=ids)["data"],
            open_complaints=unresolved_complaints(session, limit=OPEN_WORK, member_ids=ids)["data"],
            tier_names=tier_names(session),
            metric_names=METRICS,
            qualifying=_number(tier.get("qualifying_value")),
        )
    return page("console/member/member.html", **context)


@bp.get("/members/<member_id>/timeline")
def member_timeline(member_id: str) -> ResponseReturnValue:
    """The next page of the timeline: a fragment for htmx's "load more", else the whole page."""
    found, response = _member_or_redirect(member_id)
    if response is not None:
        return response
    if found.erased_at is not None:
        return redirect(url_for("console.member", member_id=found.id), 303)
    events = _timeline(request_session(), found, request.args.get("cursor"))
    template = (
        "console/member/_timeline.html"
        if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
        else "console/member/timeline.html"
    )
    return page(
        template, member=found, zone=found.timezone or None, events=events, tier_names=tier_names(request_session())
    )
