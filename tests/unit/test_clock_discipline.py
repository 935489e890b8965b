"""No test reads the wall clock or the host's date: they take tests/clock.py's pinned instant.

CI also runs the SQLite suite under libfaketime at 23:30 UTC on a month's last day with the host in
Los Angeles (.ci/run); this catches the habit before it gets that far."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
WALL_CLOCK = re.compile(r"\bdate\.today\(\)|\bdatetime\.(now|utcnow|today)\(|\btime\.time\(\)")


def test_no_test_reads_the_wall_clock_or_the_hosts_date():
    offenders = [
        f"{path.relative_to(TESTS)}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name not in ("clock.py", Path(__file__).name)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == [], "use tests.clock (NOW, TODAY, now(), today()) instead:\n" + "\n".join(offenders)
