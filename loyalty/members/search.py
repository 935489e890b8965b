"""Finding members by identifier, name fragment, tag, tier and status."""

from __future__ import annotations

from sqlalchemy import false, select
from sqlalchemy.orm import Session, selectinload

from loyalty.core.auth import Forbidden
from loyalty.core.errors import ValidationFailed
from loyalty.core.ids import luhn_valid
from loyalty.core.pagination import keyset_page
from loyalty.members.identity import InvalidIdentifier, normalise_email, normalise_phone
from loyalty.members.models import Member, MemberTag
from loyalty.members.rules import lookup_refusal
from loyalty.program.service import settings


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_members(session: Session, *, role: str, limit: int, cursor: str | None = None, **filters) -> dict:
    refusal = lookup_refusal(role, {**filters, "cursor": cursor})
    if refusal:
        raise Forbidden(refusal)
    query = select(Member).where(Member.merged_into.is_(None))
    if filters.get("email"):
        try:
            query = query.where(Member.email == normalise_email(filters["email"]))
        except InvalidIdentifier as error:
            raise ValidationFailed({"email": [str(error)]}) from None
    if filters.get("phone"):
        try:
            query = query.where(Member.phone == normalise_phone(filters["phone"], settings(session).holiday_country))
        except InvalidIdentifier as error:
            raise ValidationFailed({"phone": [str(error)]}) from None
    if filters.get("member_number") is not None:
        number = filters["member_number"].replace(" ", "").replace("-", "")
        # A wrong check digit can match nobody; answer without asking the database to agree.
        query = query.where(Member.member_number == number) if luhn_valid(number) else query.where(false())
    if filters.get("external_id"):
        query = query.where(Member.external_id == filters["external_id"])
    if filters.get("q"):
        query = query.where(Member.search_name.like(f"%{_escape_like(filters['q'].casefold())}%", escape="\\"))
    if filters.get("tag"):
        query = query.where(Member.id.in_(select(MemberTag.member_id).where(MemberTag.tag == filters["tag"])))
    if filters.get("tier"):
        query = query.where(Member.tier_code == filters["tier"])
    if filters.get("status"):
        query = query.where(Member.status == filters["status"])
    return keyset_page(session, query.options(selectinload(Member.tag_rows)), Member.id, limit=limit, cursor=cursor)
