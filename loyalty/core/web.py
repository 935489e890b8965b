"""The request lifecycle every endpoint shares.

Order per request: request id and timer -> NULs, chunked bodies, media type -> authentication and
role -> rate limit (core/ratelimit_web.py, keyed by the verified key) -> idempotency
claim -> view -> commit (with the idempotency record) or rollback -> headers,
metrics and the access log.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from logging import INFO
from typing import Any, cast

import structlog
from flask import Flask, Request, Response, current_app, g, request
from flask.ctx import _AppCtxGlobals
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from loyalty.core import idempotency
from loyalty.core.auth import ROLES_ATTR, Actor, KeyVerifier, check_role
from loyalty.core.db import Database
from loyalty.core.errors import LengthRequired, LoyaltyError, NulInRequest, UnsupportedMediaType, problem
from loyalty.core.logging import enabled as logging_enabled
from loyalty.core.logging import get_logger
from loyalty.core.metrics import observe
from loyalty.core.writes import WriteRecorder, describe

log = get_logger("loyalty.http")
_REQUEST_ID = re.compile(r"\A[A-Za-z0-9._:\-]{1,128}\Z")  # \Z: `$` also matches before a final newline
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def database() -> Database:
    db: Database = current_app.extensions["loyalty.db"]
    return db


def request_session() -> Session:
    """The session of this request's one unit of work, opened on first use."""
    session: Session | None = g.get("_loyalty_session")
    if session is None:
        session = database().sessions()
        g._loyalty_session = session
    return session


def read_session() -> Session:
    """For views whose answer may lag behind the last write by a moment (LOYALTY_READ_DATABASE_URL:
    the POS lookup, member browsing, insights, segment counts and exports): a session on the read
    replica, or the request's own session when there is none. Never for a read that decides a
    write: that reads the primary, in the writing transaction."""
    if not database().has_replica:
        return request_session()
    session: Session | None = g.get("_loyalty_read_session")
    if session is None:
        session = database().read_sessions()
        g._loyalty_read_session = session
    return session


def read_engine() -> Engine:
    """For a view that only reads one statement through `PreparedRead` (the POS lookup): the replica's
    engine, or the primary's when there is none (see read_session)."""
    return database().read_engine


def _close_read_session(state: _AppCtxGlobals | None = None) -> None:
    session = (state or request_state()).pop("_loyalty_read_session", None)
    if session is not None:  # it only read: nothing to commit
        session.rollback()
        session.close()


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor


def this_request() -> Request:
    """The request itself, not its proxy: each attribute read through werkzeug's LocalProxy looks the
    request up again, and the hooks below read dozens per request (on the POS lookup's hot path)."""
    return cast(Request, request._get_current_object())  # type: ignore[attr-defined]


def request_state() -> _AppCtxGlobals:
    """`g` itself, not its proxy (see this_request)."""
    return cast(_AppCtxGlobals, g._get_current_object())


def _screen() -> None:
    """Before anything else: the request id and timer, then what no endpoint takes, refused before
    any view runs (a view that never reads its body, such as a ping, would otherwise act first)."""
    req, state = this_request(), request_state()
    incoming = req.environ.get("HTTP_X_REQUEST_ID", "")  # req.headers["X-Request-Id"], without the parsing
    # 32 hex digits as uuid4().hex gave, a fifth of its cost (no UUID object): an id, not a secret.
    state.request_id = incoming if _REQUEST_ID.match(incoming) else os.urandom(16).hex()
    state.started = time.perf_counter()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=state.request_id)
    _refuse_oversized_body(req)
    _refuse_nul_characters(req)
    _refuse_chunked_body(req)
    _require_json_body(req)


def _refuse_nul_characters(req: Request) -> None:
    # A NUL in the path or query can match nothing and no database column can hold it.
    # (A request without a query string has no arguments to parse: the POS lookup's.)
    if "\x00" in req.path or (
        req.query_string and any("\x00" in key or "\x00" in value for key, value in req.args.items(multi=True))
    ):
        raise NulInRequest("The path or query holds a NUL character.")


def _refuse_oversized_body(req: Request) -> None:
    if not req.environ.get("CONTENT_LENGTH"):  # no body declared (most reads): no length to check
        return
    length = req.content_length
    limit = None if length is None else current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and length is not None and length > limit:
        raise RequestEntityTooLarge()


def _refuse_chunked_body(req: Request) -> None:
    # A chunked body has no length to check against the size limit before reading it.
    if "chunked" in req.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise LengthRequired("Send the body with a Content-Length; chunked request bodies are not accepted.")


def _require_json_body(req: Request) -> None:
    # The API takes JSON; the staff console (/console) posts HTML forms, checked by its own CSRF guard.
    if req.method in _BODY_METHODS and req.content_length and not req.is_json and not req.path.startswith("/console"):
        raise UnsupportedMediaType(
            f"Send the body as JSON with `Content-Type: application/json`, not `{req.mimetype or 'none'}`."
        )


def _view_roles(req: Request) -> frozenset[str] | None:
    view = current_app.view_functions.get(req.endpoint) if req.endpoint else None
    return getattr(view, ROLES_ATTR, None) if view else None


def identify() -> Actor | None:
    """The verified caller, once per request (the rate limiter keys on it before auth runs)."""
    state = request_state()
    identity = state.__dict__.get("_identity")
    if identity is None:
        try:
            identity = current_app.extensions["loyalty.keys"].verify(this_request().environ.get("HTTP_AUTHORIZATION"))
        except LoyaltyError as error:
            identity = error
        state._identity = identity
    return identity if isinstance(identity, Actor) else None


def _authenticate() -> None:
    roles = _view_roles(this_request())
    if roles is None:
        return
    actor, state = identify(), request_state()
    if actor is None:
        raise state._identity
    state.actor = actor
    structlog.contextvars.bind_contextvars(api_key=actor.prefix)
    check_role(actor, roles)


def _claim_idempotency() -> Response | None:
    req = this_request()
    if req.method not in ("POST", "PATCH"):  # before the header: most calls read
        return None
    key = req.headers.get("Idempotency-Key")
    if key is None or g.get("actor") is None:
        return None
    idempotency.validate_key(key)
    config = current_app.extensions["loyalty.config"]
    fingerprint = idempotency.request_fingerprint(request.method, request.path, request.get_data(cache=True))
    with database().unit_of_work() as session:
        claimed = idempotency.claim(
            session,
            key_prefix=g.actor.prefix,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=fingerprint,
            ttl_hours=config.idempotency_ttl_hours,
            lock_seconds=config.idempotency_lock_seconds,
        )
    if isinstance(claimed, idempotency.Replay):
        response = Response(claimed.body, status=claimed.status, content_type=claimed.content_type)
        response.headers["Idempotent-Replayed"] = "true"
        g.idempotency_replayed = True
        return response
    g.idempotency_record = claimed
    return None


def _finish_transaction(response: Response) -> Response:
    """Commit the work with its idempotency record, or roll it back."""
    state = request_state()
    session: Session | None = state.pop("_loyalty_session", None)
    record = state.pop("idempotency_record", None)
    if session is None and record is None and this_request().method not in _WRITE_METHODS:
        return response  # a read that opened no session (the POS lookup): nothing to end or record
    ok = response.status_code < 400 or (response.status_code < 500 and g.pop("keep_changes", False))
    recorder: WriteRecorder | None = current_app.extensions.get("loyalty.write_recorder")
    # A replayed Idempotency-Key answer changed nothing: its first request was recorded.
    write = (
        request.method in _WRITE_METHODS
        and ok
        and g.get("actor") is not None
        and recorder is not None
        and not g.get("idempotency_replayed")
    )
    try:
        if ok and (session is not None or record is not None or write):
            session = session or database().sessions()
            if write and recorder is not None:  # the audit entry commits with the change it describes, or not at all
                recorder(session, describe(g.actor, response, g.get("request_id")))
            if record is not None:
                idempotency.complete(
                    session,
                    record,
                    status=response.status_code,
                    body=response.get_data(as_text=True),
                    content_type=response.content_type,
                )
            session.commit()
        elif session is not None:
            session.rollback()
    except Exception:  # a failed commit must not leave a half-finished answer
        log.exception("commit_failed")
        if session is not None:
            session.rollback()
        if record is not None:
            _release(record)
        return problem_response(
            500, "internal_error", "Internal server error", f"The change was not saved. Request id {g.request_id}."
        )
    finally:
        if session is not None:
            session.close()
    if record is not None and not ok:
        _remember_or_release(record, response)
    return response


def _release(record: int) -> None:
    with database().unit_of_work() as session:
        idempotency.release(session, record)


def _remember_or_release(record: int, response: Response) -> None:
    # A client error is the answer to that request and is replayed; a server
    # error is forgotten so the client can retry the same key.
    with database().unit_of_work() as session:
        if response.status_code >= 500:
            idempotency.release(session, record)
        else:
            idempotency.complete(
                session,
                record,
                status=response.status_code,
                body=response.get_data(as_text=True),
                content_type=response.content_type,
            )


def _finish(response: Response) -> Response:
    req, state = this_request(), request_state()
    if req.endpoint != "static":
        _close_read_session(state)
        response = _finish_transaction(response)
    response.headers["X-Request-Id"] = state.get("request_id", "")
    _security_headers(req, response)
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    endpoint = req.url_rule.rule if req.url_rule else "unmatched"
    method = req.method if req.method in _KNOWN_METHODS else "other"  # labels must not be caller-made
    elapsed = time.perf_counter() - state.get("started", time.perf_counter())
    observe(method, endpoint, response.status_code, elapsed)
    if logging_enabled(INFO):
        log.info("request", method=method, endpoint=endpoint, status=response.status_code, ms=round(elapsed * 1000, 2))
    return response


# Swagger UI sets style attributes and draws icons from data: URIs; every script is one of our files.
_HTML_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(req: Request, response: Response) -> None:
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Every /v1 answer may carry a member's personal data (errors name members too): no cache keeps it.
    if req.path.startswith("/v1/"):
        response.headers["Cache-Control"] = "no-store"
    # No page of ours may be framed (clickjacking) or run foreign script. (The header as it stands:
    # `mimetype` parses it, and every JSON answer would pay for that.)
    if (response.content_type or "").lower().startswith("text/html"):
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Content-Security-Policy", _HTML_POLICY)


def _teardown(_exc: BaseException | None) -> None:
    state = request_state()
    _close_read_session(state)
    session = state.pop("_loyalty_session", None)
    if session is not None:
        session.rollback()
        session.close()


def problem_response(
    status: int, code: str, title: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> Response:
    body = problem(status, code, title, detail, **extra)
    body["request_id"] = g.get("request_id")
    # Flask's JSONProvider.response is annotated with werkzeug's sansio Response; it makes the app's
    # response_class, flask.wrappers.Response.
    response = cast(Response, current_app.json.response(body))
    response.status_code = status
    response.content_type = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install_request_hooks(
    app: Flask, verifier: KeyVerifier, init_limiter: Callable[[Flask], None], record_write: WriteRecorder | None = None
) -> None:
    app.extensions["loyalty.keys"] = verifier
    app.extensions["loyalty.write_recorder"] = record_write
    app.before_request(_screen)
    # The limiter comes before authentication so that key guessing is limited too
    # (per address); a caller with a valid key is counted per key.
    init_limiter(app)
    app.before_request(_authenticate)
    app.before_request(_claim_idempotency)
    app.after_request(_finish)
    app.teardown_request(_teardown)
