"""Declare what you import, import what you declare: pyproject.toml's dependencies against the
top-level modules that loyalty/ and migrations/ import (read with ast, mapped to distributions by
the installed packages' metadata)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Needed at run time without an import of ours: the PostgreSQL driver (named in the database URL),
# the server (`gunicorn -c gunicorn.conf.py wsgi:app`), limits' Redis storage for a redis:// URL,
# and the IANA zones for zoneinfo on hosts without them.
RUNTIME_ONLY = {"psycopg", "gunicorn", "redis", "tzdata"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normal(re.match(r"[A-Za-z0-9_.-]+", spec).group(0)) for spec in project["dependencies"]}


def imported_modules() -> set[str]:
    modules: set[str] = set()
    for path in [*(ROOT / "loyalty").rglob("*.py"), *(ROOT / "migrations").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m not in ("loyalty", "migrations")}


def imported_distributions() -> dict[str, str]:
    """Each third-party module we import -> the distribution that provides it (yaml -> pyyaml, ...)."""
    owners = packages_distributions()
    found = {}
    for module in imported_modules():
        assert module in owners, f"`{module}` is imported but no installed distribution provides it"
        found[module] = _normal(owners[module][0])
    return found


def test_every_imported_package_is_declared():
    missing = {module: dist for module, dist in imported_distributions().items() if dist not in declared()}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_declared_package_is_imported_or_needed_at_run_time():
    unused = declared() - set(imported_distributions().values()) - RUNTIME_ONLY
    assert not unused, f"declared in pyproject.toml but never imported (or add to RUNTIME_ONLY with why): {unused}"


def test_the_checks_see_what_they_check():
    # A mapping that found nothing would pass both tests above vacuously.
    dists = imported_distributions()
    assert dists["yaml"] == "pyyaml" and dists["flask_smorest"] == "flask-smorest"
    assert {"python-dateutil", "jinja2", "werkzeug", "psycopg"} <= declared()


def test_requirements_lock_satisfies_the_declared_ranges():
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    pinned = {_normal(name): version for name, version in pinned.items()}
    outside = [
        spec
        for spec in project["dependencies"]
        if not Requirement(spec).specifier.contains(pinned[_normal(Requirement(spec).name)], prereleases=True)
    ]
    assert not outside, f"requirements.lock pins a version outside these ranges: {outside}"
