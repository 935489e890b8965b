"""One registry of error codes (loyalty.core.errors.registry): the README's table and the /problems
pages cover exactly it, and every LoyaltyError class anywhere in the package is in it."""

from __future__ import annotations

import importlib
import pkgutil
import re

import loyalty
from loyalty.config import PROJECT_ROOT
from loyalty.core.errors import CATALOG, LoyaltyError, registry

_TABLE = re.compile(r"<!-- error-codes.*?-->\n(.*?)<!-- /error-codes -->", re.DOTALL)
_ROW = re.compile(r"^\| `([a-z_]+)` \| ([0-9x]+) \| (.+) \|$")


def _every_error_class() -> set[type[LoyaltyError]]:
    for module in pkgutil.walk_packages(loyalty.__path__, "loyalty."):
        importlib.import_module(module.name)
    found, todo = set(), [LoyaltyError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def _readme_table() -> dict[str, str]:
    match = _TABLE.search((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its <!-- error-codes --> table"
    rows = [line for line in match.group(1).splitlines() if line.startswith("| `")]
    parsed = {}
    for line in rows:
        row = _ROW.match(line)
        assert row, f"README error-code row not in the `| `code` | status | meaning |` form: {line}"
        assert row.group(1) not in parsed, f"{row.group(1)} is twice in the README table"
        parsed[row.group(1)] = row.group(2)
    return parsed


def test_every_error_class_is_registered():
    classes = _every_error_class()
    codes = registry()
    for cls in classes:
        assert cls.code in codes, f"{cls.__module__}.{cls.__name__} answers `{cls.code}`, which is not registered"


def test_the_readme_table_lists_exactly_the_registry():
    _every_error_class()
    codes = registry()
    table = _readme_table()
    missing, stale = set(codes) - set(table), set(table) - set(codes)
    assert not missing, f"README error table lacks: {sorted(missing)} (add a row per code to README.md)"
    assert not stale, f"README error table names codes the service never answers: {sorted(stale)}"
    assert {code: str(known.status) for code, known in codes.items()} == table


def test_descriptions_belong_to_registered_codes():
    _every_error_class()
    assert set(CATALOG) <= set(registry()), "CATALOG describes codes nobody answers"


def test_problem_pages_cover_exactly_the_registry(client):
    codes = registry()
    index = client.get("/problems").get_json()["data"]
    assert [entry["code"] for entry in index] == sorted(codes)
    for code, known in codes.items():
        page = client.get(f"/problems/{code}")
        assert page.status_code == 200, code
        assert page.get_json() == {
            "code": code,
            "status": known.status,
            "title": known.title,
            "description": known.description,
        }
        assert known.description
    for unknown in ("nope", "validation-error", "Not_Found"):
        assert client.get(f"/problems/{unknown}").status_code == 404


def test_a_new_error_class_is_registered_by_existing(client):
    class ShelfEmpty(LoyaltyError):
        status, code, title = 409, "shelf_empty_for_test", "The shelf is empty"
        description = "Only in this test."

    try:
        assert registry()["shelf_empty_for_test"].description == "Only in this test."
        assert client.get("/problems/shelf_empty_for_test").get_json()["status"] == 409
    finally:
        del ShelfEmpty
        import gc

        gc.collect()


def test_problem_types_in_answers_resolve(client, auth):
    body = client.post("/v1/orders", json={}, headers=auth()).get_json()
    assert client.get(body["type"]).status_code == 200
