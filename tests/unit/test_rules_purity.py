"""Every `rules.py` is pure: it imports the standard library, other rules modules and core's calendar
arithmetic, nothing else (no database, no request, no service), so its decisions are tested without
either. import-linter (`make lint`) forbids the frameworks; this also forbids a rules module reaching
into a feature's service or models."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LOYALTY = Path(__file__).resolve().parents[2] / "loyalty"
ALLOWED_LOYALTY = {"loyalty.core.dates"}


def imports_of(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom):  # relative: only a sibling rules module would do
            found.append((node.lineno, f"<relative>.{node.module}"))
    return found


def refused(module: str) -> bool:
    top = module.split(".")[0]
    if top == "__future__" or top in sys.stdlib_module_names:
        return False
    return not (module in ALLOWED_LOYALTY or (top == "loyalty" and module.endswith(".rules")))


def test_rules_modules_import_only_the_standard_library_and_other_rules():
    rules = sorted(LOYALTY.glob("*/rules.py"))
    assert len(rules) >= 12
    bad = [
        f"{path.relative_to(LOYALTY.parent)}:{line} imports {module}"
        for path in rules
        for line, module in imports_of(path)
        if refused(module)
    ]
    assert bad == []


def test_the_check_would_catch_a_service_or_a_framework():
    assert refused("loyalty.points.service") and refused("sqlalchemy.orm") and refused("flask")
    assert not refused("loyalty.points.rules") and not refused("decimal") and not refused("loyalty.core.dates")
