"""Member use cases: enrol, read, change, find, merge, erase."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loyalty.core import idempotency
from loyalty.core.auth import Forbidden
from loyalty.core.db import among, utcnow
from loyalty.core.errors import (
    Conflict,
    DuplicateMember,
    MemberErased,
    MemberMerged,
    NotFound,
    ValidationFailed,
)
from loyalty.core.ids import new_id, new_member_number
from loyalty.core.prepared_statement import PreparedStatement
from loyalty.members import hooks
from loyalty.members.identity import InvalidIdentifier, normalise_phone
from loyalty.members.models import CONSENT_KEYS, Member, MemberEvent, MemberTag
from loyalty.program.service import settings
from loyalty.webhooks.outbox import emit, forget_member

_UNIQUE = ("external_id", "email", "phone")
_PERSONAL = ("external_id", "name", "email", "phone", "birthday", "gender", "city", "occupation", "timezone", "locale")
_STRICTNESS = {"active": 0, "suspended": 1, "blocked": 2}


def _normalise(session: Session, data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    if data.get("phone"):
        try:
            data["phone"] = normalise_phone(data["phone"], settings(session).holiday_country)
        except InvalidIdentifier as error:
            errors["phone"] = [str(error)]
    if errors:
        raise ValidationFailed(errors)
    for key in ("email", "phone", "external_id"):
        if key in data and data[key] == "":
            data[key] = None
    return data


def _check_duplicates(session: Session, data: dict, *, exclude: str | None = None) -> None:
    clauses = [getattr(Member, k) == data[k] for k in _UNIQUE if data.get(k)]
    if not clauses:
        return
    query = select(Member).where(or_(*clauses))
    if exclude:
        query = query.where(Member.id != exclude)
    existing = session.scalars(query.limit(1)).first()
    if existing is not None:
        field = next(k for k in _UNIQUE if data.get(k) and getattr(existing, k) == data[k])
        raise DuplicateMember(
            f"A member with this {field} exists: {existing.id}.", existing_member_id=existing.id, field=field
        )


def _record(session: Session, member_id: str, kind: str, actor: str | None, **data) -> None:
    session.add(MemberEvent(member_id=member_id, kind=kind, at=utcnow(), actor=actor, data=data))


@contextlib.contextmanager
def _unique_guard(session: Session, data: dict, *, exclude: str | None = None):
    """Make the writes inside a savepoint, so a concurrent insert of the same email, phone or
    external id (which the pre-check could not see) turns into 409 duplicate_member, not 500."""
    session.flush()  # whatever came before must not fail inside the savepoint
    try:
        with session.begin_nested():
            yield
    except IntegrityError:
        _check_duplicates(session, data, exclude=exclude)
        raise


def create_member(session: Session, *, data: dict, actor: str | None, reveal_holder: bool = True) -> Member:
    """Enrol. `reveal_holder=False` (pos keys, which enrol but may not look members up by email or
    external id): a duplicate is still 409, naming the field but not the member who holds it."""
    if not reveal_holder:
        try:
            return create_member(session, data=data, actor=actor)
        except DuplicateMember as duplicate:
            field = duplicate.extra.get("field")
            raise DuplicateMember(
                f"A member with this {field or 'identifier'} exists; find them at the till by "
                "member number or phone (GET /v1/pos/members/...).",
                field=field,
            ) from None
    data = _normalise(session, dict(data))
    _check_duplicates(session, data)
    now = utcnow()
    consent = {key: False for key in CONSENT_KEYS} | (data.pop("consent", None) or {})
    tags = sorted(set(data.pop("tags", None) or []))
    member = Member(
        id=new_id("mbr"),
        member_number=new_member_number(),
        status="active",
        consent=consent,
        referral_code_used=data.pop("referral_code", None),
        enrolled_at=now,
        updated_at=now,
        **data,
    )
    member.tag_rows = [MemberTag(tag=tag) for tag in tags]
    with _unique_guard(session, data):
        session.add(member)
        _record(session, member.id, "member.enrolled", actor)
    member.search_name = member.name.casefold() if member.name else None
    session.info["actor"] = actor  # hooks write entries in the enrolling caller's name
    hooks.enrolled(session, member)
    session.flush()
    # Ids only: personal data stays out of events (receivers read the member over the API).
    emit(
        session,
        "member.created",
        {
            "member_id": member.id,
            "member_number": member.member_number,
            "external_id": member.external_id,
            "tier": member.tier_code,
            "referral": getattr(member, "referral", None),
        },
        at=now,
    )
    return member


def direct(session: Session, member_id: str, *, lock: bool = False) -> Member:
    """The member with exactly this id for a change: a tombstone's id is refused, not followed,
    so that a stale id can't erase or edit the survivor by surprise. `lock`: SELECT ... FOR UPDATE."""
    query = select(Member).where(Member.id == member_id)
    member = session.scalars(query.with_for_update() if lock else query).first()
    if member is None:
        raise NotFound(f"No member `{member_id}`.")
    if member.merged_into:
        raise MemberMerged(
            f"Member `{member_id}` was merged into `{member.merged_into}`.", survivor_id=member.merged_into
        )
    return member


_BRIEF = PreparedStatement(
    select(Member.id, Member.status, Member.tier_code, Member.merged_into, Member.erased_at != None).where(  # noqa: E711
        Member.id == bindparam("member_id")
    )
)


class Brief(NamedTuple):
    id: str
    status: str
    tier_code: str | None
    erased: bool = False


def brief(session: Session, member_id: str) -> Brief:
    """Id, status and tier of a member (or its survivor), in one indexed read: for checkout."""
    for _ in range(5):  # merges are flattened, so one hop is all there ever is
        row = _BRIEF.first(session.connection(), {"member_id": member_id})
        if row is None:
            break
        found, status, tier_code, merged_into, erased = row
        if not merged_into:
            return Brief(found, status, tier_code, bool(erased))
        member_id = merged_into
    raise NotFound(f"No member `{member_id}`.")


def tier_holders(session: Session, *, outside: set[str]) -> dict[str, int]:
    """How many live members hold each tier code not in `outside`."""
    rows = session.execute(
        select(Member.tier_code, func.count())
        .where(Member.tier_code.is_not(None), Member.tier_code.not_in(outside), Member.merged_into.is_(None))
        .group_by(Member.tier_code)
    )
    return {code: holders for code, holders in rows if code is not None}


def grading_page(session: Session, *, after: str, limit: int) -> list[tuple[str, str | None, datetime]]:
    """(id, tier code, enrolled at) of live members after `after` by id: the keyset batches of tier reviews."""
    return [
        (member_id, tier_code, enrolled_at)
        for member_id, tier_code, enrolled_at in session.execute(
            select(Member.id, Member.tier_code, Member.enrolled_at)
            .where(Member.id > after, Member.merged_into.is_(None))
            .order_by(Member.id)
            .limit(limit)
        )
    ]


def people(session: Session, member_ids: list[str]) -> dict[str, Member]:
    """Members by id (tombstones included), for checks that compare identities."""
    if not member_ids:
        return {}
    return {m.id: m for m in session.scalars(select(Member).where(among(session, Member.id, member_ids)))}


def people_fields(session: Session, member_ids: list[str], fields: tuple[str, ...]) -> list[tuple]:
    """`fields` of members by id (tombstones included) as plain rows, in the order named: for a batch
    job reading a few fields of thousands of members, where building objects costs more than the query."""
    if not member_ids:
        return []
    columns = [Member.__table__.c[name] for name in fields]
    return [tuple(row) for row in session.execute(select(*columns).where(among(session, Member.id, member_ids)))]


def held_tiers(session: Session, member_ids: list[str], *, lock: bool = False) -> dict[str, str | None]:
    """The tier code each live member holds now; `lock` takes their rows in id order, the lock
    tier changes serialise on."""
    query = select(Member.id, Member.tier_code).where(
        among(session, Member.id, member_ids), Member.merged_into.is_(None)
    )
    if lock:
        # NO KEY: an order inserted for the member holds a KEY SHARE lock on the row (its foreign
        # key); a plain FOR UPDATE would wait on that order and deadlock with it.
        query = query.order_by(Member.id).with_for_update(key_share=True)  # FOR NO KEY UPDATE
    return dict(session.execute(query).all())


def set_tiers(session: Session, tiers: dict[str, str]) -> None:
    """Give members their new tier codes: one statement per code, not per member."""
    by_code: dict[str, list[str]] = {}
    for member_id, code in tiers.items():
        by_code.setdefault(code, []).append(member_id)
    now = utcnow()
    for code, member_ids in sorted(by_code.items()):
        session.execute(
            update(Member)
            .where(among(session, Member.id, member_ids))
            .values(tier_code=code, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def resolve(session: Session, member_id: str, *, lock: bool = False) -> Member:
    """The member with this id, or the survivor it was merged into. `lock`: SELECT ... FOR UPDATE."""
    query = select(Member).where(Member.id == member_id)
    if lock:
        query = query.with_for_update()
    member = session.scalars(query).first()
    if member is None:
        raise NotFound(f"No member `{member_id}`.")
    if member.merged_into:
        return resolve(session, member.merged_into, lock=lock)
    return member


def update_member(
    session: Session, *, member_id: str, changes: dict, actor: str | None, may_change_status: bool = True
) -> Member:
    member = direct(session, member_id, lock=True)
    if "status" in changes and changes["status"] != member.status and not may_change_status:
        raise Forbidden("Only staff may change a member's status.")
    if member.erased_at is not None:
        raise MemberErased(f"Member `{member.id}` was erased; it can't be changed.")
    changes = _normalise(session, dict(changes))
    _check_duplicates(session, changes, exclude=member.id)
    changes = {k: v for k, v in changes.items() if _differs(member, k, v)}
    if not changes:
        return member  # nothing to change: no history, no new updated_at
    fields = sorted(changes)
    old_status = member.status
    with _unique_guard(session, changes, exclude=member.id):
        if "consent" in changes:
            member.consent = dict(member.consent) | changes.pop("consent")
        if "tags" in changes:
            member.tag_rows = [MemberTag(tag=tag) for tag in sorted(set(changes.pop("tags") or []))]
        for name, value in changes.items():
            setattr(member, name, value)
        member.search_name = member.name.casefold() if member.name else None
        member.updated_at = utcnow()
        _record(session, member.id, "member.updated", actor, fields=fields)
        if member.status != old_status:
            _record(session, member.id, "member.status_changed", actor, old=old_status, new=member.status)
    return member


def _differs(member: Member, name: str, value) -> bool:
    if name == "tags":
        return sorted(set(value or [])) != member.tags
    if name == "consent":
        return any(member.consent.get(k) != v for k, v in value.items())
    return getattr(member, name) != value


def erase_member(session: Session, *, member_id: str, actor: str | None) -> None:
    """Wipe personal data on request, everywhere it was copied, in this one transaction: the
    member row, remembered Idempotency-Key responses, event payloads and the delivery log, and
    (through the hooks) touches, interactions and notes. The ledger and history stay, pointing
    to an anonymous id. Erasing twice scrubs again, so a row written meanwhile is caught too."""
    member = direct(session, member_id, lock=True)  # writers about the member wait (see `unerased`)
    # A merged-away duplicate is the same person: its sign-up response, events, touches and
    # complaints were written under its own id, and only the survivor can be erased.
    merged = _merged_into(session, member.id)
    now = utcnow()
    if member.erased_at is None:
        for name in _PERSONAL + ("search_name",):
            setattr(member, name, None)
        member.consent = {key: False for key in CONSENT_KEYS}
        member.tag_rows = []
        member.erased_at = member.updated_at = now
        _record(session, member.id, "member.erased", actor)
    for tombstone in session.scalars(select(Member).where(Member.id.in_(merged), Member.erased_at.is_(None))):
        tombstone.erased_at = tombstone.updated_at = now
    session.flush()
    for member_key in [member.id, *merged]:
        idempotency.forget_member(session, member_key)
        forget_member(session, member_key)
        hooks.erased(session, member_key)
    session.flush()


def _merged_into(session: Session, member_id: str) -> list[str]:
    """Every member merged into this one, directly or through another merged one."""
    found: list[str] = []
    frontier = [member_id]
    while frontier:
        frontier = list(session.scalars(select(Member.id).where(Member.merged_into.in_(frontier))))
        found.extend(frontier)
    return found


def merged_away(session: Session, member_id: str) -> list[str]:
    """The duplicates merged into this member (an erasure of the member erases them too)."""
    return _merged_into(session, member_id)


def unerased(session: Session, member_id: str) -> None:
    """Writers of anything about a member (interactions, adjustments, outcomes) read the member
    row FOR KEY SHARE: an erasure (FOR UPDATE) in flight makes them wait and then refuses them, so
    nothing written alongside an erasure survives it. FOR KEY SHARE doesn't block tier or status
    changes (FOR NO KEY UPDATE), so checkouts don't queue behind it."""
    erased = session.execute(
        select(Member.erased_at).where(Member.id == member_id).with_for_update(read=True, key_share=True)
    ).scalar()
    if erased is not None:
        raise MemberErased(f"Member `{member_id}` was erased; nothing more is recorded about them.")


def merge_members(session: Session, *, survivor_id: str, source_id: str, actor: str | None) -> Member:
    survivor = direct(session, survivor_id, lock=True)
    source = session.scalars(select(Member).where(Member.id == source_id).with_for_update()).first()
    if source is None:
        raise ValidationFailed({"member_id": [f"No member `{source_id}`."]})
    if source.merged_into or source.id == survivor.id:
        raise Conflict(f"Member `{source_id}` is already {'merged' if source.merged_into else 'this member'}.")
    if survivor.erased_at or source.erased_at:
        raise MemberErased("An erased member can't be merged.")
    moved = {
        name: getattr(source, name)
        for name in _PERSONAL
        if getattr(survivor, name) is None and getattr(source, name) is not None
    }
    tags = set(survivor.tags) | set(source.tags)
    for name in _PERSONAL + ("search_name",):  # free the unique identifiers before the survivor takes them
        setattr(source, name, None)
    source.tag_rows = []
    # Merging must not launder a block: the stricter status wins.
    if _STRICTNESS[source.status] > _STRICTNESS[survivor.status]:
        survivor.status = source.status
    source.merged_into = survivor.id
    source.updated_at = survivor.updated_at = utcnow()
    session.flush()
    for name, value in moved.items():
        setattr(survivor, name, value)
    survivor.search_name = survivor.name.casefold() if survivor.name else None
    survivor.tag_rows = [MemberTag(tag=tag) for tag in sorted(tags)]
    session.execute(update(Member).where(Member.merged_into == source.id).values(merged_into=survivor.id))
    _record(session, survivor.id, "member.merged", actor, merged_member_id=source.id, fields=sorted(moved))
    _record(session, source.id, "member.merged_into", actor, survivor_id=survivor.id)
    session.flush()
    session.info["actor"] = actor  # hooks record changes in the merging caller's name
    hooks.merged(session, survivor, source)
    return survivor
