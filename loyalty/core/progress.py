"""Progress of a long job on a terminal: batches done, rows, rate, on one rewritten stderr line.

Quiet when stderr is not a terminal (cron, the scheduler, CI logs): the summary line printed at the
end is all those get. Hand-written rather than tqdm: a job reports batches, not a known total.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def progress_text(label: str, batches: int, rows: int, seconds: float) -> str:
    rate = f", {rows / seconds:,.0f} rows/s" if seconds > 0 and rows else ""
    return f"{label}: {batches:,} batch{'es' if batches != 1 else ''} done, {rows:,} rows{rate}"


class Progress:
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
        self.batches = self.rows = 0
        self.started = clock()
        self._shown_at: float | None = None

    def step(self, rows: int = 0) -> None:
        """One batch done (with how many rows it handled)."""
        self.batches, self.rows = self.batches + 1, self.rows + rows
        now = self.clock()
        if self.live and (self._shown_at is None or now - self._shown_at >= self.every):
            self._shown_at = now
            self.stream.write("\r" + progress_text(self.label, self.batches, self.rows, now - self.started) + "\x1b[K")
            self.stream.flush()

    def close(self) -> None:
        """End the rewritten line, so what follows starts on its own."""
        if self.live and self._shown_at is not None:
            self.stream.write(
                "\r" + progress_text(self.label, self.batches, self.rows, self.clock() - self.started) + "\x1b[K\n"
            )
            self.stream.flush()
