"""What an import run tells the person running it: a live line on a terminal, a summary at the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

EXIT_ALL_IN, EXIT_SOME_REJECTED, EXIT_CANNOT_START = 0, 1, 2


@dataclass
class Outcome:
    imported: int = 0
    existing: int = 0
    rejected: int = 0

    @property
    def rows(self) -> int:
        return self.imported + self.existing + self.rejected

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_REJECTED if self.rejected else EXIT_ALL_IN


class ImportProgress:
    """rows/s and rejects so far on one rewritten stderr line; silent when stderr is no terminal."""

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        every_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.stream, self.every, self.clock = label, stream or sys.stderr, every_seconds, clock
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = clock()
        self._shown_at: float | None = None

    def elapsed(self) -> float:
        return self.clock() - self.started

    def text(self, outcome: Outcome, phase: str = "") -> str:
        seconds = self.elapsed()
        rate = f", {outcome.rows / seconds:,.0f} rows/s" if seconds > 0 and outcome.rows else ""
        return (
            f"{self.label}{f' ({phase})' if phase else ''}: {outcome.rows:,} rows{rate}, {outcome.rejected:,} rejected"
        )

    def show(self, outcome: Outcome, phase: str = "", *, force: bool = False) -> None:
        now = self.clock()
        if self.live and (force or self._shown_at is None or now - self._shown_at >= self.every):
            self._shown_at = now
            self.stream.write("\r" + self.text(outcome, phase) + "\x1b[K")
            self.stream.flush()

    def close(self) -> None:
        if self.live and self._shown_at is not None:
            self.stream.write("\n")
            self.stream.flush()


def summary(label: str, outcome: Outcome, seconds: float, rejects_path: str | None, *, unit: str = "") -> str:
    """`unit` names what is counted when it isn't obvious ("order lines")."""
    counted = f"{unit} " if unit else ""
    line = (
        f"{label}: {outcome.imported:,} {counted}imported, {outcome.existing:,} existing, "
        f"{outcome.rejected:,} rejected in {seconds:.1f} s"
    )
    if outcome.rejected and rejects_path:
        line += f"; rejected rows with their reasons: {rejects_path}"
    return line
