"""The reject file: every row that did not go in, with its line and the reason, as read.

Columns `line`, `reason`, then the file's own columns, so the shop can fix the rows in place and
import the reject file itself (the run ignores `line` and `reason` when it reads it back).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from loyalty.imports.source import Row

if TYPE_CHECKING:
    from _csv import Writer

LINE, REASON = "line", "reason"


class RejectFile:
    def __init__(self, path: str | Path, header: list[str]) -> None:
        self.path = Path(path)
        self.header = header
        self.count = 0
        self._handle: TextIO | None = None
        self._writer: Writer | None = None

    def add(self, row: Row, reason: str) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow([LINE, REASON, *self.header])
        self._writer.writerow([row.line, reason, *row.raw])
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        elif self.path.exists():
            # A reject file left by an earlier run of the same file would now be wrong: nothing was rejected.
            self.path.unlink()


def default_path(source: str | Path) -> Path:
    return Path(f"{source}.rejects.csv")
