"""The README's map from features to their tests names every test module of tests/unit, tests/api and
tests/integration (a new module must find its feature's row), and names nothing that doesn't exist."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("unit", "api", "integration")


def mapped() -> list[tuple[str, str]]:
    """(kind, name pattern) for every entry of the map's table, e.g. ("api", "test_webhook*")."""
    text = ROOT.joinpath("README.md").read_text()
    start = text.index("**Where a feature's tests are**")
    rows = [line for line in text[start:].splitlines()[1:80] if line.startswith("  | ") and "---" not in line]
    entries: list[tuple[str, str]] = []
    for row in rows[1:]:  # the header row names the columns
        cell = row.split("|")[2]
        kind = None
        for word in re.findall(r"[\w*/]+", cell):
            if "/" in word:
                kind, word = word.split("/", 1)
            if kind in KINDS and word.startswith("test_"):
                entries.append((kind, word))
    return entries


def test_every_test_module_is_on_the_map_and_every_entry_exists():
    entries = mapped()
    assert len(entries) > 50
    modules = {(kind, path.stem) for kind in KINDS for path in ROOT.joinpath("tests", kind).glob("test_*.py")}
    unmapped = sorted(
        f"{kind}/{name}"
        for kind, name in modules
        if not any(k == kind and fnmatch.fnmatch(name, pattern) for k, pattern in entries)
    )
    assert unmapped == [], "add these to the README's test map"
    dangling = sorted(
        f"{kind}/{pattern}"
        for kind, pattern in entries
        if not any(k == kind and fnmatch.fnmatch(name, pattern) for k, name in modules)
    )
    assert dangling == [], "the README's test map names modules that don't exist"
