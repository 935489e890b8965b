"""Every operation says what it does and which errors it gives; every parameter says what it is."""

from __future__ import annotations

import re

METHODS = ("get", "post", "put", "patch", "delete")


def _operations(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", item, operation


def test_every_operation_has_a_description_beyond_its_summary(client):
    missing = [
        key
        for key, _, op in _operations(client)
        if not (op.get("description") or "").strip() or op.get("description") == op.get("summary")
    ]
    assert not missing


def test_every_description_names_the_errors_it_can_give(client):
    # "Errors:" followed by the statuses/codes, or a plain statement that only auth and rate limits apply.
    silent = [key for key, _, op in _operations(client) if not re.search(r"\bErrors?\b", op.get("description", ""))]
    assert not silent


def test_every_parameter_has_a_description(client):
    undescribed = []
    for key, item, op in _operations(client):
        for parameter in item.get("parameters", []) + op.get("parameters", []):
            if parameter.get("in") in ("path", "query", "header") and not (parameter.get("description") or "").strip():
                undescribed.append((key, parameter["in"], parameter["name"]))
    assert not undescribed


def test_the_document_names_a_relative_server(client):
    servers = client.get("/openapi.json").get_json()["servers"]
    assert servers and all(not re.match(r"^[a-z]+://", server["url"]) for server in servers)


def test_descriptions_only_name_errors_the_operation_documents(client):
    """A description that promises a 404 or 409 the responses don't list (or the reverse for 404) has drifted."""
    drifted = []
    for key, _, op in _operations(client):
        mentioned = set(re.findall(r"\b(4\d\d)\b", op.get("description", "")))
        documented = {status for status in op["responses"] if status.startswith("4")}
        if mentioned - documented - {"400", "401", "403", "422"} or ("404" in documented) != ("404" in mentioned):
            drifted.append((key, sorted(mentioned), sorted(documented)))
    assert not drifted
