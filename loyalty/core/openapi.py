"""The OpenAPI 3.1 document, generated from the marshmallow schemas by flask-smorest."""

from __future__ import annotations

import http
from pathlib import Path
from typing import Any

import marshmallow as ma
import yaml
from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Flask
from flask_smorest import Api

from loyalty.core.fields import ResponseSchema

PROBLEM = "application/problem+json"
DESCRIPTION = """\
Loyalty-and-referral service: points, checkout awards, redemption, tiers, POS
lookup, referrals and member care.

Authenticate with `Authorization: Bearer <key>` (create one with
`loyalty keys create --role admin --name me`). Every error is
`application/problem+json` with a stable `code`. Every POST and PATCH accepts an
`Idempotency-Key` header: the same key and body within 24 h returns the first
response (header `Idempotent-Replayed: true`); another body gets 422
`idempotency_key_reused`; a request still running gets 409
`idempotency_in_flight`. Lists take `limit` (1-500, default 50) and `cursor`
and answer `{"data": [...], "next_cursor": ...}`.
"""


class ProblemSchema(ResponseSchema):
    """RFC 9457; some codes add members (e.g. `existing_member_id` for duplicate_member)."""

    optional_fields = frozenset({"errors"})

    type = ma.fields.String(metadata={"description": "URI reference naming the problem type"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String(metadata={"description": "Stable machine code, e.g. `validation_error`"})
    request_id = ma.fields.String(allow_none=True, metadata={"description": "As in the X-Request-Id header"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Per-field messages (validation_error only)"},
    )


def _integer(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "integer", "minimum": 0}}


# Response headers the service sends (core.web, core.auth, core.idempotency, core.ratelimit_headers).
HEADERS = {
    "X-Request-Id": {
        "description": "This request's id (the caller's own X-Request-Id when it sent a valid one); "
        "also in logs and in a problem's `request_id`",
        "schema": {"type": "string"},
    },
    "Retry-After": _integer("Seconds to wait before trying again"),
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key and body (nothing was done again)",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Allow": {"description": "The methods this path accepts", "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": 'The scheme to use: `Bearer realm="loyalty"`', "schema": {"type": "string"}},
    "RateLimit-Limit": _integer(
        "Requests this API key may make in the current window (IETF draft-ietf-httpapi-ratelimit-headers)"
    ),
    "RateLimit-Remaining": _integer("Requests left in the current window"),
    "RateLimit-Reset": _integer("Seconds until the current window resets"),
}
RATE_LIMIT = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
# Which error responses carry which headers beyond X-Request-Id (the component names of _register_responses).
ERROR_HEADERS = {
    "Unauthorized": ("WWW-Authenticate",),
    "TooManyRequests": ("Retry-After", *RATE_LIMIT),
    "Conflict": ("Retry-After",),  # with idempotency_in_flight: the first request is still running
    "METHOD_NOT_ALLOWED": ("Allow",),
}


def _refs(*names: str) -> dict[str, dict[str, str]]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


class ResponseHeaders(BasePlugin):
    """Documents the headers on each operation's own responses: X-Request-Id on all; the RateLimit-*
    trio on a keyed (rate-limited) operation's; Idempotent-Replayed on the success of one that takes
    an Idempotency-Key. Error responses are shared components and carry theirs (ERROR_HEADERS)."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            limited = bool(operation.get("security"))
            replayable = any(
                isinstance(p, dict) and p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])
            )
            for status, response in operation.get("responses", {}).items():
                if not isinstance(response, dict) or "$ref" in response:
                    continue
                names = ["X-Request-Id", *(RATE_LIMIT if limited else ())]
                if replayable and str(status).startswith("2"):
                    names.append("Idempotent-Replayed")
                response["headers"] = {**_refs(*names), **response.get("headers", {})}


class NullableEnums(MarshmallowPlugin):
    """A nullable field with a fixed set of values is written `anyOf: [{the enum}, {type: null}]`, not
    `type: [string, null]` with `null` among the enum's values: generators make one enum type of it
    (`Gender | None`) instead of several identical ones."""

    class Converter(OpenAPIConverter):
        def field2property(self, field: ma.fields.Field[Any]) -> dict[str, Any]:
            prop = super().field2property(field)
            kinds, values = prop.get("type"), prop.get("enum")
            if isinstance(kinds, list) and "null" in kinds and values is not None:
                [kind] = [k for k in kinds if k != "null"]
                prop.pop("type"), prop.pop("enum")
                prop["anyOf"] = [{"type": kind, "enum": [v for v in values if v is not None]}, {"type": "null"}]
            return prop


class SchemaNames:
    """Names the components: a schema's own `openapi_name`, else its class name without `Schema`.

    Conventions (tests/api/test_openapi_schemas.py checks them): `<Thing>` for a response,
    `<Thing>In` for a request body, `<Thing>Update` for a PATCH body, `<Thing>Page` for a list.
    `openapi_name` is read from the class itself, never inherited: a subclass is another shape.
    Two different classes claiming one name is an error here, where apispec would only warn and
    publish `Name1`, a name that changes with import order and breaks generated clients.
    """

    def __init__(self) -> None:
        self._claimed: dict[str, type] = {}

    def __call__(self, schema: type[ma.Schema] | ma.Schema | str) -> str:
        resolved = resolve_schema_cls(schema)
        cls = resolved[0] if isinstance(resolved, list) else resolved
        name = cls.__dict__.get("openapi_name") or cls.__name__.removesuffix("Schema")
        owner = self._claimed.setdefault(name, cls)
        if owner is not cls:
            raise ValueError(
                f"Schemas {owner.__module__}.{owner.__qualname__} and {cls.__module__}.{cls.__qualname__} "
                f"both resolve to the OpenAPI name {name!r}; set `openapi_name` on one of them"
            )
        return name


# flask-smorest ships no type information (ignore_missing_imports), so its Api is Any to mypy.
class LoyaltyApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def __init__(self, app: Flask | None = None, *, spec_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        # One resolver per document: the names claimed belong to this app's spec.
        spec_kwargs = {
            "marshmallow_plugin": NullableEnums(schema_name_resolver=SchemaNames()),
            "extra_plugins": [ResponseHeaders()],
            **(spec_kwargs or {}),
        }
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_responses(self) -> None:
        for name, header in HEADERS.items():
            self.spec.components.header(name, header)
        problem = {PROBLEM: {"schema": self.ERROR_SCHEMA}}

        def error(name: str, description: str) -> dict[str, Any]:
            # Errors are documented as application/problem+json, which is what they are.
            return {
                "description": description,
                "content": problem,
                "headers": _refs("X-Request-Id", *ERROR_HEADERS.get(name, ())),
            }

        for status in http.HTTPStatus:
            if status >= 400:
                self.spec.components.response(status.name, error(status.name, status.phrase), lazy=True)
        self.spec.components.response("DEFAULT_ERROR", error("DEFAULT_ERROR", "Error"), lazy=True)
        for name, description in (
            ("Unauthorized", "Missing, malformed, unknown or revoked API key"),
            ("Forbidden", "The key's role may not call this endpoint"),
            ("TooManyRequests", "Rate limit exceeded; see Retry-After"),
            ("NotFound", "No such resource"),
            ("Conflict", "Conflicts with the current state; with idempotency_in_flight, retry after Retry-After"),
        ):
            self.spec.components.response(name, error(name, description))


def api_settings() -> dict[str, Any]:
    return {
        "API_TITLE": "Loyalty",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Swagger UI is served from our own static files, never a CDN.
        "OPENAPI_SWAGGER_UI_URL": "/static/swagger-ui/",
        "API_SPEC_OPTIONS": {
            "info": {"description": DESCRIPTION},
            # Relative, so the document works wherever the service is mounted (and in Swagger UI).
            "servers": [{"url": "/", "description": "This service"}],
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
        },
    }


def spec_dict(app: Flask) -> dict[str, Any]:
    with app.app_context():
        spec: APISpec = app.extensions["loyalty.api"].spec
        return spec.to_dict()


class _PlainDumper(yaml.SafeDumper):
    # A list shared by two schemas is written out twice, not as a YAML anchor and alias (&id001):
    # some OpenAPI tools read YAML without aliases.
    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_spec(app: Flask, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(spec_dict(app), Dumper=_PlainDumper, sort_keys=True, allow_unicode=True)
    path.write_text("# Generated by `loyalty openapi write`; do not edit by hand.\n" + text)
