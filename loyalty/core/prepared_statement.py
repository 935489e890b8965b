"""Statements of the checkout path, run straight on the driver inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

_Processor = Callable[[Any], Any]
_UNKNOWN: list[_Processor | None] = []  # readers not known until the first rows arrive


class _Compiled:
    __slots__ = ("sql", "fixed", "binders", "readers")

    def __init__(
        self,
        sql: str,
        fixed: dict[str, Any],
        binders: list[tuple[str, _Processor]],
        readers: list[_Processor | None] | None,
    ) -> None:
        self.sql, self.fixed, self.binders, self.readers = sql, fixed, binders, readers


class PreparedStatement:
    """One statement of the checkout path (an order is five of them), compiled once.

    On PostgreSQL it runs straight on the driver of the caller's connection, in its transaction, as
    a server-side prepared statement: none of SQLAlchemy's per-execution work (cache key, execution
    context, result wrapping), which cost an order more CPU than PostgreSQL spent on it. Values are
    bound and read through the columns' own types (a naive datetime is still refused, timestamps
    come back in UTC), and the statement's fixed values are sent as parameters like the rest. Rows
    are plain tuples. Elsewhere (SQLite) it runs through SQLAlchemy as usual.

    Not seen by SQLAlchemy's cursor events (the tests capture such statements at the driver)."""

    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        self._compiled: _Compiled | None = None

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if connection.dialect.name != "postgresql":
            return [tuple(row) for row in connection.execute(self._statement, params)]
        compiled = self._compiled or self._compile(connection.dialect)
        values = {**compiled.fixed, **params}
        for name, process in compiled.binders:
            values[name] = process(values[name])
        driver = connection.connection.driver_connection
        assert driver is not None  # the caller's connection is open: it is in a transaction
        try:
            found = self._run(connection.dialect, driver, compiled, values)
        except connection.dialect.loaded_dbapi.OperationalError:
            connection.invalidate()  # dead or broken: never back into the pool
            raise
        readers = compiled.readers
        if readers is None:
            return found
        return [tuple(value if read is None else read(value) for read, value in zip(readers, row)) for row in found]

    def _run(self, dialect: Dialect, driver: Any, compiled: _Compiled, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        with driver.cursor() as cursor:
            cursor.execute(compiled.sql, values, prepare=True)
            if cursor.description is None:
                return []
            found: list[tuple[Any, ...]] = cursor.fetchall()
            if compiled.readers is _UNKNOWN:  # they depend on the types the server sends
                compiled.readers = self._readers(dialect, [c.type_code for c in cursor.description])
        return found

    def first(self, connection: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(connection, params)
        return found[0] if found else None

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = cast(ClauseElement, self._statement).compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler) and compiled.positiontup is None  # psycopg: %(name)s
        assert not compiled.escaped_bind_names  # the names sent are the names in the text
        binders: list[tuple[str, _Processor]] = []
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binders.append((name, process))
        fixed = {name: value for name, value in compiled.construct_params(_check=False).items() if value is not None}
        self._compiled = _Compiled(compiled.string, fixed, binders, _UNKNOWN)
        return self._compiled

    def _readers(self, dialect: Dialect, type_codes: list[int]) -> list[_Processor | None] | None:
        columns = self._statement.exported_columns  # type: ignore[attr-defined]
        readers = [
            column.type.dialect_impl(dialect).result_processor(dialect, code)
            for column, code in zip(columns, type_codes, strict=True)
        ]
        return readers if any(readers) else None
