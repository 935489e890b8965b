"""Checking rows of a members file, in this process or on every core.

Checking (phone numbers and email addresses above all) is most of a big import's time, and
rows don't depend on each other until they are staged, so a large file is checked by a pool of
worker processes while this one reads the file and loads the staging table. At most a few
batches are in flight: memory stays flat whatever the file's size.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator

from loyalty.core.ids import new_id, new_member_number
from loyalty.imports import member_rules
from loyalty.imports.member_rules import Member, Problems, Program
from loyalty.imports.source import Row, too_wide

# Below this many bytes of file, starting worker processes costs more than it saves.
PARALLEL_FROM_BYTES = 8_000_000
IN_FLIGHT_PER_WORKER = 2


def check(rows: list[tuple[int, dict[str, str]]], program: Program) -> list[tuple | str]:
    """For each (line, values): the staging row (staging.FIELDS order), or the reject reason."""
    out: list[tuple | str] = []
    for line, values in rows:
        if too_wide(Row(line, values, [])):
            out.append(Problems(too_many_columns="more cells than the header has columns").text())
            continue
        result = member_rules.parse(values, program)
        out.append(result.text() if isinstance(result, Problems) else staged(line, result, program))
    return out


def staged(line: int, member: Member, program: Program) -> tuple:
    earned = member.tier is not None and member.tier != program.entry_tier
    return (
        line,
        new_id("mbr"),
        member.member_number or new_member_number(),
        member.member_number is not None,
        member.external_id,
        member.name,
        member.name.casefold() if member.name else None,
        member.email,
        member.phone,
        member.birthday,
        member.gender,
        member.city,
        member.timezone,
        member.locale,
        member.consent,
        member.tags,
        member.enrolled_at,
        member.points,
        member.tier,
        earned,
    )


def workers_for(size_in_bytes: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 and size_in_bytes >= PARALLEL_FROM_BYTES else 0


def checked(batches: Iterable[list[Row]], program: Program, *, workers: int) -> Iterator[tuple[list[Row], list]]:
    """(batch, results) in file order."""
    if workers <= 0:
        for batch in batches:
            yield batch, check([(row.line, row.values) for row in batch], program)
        return
    # spawn, not fork: the parent holds database connections a forked child must never touch.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append((batch, pool.apply_async(check, ([(row.line, row.values) for row in batch], program))))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()
