"""`loyalty import members FILE`: a shop's members, with opening points and tiers.

Three passes, memory flat whatever the file's size:
1. read and check every row as the API would (member_rules), refusing bad rows on the spot and
   staging the good ones (COPY on PostgreSQL);
2. over the whole staged file, in SQL: draw again the few generated member numbers that collide,
   refuse later rows that repeat an earlier row's identifier, set aside rows matching a member;
3. insert in chunks of rows in file order (members, tags, enrolment events, opening lots and their
   ledger entries, tier standings), one transaction per chunk. A run stopped half-way and started
   again finds what it committed as `existing` and goes on from there.

History is not news: no webhook events are written, no sign-up bonus is granted, no referral is
recorded (members.service.create_member's hooks are deliberately not run).
"""

from __future__ import annotations

import contextlib
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from loyalty.config import Config
from loyalty.core.dates import add_months
from loyalty.core.db import Database, utcnow
from loyalty.imports import member_checks, member_rules, staging
from loyalty.imports.member_rules import Program
from loyalty.imports.member_writes import Terms, write_chunk
from loyalty.imports.rejects import RejectFile
from loyalty.imports.report import ImportProgress, Outcome
from loyalty.imports.source import CsvSource
from loyalty.points.service import expiry_for
from loyalty.program.service import settings
from loyalty.tiers.rules import RETENTION_MONTHS
from loyalty.tiers.service import ladder

COLUMNS = member_rules.COLUMNS
READ_BATCH = 5_000
WRITE_CHUNK = 20_000


def run_import(
    *, db: Database, config: Config, source: CsvSource, rejects: RejectFile, progress: ImportProgress
) -> Outcome:
    program, terms = _program(db)
    with db.engine.connect() as connection:
        try:
            staging.create(connection)
            connection.commit()
            _stage(connection, source, program, rejects, progress)
            staging.analyse(connection)
            staging.renumber_collisions(connection)
            staging.mark_duplicates(connection)
            staging.mark_existing(connection)
            connection.commit()
            _refuse_whole_file_rejects(connection, source, rejects)
            outcome = _write(connection, terms, rejects, progress)
        finally:
            # The temporary table dies with the connection anyway: a cleanup that fails (the
            # connection lost) must not hide why the run stopped.
            with contextlib.suppress(SQLAlchemyError):
                connection.rollback()
                staging.drop(connection)
                connection.commit()
    return outcome


def _program(db: Database) -> tuple[Program, Terms]:
    now = utcnow()
    with db.unit_of_work() as session:
        program = settings(session)
        steps = ladder(session, fresh=True)
        expires_at = expiry_for(session, now)
    rules = Program(
        region=program.holiday_country,
        zone=ZoneInfo(program.timezone),
        tiers=frozenset(rung.code for rung in steps),
        entry_tier=steps[0].code if steps else None,
        now=now,
    )
    # The opening lot is earned at the import: available at once, expiring as a lot earned now does.
    return rules, Terms(now=now, expires_at=expires_at, kept_until=add_months(now, RETENTION_MONTHS))


def _stage(
    connection: Connection, source: CsvSource, program: Program, rejects: RejectFile, progress: ImportProgress
) -> int:
    staged = 0
    workers = member_checks.workers_for(source.path.stat().st_size)
    for batch, results in member_checks.checked(source.batches(READ_BATCH), program, workers=workers):
        rows = []
        for row, result in zip(batch, results):
            if isinstance(result, str):
                rejects.add(row, result)
            else:
                rows.append(result)
        if rows:
            staging.load(connection, rows)
            connection.commit()  # on SQLite, lets other writers in between batches
        staged += len(rows)
        progress.show(Outcome(imported=staged, rejected=rejects.count), "reading")
    return staged


_DETAILS = {staging.NUMBER_TAKEN: "another member holds this member number"}


def _refuse_whole_file_rejects(connection: Connection, source: CsvSource, rejects: RejectFile) -> None:
    """Rows refused against the whole file go to the reject file as read: the file is read again
    alongside the refused lines (both in line order), so nothing but the current row is held."""
    refused = staging.rejected(connection)
    wanted = next(refused, None)
    if wanted is None:
        return
    with CsvSource(source.path, allowed=source.allowed) as again:
        for row in again.rows():
            while wanted is not None and wanted[0] < row.line:
                wanted = next(refused, None)
            if wanted is None:
                break
            if wanted[0] == row.line:
                code, _, column = wanted[1].partition(":")
                detail = f"an earlier row has the same {column}" if column else _DETAILS.get(code, "")
                rejects.add(row, f"{code}: {detail}" if detail else code)
    for _ in refused:  # finish the cursor
        pass


def _write(connection: Connection, terms: Terms, rejects: RejectFile, progress: ImportProgress) -> Outcome:
    counts = staging.counts(connection)
    existing = counts.get(staging.EXISTING, 0)
    imported = 0
    for first, last, rows in staging.chunks(connection, WRITE_CHUNK):
        done = write_chunk(connection, terms, first=first, last=last, rows=rows)
        connection.commit()
        imported += done.imported
        existing += done.existing
        progress.show(Outcome(imported=imported, existing=existing, rejected=rejects.count), "writing")
    return Outcome(imported=imported, existing=existing, rejected=rejects.count)
