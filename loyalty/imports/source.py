"""Reading an import file: UTF-8 (with or without a BOM), comma-separated, a header row.

Streamed: rows come in batches and nothing holds the whole file. The header is checked before
any row is read, so an unknown column stops the run before anything is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

csv.field_size_limit(1_000_000)  # csv's own 128 KiB limit would stop a run mid-file; a long cell is rejected instead
# The reject file's own columns: a fixed reject file can be imported as it is.
REJECT_COLUMNS = frozenset({"line", "reason"})


class CannotStart(Exception):
    """Nothing could be imported: the file is missing, unreadable, or its header is wrong (exit 2)."""


@dataclass(frozen=True)
class Row:
    line: int  # the file's line the row ends on (the header is line 1), as an editor shows it
    values: dict[str, str]  # column -> cell, stripped; a short row's missing cells are ""
    raw: list[str]  # the cells as read, for the reject file (without a reject file's line and reason)


class CsvSource:
    def __init__(self, path: str | Path, *, allowed: frozenset[str], encoding: str = "utf-8-sig") -> None:
        self.path = Path(path)
        self.allowed = allowed
        try:
            self._handle = self.path.open("r", encoding=encoding, newline="")
        except OSError as error:
            raise CannotStart(f"can't open {self.path}: {error.strerror or error}") from None
        self._reader = csv.reader(self._handle)
        try:
            self.header = self._read_header()
        except CannotStart:
            self._handle.close()
            raise

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _read_header(self) -> list[str]:
        try:
            header = next(self._reader)
        except StopIteration:
            raise CannotStart(f"{self.path} is empty: it needs a header row") from None
        except (UnicodeDecodeError, csv.Error) as error:
            raise CannotStart(f"{self.path} is not a UTF-8 CSV file: {error}") from None
        names = [name.strip() for name in header]
        unknown = [name for name in names if name not in self.allowed and name not in REJECT_COLUMNS]
        if unknown:
            raise CannotStart(
                f"unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(map(repr, unknown))} "
                f"(known: {', '.join(sorted(self.allowed))})"
            )
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise CannotStart(f"column{'s' if len(repeated) > 1 else ''} named twice: {', '.join(repeated)}")
        self._skip = {index for index, name in enumerate(names) if name in REJECT_COLUMNS}
        return names

    @property
    def columns(self) -> list[str]:
        """The file's columns as the reject file repeats them."""
        return [name for name in self.header if name not in REJECT_COLUMNS]

    def rows(self) -> Iterator[Row]:
        width = len(self.header)
        while True:
            try:
                raw = next(self._reader)
            except StopIteration:
                return
            except UnicodeDecodeError as error:
                raise CannotStart(f"{self.path} is not UTF-8 near line {self._reader.line_num + 1}: {error}") from None
            if not raw or all(not cell.strip() for cell in raw):
                continue  # a blank line is no row
            values = {
                name: (raw[index].strip() if index < len(raw) else "")
                for index, name in enumerate(self.header)
                if name not in REJECT_COLUMNS
            }
            if len(raw) > width and any(cell.strip() for cell in raw[width:]):
                values["\x00extra"] = "1"  # more cells than columns: the importer rejects it
            yield Row(
                line=self._reader.line_num,
                values=values,
                raw=[cell for index, cell in enumerate(raw) if index >= width or index not in self._skip],
            )

    def batches(self, size: int) -> Iterator[list[Row]]:
        batch: list[Row] = []
        for row in self.rows():
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def close(self) -> None:
        self._handle.close()


def too_wide(row: Row) -> bool:
    return "\x00extra" in row.values


def text_of(rows: list[list[str]]) -> str:
    """CSV text of rows (for tests and the sample files)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
