"""One chunk of staged members into the live tables, as set-based statements in the caller's
transaction: members, their tags, an enrolment event, the opening lot with its ledger entry and
points account, and the tier standing of a tier brought in above the entry one.

Written the way the features themselves store them (points.ledger.write_credit, tiers.standings.apply),
but for thousands of members per statement, and without the outbox: history sends no webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from loyalty.core.db import UTCDateTime
from loyalty.imports.staging import STAGING

ACTOR = "system:import"
# The opening balance is one `adjust` credit per member (a correction brought from the old system,
# not points earned here: it doesn't count toward lifetime_earned), sourced to the import.
SOURCE_TYPE, SOURCE_ID, NOTE = "import", "opening_balance", "opening balance brought in by the import"


@dataclass(frozen=True)
class Terms:
    now: datetime  # the import's instant: lots are earned and tiers reached at it
    expires_at: datetime | None  # what points.service.expiry_for gives a lot earned now
    kept_until: datetime  # a tier reached now is kept until then (the retention period)


@dataclass(frozen=True)
class Written:
    imported: int
    existing: int


_S = STAGING.name
_CHUNK = "s.line BETWEEN :first AND :last"


_IMPORTED_EVENT = """'{"imported": true}'"""


def _json(dialect: str, expression: str) -> str:
    return f"CAST({expression} AS JSON)" if dialect == "postgresql" else expression


def _statements(dialect: str) -> list[str]:
    members = f"""
        INSERT INTO members (id, member_number, external_id, name, search_name, email, phone, birthday, gender, city,
                             timezone, locale, consent, status, tier_code, enrolled_at, updated_at)
        SELECT s.id, s.member_number, s.external_id, s.name, s.search_name, s.email, s.phone, s.birthday, s.gender,
               s.city, s.timezone, s.locale, {_json(dialect, "s.consent")}, 'active', s.tier_code, s.enrolled_at, :now
        FROM {_S} s WHERE {_CHUNK} AND s.status IS NULL
        ON CONFLICT DO NOTHING"""
    # Ids are new to this run, so a staged row whose id is in members went in just now; one that
    # isn't met a member enrolled through the API since the rows were compared (counted existing).
    went_in = f"{_S} s JOIN members m ON m.id = s.id"
    tags_of = (
        "CROSS JOIN LATERAL json_array_elements_text(CAST(s.tags AS JSON)) AS t(value)"
        if dialect == "postgresql"
        else "CROSS JOIN json_each(s.tags) AS t"
    )
    tags = f"""
        INSERT INTO member_tags (member_id, tag)
        SELECT s.id, t.value FROM {went_in} {tags_of}
        WHERE {_CHUNK} AND s.status IS NULL AND s.tags <> '[]'"""
    events = f"""
        INSERT INTO member_events (member_id, kind, at, actor, data)
        SELECT s.id, 'member.enrolled', :now, '{ACTOR}', {_json(dialect, _IMPORTED_EVENT)}
        FROM {went_in} WHERE {_CHUNK} AND s.status IS NULL"""
    entries = f"""
        INSERT INTO ledger_entries (member_id, kind, points, created_at, available_at, expires_at, source_type,
                                    source_id, note, actor)
        SELECT s.id, 'adjust', s.points, :now, :now, :expires_at, '{SOURCE_TYPE}', '{SOURCE_ID}', '{NOTE}', '{ACTOR}'
        FROM {went_in} WHERE {_CHUNK} AND s.status IS NULL AND s.points > 0"""
    lot_columns = "member_id, entry_id, points, remaining, available_at, expires_at, created_at"
    if dialect == "postgresql":  # the entry and its lot in one statement, as points.ledger.write_credit does
        credits = [
            f"""
            WITH e AS ({entries} RETURNING id, member_id, points, available_at, expires_at, created_at)
            INSERT INTO point_lots ({lot_columns})
            SELECT member_id, id, points, points, available_at, expires_at, created_at FROM e"""
        ]
    else:
        credits = [
            entries,
            f"""
            INSERT INTO point_lots ({lot_columns})
            SELECT e.member_id, e.id, e.points, e.points, e.available_at, e.expires_at, e.created_at
            FROM {went_in} JOIN ledger_entries e ON e.member_id = s.id AND e.kind = 'adjust'
              AND e.source_type = '{SOURCE_TYPE}' AND e.source_id = '{SOURCE_ID}'
            WHERE {_CHUNK} AND s.status IS NULL AND s.points > 0""",
        ]
    # Every member with lots has an account (the lock; a member without one has no points), here with
    # its stored balance already counted: the opening lot is available from now until it expires.
    accounts = f"""
        INSERT INTO point_accounts (member_id, debt, lifetime_earned, orders_count, updated_at, balance, balance_at,
                                    balance_until)
        SELECT s.id, 0, 0, 0, :now, s.points, :now, :expires_at
        FROM {went_in} WHERE {_CHUNK} AND s.status IS NULL AND s.points > 0"""
    # As tiers.standings.apply stores a tier reached by qualifying: a standing kept for the retention
    # period, and the change in the tier history. The entry tier needs neither (nothing to review).
    standings = f"""
        INSERT INTO tier_standings (member_id, earned_code, since, kept_until)
        SELECT s.id, s.tier_code, :now, :kept_until
        FROM {went_in} WHERE {_CHUNK} AND s.status IS NULL AND s.tier_earned"""
    changes = f"""
        INSERT INTO tier_changes (member_id, from_code, to_code, reason, note, source, at, actor)
        SELECT s.id, NULL, s.tier_code, 'imported', 'tier brought in by the import', 'import', :now, '{ACTOR}'
        FROM {went_in} WHERE {_CHUNK} AND s.status IS NULL AND s.tier_earned"""
    return [members, tags, events, *credits, accounts, standings, changes]


_BY_DIALECT: dict[str, list] = {}
_TYPED = {"now": UTCDateTime(), "expires_at": UTCDateTime(), "kept_until": UTCDateTime()}


def _compiled(dialect: str) -> list[tuple]:
    """(statement, the names it binds), built once per dialect."""
    if dialect not in _BY_DIALECT:
        built = []
        for sql in _statements(dialect):
            names = [name for name in ("first", "last", *_TYPED) if f":{name}" in sql]
            built.append((text(sql).bindparams(*[bindparam(n, type_=_TYPED[n]) for n in names if n in _TYPED]), names))
        _BY_DIALECT[dialect] = built
    return _BY_DIALECT[dialect]


def write_chunk(connection: Connection, terms: Terms, *, first: int, last: int, rows: int) -> Written:
    """The `rows` staged rows still to go in among lines first..last; the caller commits."""
    values = {
        "first": first,
        "last": last,
        "now": terms.now,
        "expires_at": terms.expires_at,
        "kept_until": terms.kept_until,
    }
    results = [
        connection.execute(statement, {name: values[name] for name in names})
        for statement, names in _compiled(connection.dialect.name)
    ]
    return Written(imported=results[0].rowcount, existing=rows - results[0].rowcount)
