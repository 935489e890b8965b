"""The OpenAPI 3.1 document, generated from the marshmallow schemas by flask-smorest."""

from __future__ import annotations

import http
from pathlib import Path

import marshmallow as ma
import yaml
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask
from flask_smorest import Api

from loyalty.core.fields import ResponseSchema

PROBLEM = "application/problem+json"
DESCRIPTION = """\
Loyalty-and-referral service: points, checkout awards, redemption, tiers, POS
lookup, referrals and member care.

Authenticate with `Authorization: Bearer <key>` (create one with
`loyalty keys create --role admin --name me`). Every error is
`application/problem+json` with a stable `code`. Every POST accepts an
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
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Per-field messages (validation_error only)"},
    )


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

    def __call__(self, schema) -> str:
        resolved = resolve_schema_cls(schema)
        cls = resolved[0] if isinstance(resolved, list) else resolved
        name = cls.__dict__.get("openapi_name") or cls.__name__.removesuffix("Schema")
        owner = self._claimed.setdefault(name, cls)
        if owner is not cls:
            raise ValueError(f"Schemas {owner.__module__}.{owner.__qualname__} and {cls.__module__}.{cls.__qualname__} "
                             f"both resolve to the OpenAPI name {name!r}; set `openapi_name` on one of them")
        return name


class LoyaltyApi(Api):
    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def __init__(self, app: Flask | None = None, *, spec_kwargs: dict | None = None, **kwargs) -> None:
        # One resolver per document: the names claimed belong to this app's spec.
        spec_kwargs = {"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=SchemaNames()), **(spec_kwargs or {})}
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_responses(self):
        # Errors are documented as application/problem+json, which is what they are.
        for status in http.HTTPStatus:
            if status >= 400:
                response = {"description": status.phrase, "content": {PROBLEM: {"schema": self.ERROR_SCHEMA}}}
                self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR", {"description": "Error", "content": {PROBLEM: {"schema": self.ERROR_SCHEMA}}}, lazy=True
        )
        problem = {PROBLEM: {"schema": self.ERROR_SCHEMA}}
        for name, description in (
            ("Unauthorized", "Missing, malformed, unknown or revoked API key"),
            ("Forbidden", "The key's role may not call this endpoint"),
            ("TooManyRequests", "Rate limit exceeded; see Retry-After"),
            ("NotFound", "No such resource"),
            ("Conflict", "Conflicts with the current state"),
        ):
            self.spec.components.response(name, {"description": description, "content": problem})


def api_settings() -> dict:
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


def spec_dict(app: Flask) -> dict:
    with app.app_context():
        return app.extensions["loyalty.api"].spec.to_dict()


def write_spec(app: Flask, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(spec_dict(app), sort_keys=True, allow_unicode=True)
    path.write_text("# Generated by `loyalty openapi write`; do not edit by hand.\n" + text)
