"""`loyalty import orders FILE`: a shop's order history, one row per order line.

Four steps, each in batches with its own transactions, memory flat whatever the file's size:
1. stage: read, check and stage every line (order_staging; COPY on PostgreSQL), finding the member;
2. judge: per order, set-based: known order ids are `existing`; disagreeing lines, too many lines,
   or one rejected line reject the whole order;
3. reject: the rejected lines, in file order, to the reject file;
4. post: the good orders, a batch of members at a time, through the order service on each order's
   own clock (order_posting), then expire what history has expired by now (points.jobs.expire_due).

An interrupted run leaves committed batches in place: run again, their order ids are `existing`
and the rest goes in. Counts are of ORDER LINES (rows of the file), not orders.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from loyalty.config import Config
from loyalty.core.db import Database, utcnow
from loyalty.core.ids import new_id
from loyalty.imports import order_rules as rules
from loyalty.imports import order_staging as staging
from loyalty.imports.order_posting import Posted, orders_of, post_batch
from loyalty.imports.rejects import RejectFile
from loyalty.imports.report import ImportProgress, Outcome
from loyalty.imports.source import CsvSource, Row
from loyalty.points.jobs import expire_due
from loyalty.program.service import settings

COUNTED = "order lines"  # the summary counts rows of the file, not orders
COLUMNS = rules.COLUMNS
STAGE_BATCH = 5000  # rows read and staged per transaction
POST_BATCH = 1000  # order lines posted per transaction (whole members: a member is never split)
# Threads posting batches at once on PostgreSQL (see _post). On the 2-core VM, where PostgreSQL shares
# the cores, 2 or 3 gained nothing (15,000 lines: 7.1 s with 1, 7.7 s with 2 or 3): the work is CPU,
# not waiting. With the database on its own machine the round trips dominate and more threads pay.
POST_WORKERS = 1


def run_import(
    *, db: Database, config: Config, source: CsvSource, rejects: RejectFile, progress: ImportProgress
) -> Outcome:
    run, started = new_id("imp")[:32], utcnow()
    with db.unit_of_work() as session:
        program = settings(session)
        staging.clear_abandoned(session, now=started)
    outcome = Outcome()
    try:
        _stage(
            db, source, run=run, now=started, region=program.holiday_country, zone=program.timezone, progress=progress
        )
        with db.unit_of_work() as session:
            staging.judge(session, run)
            outcome.existing = staging.existing_lines(session, run)
        _write_rejects(db, run, rejects, outcome)
        progress.show(outcome, "posting", force=True)
        _post(db, run, rejects, outcome, progress)
        expire_due(db, cutoff=utcnow(), now=utcnow())  # history's expired lots, as the nightly job would have
    finally:
        with db.unit_of_work() as session:
            staging.clear_run(session, run)
    progress.show(outcome, force=True)
    return outcome


def _stage(
    db: Database, source: CsvSource, *, run: str, now: datetime, region: str, zone: str, progress: ImportProgress
) -> None:
    read = Outcome()  # the progress line while reading: rows read, rejected on their own so far
    for rows in source.batches(STAGE_BATCH):
        with db.unit_of_work() as session:
            rejected = staging.stage_batch(session, rows, run=run, now=now, region=region, zone=zone)
        read.imported += len(rows) - rejected
        read.rejected += rejected
        progress.show(read, "reading")


def _write_rejects(db: Database, run: str, rejects: RejectFile, outcome: Outcome) -> None:
    after = 0
    while True:
        with db.unit_of_work() as session:
            page = staging.rejected_lines(session, run, after=after, limit=STAGE_BATCH)
        for line, code, raw in page:
            rejects.add(Row(line=line, values={}, raw=raw), rules.reason(code))
        outcome.rejected += len(page)
        if len(page) < STAGE_BATCH:
            return
        after = page[-1][0]


def _post(db: Database, run: str, rejects: RejectFile, outcome: Outcome, progress: ImportProgress) -> None:
    """Batches of whole members, posted by POST_WORKERS threads on PostgreSQL (members share no rows
    a post locks: their accounts, lots, orders, tier standings), the next batch read meanwhile.
    SQLite serialises writers, so it posts in one thread."""
    workers = POST_WORKERS if db.dialect == "postgresql" else 1
    pool, running = ThreadPoolExecutor(max_workers=workers), deque[Future]()
    try:
        for lines in _batches(db, run):
            running.append(pool.submit(post_batch, db, orders_of(lines)))
            if len(running) >= workers * 2:  # a bounded queue: memory stays flat
                _account(running.popleft().result(), rejects, outcome, progress)
        while running:
            _account(running.popleft().result(), rejects, outcome, progress)
    finally:
        pool.shutdown(cancel_futures=True)  # stopped: batches not started stay out, a re-run posts them


def _batches(db: Database, run: str) -> Iterator[Sequence[Any]]:
    after = ""
    while True:
        with db.unit_of_work() as session:
            members = staging.member_groups(session, run, after=after, lines=POST_BATCH)
            if not members:
                return
            lines = staging.lines_of(session, run, members)
        yield lines
        after = members[-1]


def _account(done: Posted, rejects: RejectFile, outcome: Outcome, progress: ImportProgress) -> None:
    outcome.imported += done.imported
    outcome.existing += done.existing
    for order_lines, code in done.refused:
        for line in order_lines:
            rejects.add(Row(line=line.line, values={}, raw=json.loads(line.raw)), rules.reason(code))
        outcome.rejected += len(order_lines)
    progress.show(outcome, "posting")
