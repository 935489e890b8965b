"""Writing and reading the audit log. Rows are only ever inserted: there is no update or delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.audit import rules
from loyalty.audit.models import AuditEntry
from loyalty.core.auth import Actor
from loyalty.core.db import utcnow
from loyalty.core.pagination import keyset_page
from loyalty.core.writes import Write

CLI = "cli"


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    target: str | None,
    fields: list[str],
    request_id: str | None = None,
) -> None:
    """Add one entry in the caller's transaction: it commits or rolls back with the change.

    `actor` None is the operator at the `loyalty` command line.
    """
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=actor.prefix if actor else CLI,
            actor_name=actor.name if actor else CLI,
            actor_role=actor.role if actor else CLI,
            action=action[:100],
            target=target[:100] if target else None,
            fields=list(fields),
            request_id=request_id,
        )
    )


def record_write(session: Session, write: Write) -> None:
    """The request lifecycle's door: called for every write about to commit."""
    if rules.should_record(role=write.actor.role, method=write.method, rule=write.rule, action=write.action):
        record(
            session,
            actor=write.actor,
            action=write.action,
            target=write.target,
            fields=rules.field_names(write.body),
            request_id=write.request_id,
        )


def list_entries(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    action: str | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
) -> dict[str, Any]:
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if target:
        query = query.where(AuditEntry.target == target)
    if action:
        query = query.where(AuditEntry.action == action)
    if from_:
        query = query.where(AuditEntry.at >= from_)
    if to:
        query = query.where(AuditEntry.at < to)
    # Newest first; the id is unique and grows with time, so it is the keyset.
    return keyset_page(session, query, AuditEntry.id, limit=limit, cursor=cursor, descending=True, kind=int)
