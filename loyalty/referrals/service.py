"""Referral use cases: each member's code and link, recording sign-ups with a code, merges, reading."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loyalty.core.auth import Forbidden
from loyalty.core.db import utcnow
from loyalty.core.ids import new_id
from loyalty.core.pagination import keyset_page
from loyalty.members.service import resolve
from loyalty.program.service import settings
from loyalty.referrals import rules
from loyalty.referrals.models import Referral, ReferralCode


def person(member) -> rules.Person:
    status = "erased" if member.erased_at is not None else member.status
    return rules.Person(member.id, status, member.phone, member.email, member.external_id)


def code_of(session: Session, member_id: str, *, now: datetime | None = None) -> str:
    """The member's code, made on first need (members enrolled before referrals existed)."""
    code = session.scalar(select(ReferralCode.code).where(ReferralCode.member_id == member_id))
    if code:
        return code
    for _ in range(10):
        code = "".join(secrets.choice(rules.ALPHABET) for _ in range(rules.CODE_LENGTH))
        try:
            with session.begin_nested():
                session.add(ReferralCode(member_id=member_id, code=code, created_at=now or utcnow()))
            return code
        except IntegrityError:  # 31^8 codes: a clash is rare, and then we draw again
            existing = session.scalar(select(ReferralCode.code).where(ReferralCode.member_id == member_id))
            if existing:
                return existing
    raise RuntimeError("could not draw a free referral code")


def member_codes(session: Session, members: list) -> dict[str, dict[str, str | None]]:
    """For a member's answer: `share_code`, their own code to hand out (made on first need; none
    once erased: an erased member refers nobody), and `referred_by_code`, the code they signed up
    with in canonical form."""
    live = [member.id for member in members if member.erased_at is None]
    owned = (
        dict(
            session.execute(
                select(ReferralCode.member_id, ReferralCode.code).where(ReferralCode.member_id.in_(live))
            ).all()
        )
        if live
        else {}
    )
    for member_id in live:
        if member_id not in owned:
            owned[member_id] = code_of(session, member_id)
    return {
        member.id: {
            "share_code": owned.get(member.id),
            "referred_by_code": rules.canonical_code(member.referral_code_used),
        }
        for member in members
    }


def link_for(session: Session, code: str) -> str | None:
    template = settings(session).referral.get("link_template")
    return template.replace("{code}", code) if template else None


def owner_of(session: Session, code: str):
    """The live member a code belongs to (a merged member's code leads to the survivor), or None."""
    member_id = session.scalar(select(ReferralCode.member_id).where(ReferralCode.code == code))
    return resolve(session, member_id) if member_id else None


def record_signup(session: Session, member) -> None:
    """On enrolment: give the member a code and, if they came with one, record the referral
    (pending, or refused with the reason) and say so on the member for the response."""
    code_of(session, member.id, now=member.enrolled_at)
    given = member.referral_code_used
    if not given:
        return
    code = rules.normalise_code(given)
    referrer = owner_of(session, code) if code else None
    reason = rules.refusal_at_signup(person(referrer) if referrer else None, person(member))
    referral = Referral(
        id=new_id("ref"),
        referrer_id=referrer.id if referrer else None,
        referee_id=member.id,
        code=code or given[:40],
        status="rejected" if reason else "pending",
        reason=reason,
        created_at=member.enrolled_at,
        decided_at=member.enrolled_at if reason else None,
        referrer_points=0,
        referee_points=0,
    )
    session.add(referral)
    member.referral = {"id": referral.id, "status": referral.status, "reason": reason}


def on_merged(session: Session, survivor, tombstone) -> None:
    """Referrals made by the tombstone now count for the survivor. A pending referral of the
    tombstone as a new member is refused when the survivor was a member before it: the
    'new customer' already was one."""
    session.execute(
        update(Referral)
        .where(Referral.referrer_id == tombstone.id)
        .values(referrer_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    theirs = session.scalar(select(Referral).where(Referral.referee_id == tombstone.id))
    if theirs is None:
        return
    if theirs.status == "pending" and survivor.enrolled_at < theirs.created_at:
        theirs.status, theirs.reason, theirs.decided_at = "rejected", rules.REFEREE_ALREADY_MEMBER, utcnow()
    if session.scalar(select(Referral.id).where(Referral.referee_id == survivor.id)) is None:
        theirs.referee_id = survivor.id


def member_referral(session: Session, *, member_id: str) -> dict:
    member = resolve(session, member_id)
    code = code_of(session, member.id)
    counts = dict(
        session.execute(
            select(Referral.status, func.count()).where(Referral.referrer_id == member.id).group_by(Referral.status)
        ).all()
    )
    rewarded = session.execute(
        select(func.coalesce(func.sum(Referral.referrer_points), 0)).where(
            Referral.referrer_id == member.id, Referral.status == "qualified"
        )
    ).scalar_one()
    return {
        "member_id": member.id,
        "code": code,
        "link": link_for(session, code),
        "invited": sum(counts.values()),
        "pending": counts.get("pending", 0),
        "qualified": counts.get("qualified", 0),
        "rejected": counts.get("rejected", 0),
        "rewarded_points": int(rewarded),
    }


def list_referrals(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    referrer_id: str | None = None,
    referee_id: str | None = None,
    status: str | None = None,
    role: str = "staff",
) -> dict:
    # A storefront finds members only by an exact identifier; every referral's two member ids
    # would let it walk the member list, so it reads the referrals of one member at a time.
    if role == "storefront" and not (referrer_id or referee_id):
        raise Forbidden("A storefront key lists the referrals of one member: give referrer_id or referee_id.")
    query = select(Referral)
    if referrer_id:
        query = query.where(Referral.referrer_id == referrer_id)
    if referee_id:
        query = query.where(Referral.referee_id == referee_id)
    if status:
        query = query.where(Referral.status == status)
    page = keyset_page(session, query, Referral.id, limit=limit, cursor=cursor, descending=True)
    if role == "storefront":
        page["data"] = [_one_side(row, referrer_id=referrer_id, referee_id=referee_id) for row in page["data"]]
    return page


_FIELDS = (
    "id",
    "referrer_id",
    "referee_id",
    "code",
    "status",
    "reason",
    "order_id",
    "referrer_points",
    "referee_points",
    "created_at",
    "decided_at",
)


def _one_side(row: Referral, *, referrer_id: str | None, referee_id: str | None) -> dict:
    """What a storefront that named one member sees of a referral: that member's side. The other
    member's id (and, past the referrer, the referee's order, which names them) is withheld, so a
    storefront can't walk from one customer through their referral chain to the others' records."""
    seen = {name: getattr(row, name) for name in _FIELDS}
    if referee_id != row.referee_id:
        seen["referee_id"] = seen["order_id"] = None
    if referrer_id != row.referrer_id:
        seen["referrer_id"] = None
    return seen


def funnel(session: Session, *, start: datetime, end: datetime) -> dict:
    """Sign-ups with a code in [start, end) and where they stand."""
    in_range = (Referral.created_at >= start, Referral.created_at < end)
    by_status = dict(
        session.execute(select(Referral.status, func.count()).where(*in_range).group_by(Referral.status)).all()
    )
    reasons = dict(
        session.execute(
            select(Referral.reason, func.count())
            .where(*in_range, Referral.status == "rejected")
            .group_by(Referral.reason)
        ).all()
    )
    rewarded = session.execute(
        select(func.coalesce(func.sum(Referral.referrer_points + Referral.referee_points), 0)).where(
            *in_range, Referral.status == "qualified"
        )
    ).scalar_one()
    return {
        "invited": sum(by_status.values()),
        "pending": by_status.get("pending", 0),
        "qualified": by_status.get("qualified", 0),
        "rejected": by_status.get("rejected", 0),
        "rejected_by_reason": reasons,
        "rewarded_points": int(rewarded),
    }
