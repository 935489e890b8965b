"""Many rows as one bound value, for a batch job's thousand inserts or updates in one statement.

On PostgreSQL an executemany is still one statement per row for the server to run, and arrays of
text are escaped element by element in Python; one JSON document read by `json_to_recordset` goes
as a single string, parsed by the server. Its columns take the table's types, so the rows come out
typed (instants as timestamps, JSON as JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Table, bindparam, column, func
from sqlalchemy.sql.selectable import TableValuedAlias

ROWS = "rowset_rows"


def rowset(table: Table, names: Sequence[str], *, name: str = "given") -> TableValuedAlias:
    """The rows given as `rowset_values` (each with the columns `names` of `table`) as a FROM item
    called `name` (PostgreSQL)."""
    columns = [column(key, table.c[key].type) for key in names]
    found = func.json_to_recordset(bindparam(ROWS, type_=JSON)).table_valued(*columns)
    return found.render_derived(name=name, with_types=True)


def rowset_values(names: Sequence[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of a statement reading `rowset`. Passed at execution, not bound into the
    statement: a statement object sits in reference cycles until the collector's rare full pass, and
    with the rows inside it a fan-out kept every page's rows (343 MB at a million members)."""
    return {ROWS: [{key: _ready(row[key]) for key in names} for row in rows]}


def _ready(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # as UTCDateTime refuses them
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).isoformat()
    return value
