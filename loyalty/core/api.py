"""The Blueprint every feature uses: flask-smorest's, with a stricter JSON reader."""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

import flask_smorest
from flask import Request
from flask_smorest.utils import deepupdate
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

MAX_DEPTH = 32


def _depth_ok(value: object, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_depth_ok(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    return True


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class JsonParser(FlaskParser):
    """Bodies that json.loads accepts but nothing downstream can store are malformed too:
    lone surrogates (no UTF-8 form), NUL characters, numbers of thousands of digits, absurd nesting."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        raw = req.get_data(cache=True)
        try:
            value = json.loads(raw) if raw else core.missing
            # A NUL or a lone surrogate (no UTF-8 form) can only come from a \u escape, a surrogate also
            # from its own bytes (0xED leads them; JSON refuses raw control characters): only a body
            # holding either is walked, and the common body (an order) skips both walks.
            if value is not core.missing and (b"\\u" in raw or b"\xed" in raw):
                json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
                if _has_nul(value):  # no text column stores it (PostgreSQL refuses it outright)
                    raise ValueError("NUL character in a string")
        except (ValueError, RecursionError, UnicodeError) as error:
            abort(400, exc=error, messages={"json": ["Invalid JSON body."]})
        if value is not core.missing and not _depth_ok(value):
            abort(400, messages={"json": ["Invalid JSON body."]})
        return value


# flask-smorest ships no type information (ignore_missing_imports), so its Blueprint is Any to mypy.
class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = JsonParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        # An instance, made once: given a class, webargs makes a new schema (deep-copying every
        # field) for every request, a fifth of an order's CPU. Loading keeps nothing on the schema.
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    @staticmethod
    def doc(**kwargs: Any) -> Any:
        """flask-smorest's `doc`, documenting the view without wrapping it: its wrapper only called
        the view, and every endpoint stacked two or three of them (operation id, error responses,
        `requires`), each a context lookup per request."""

        def decorator(func: Any) -> Any:
            apidoc = deepcopy(getattr(func, "_apidoc", {}))  # a copy: never the dict of a view it came from
            apidoc["manual_doc"] = deepupdate(deepcopy(apidoc.get("manual_doc", {})), kwargs)
            func._apidoc = apidoc
            return func

        return decorator
