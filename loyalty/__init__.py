"""The loyalty service: create_app wires configuration, database, API and hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from loyalty.config import Config
from loyalty.core import ratelimit, ratelimit_web
from loyalty.core.auth import KeyVerifier
from loyalty.core.db import Database
from loyalty.core.logging import configure_logging
from loyalty.core.openapi import LoyaltyApi, api_settings
from loyalty.core.problems import install_error_handlers
from loyalty.core.web import identify, install_request_hooks, this_request
from loyalty.wiring import wire


def _rate_limit_key() -> str:
    req = this_request()
    actor = identify() if req.environ.get("HTTP_AUTHORIZATION") else None
    return f"key:{actor.prefix}" if actor else f"ip:{req.remote_addr}"


def _limiter(config: Config) -> Callable[[Flask], None]:
    def init(app: Flask) -> None:
        if config.rate_limit_enabled:
            ratelimit_web.install(
                app, ratelimit.RateLimiter(config.rate_limit_storage_url), config.rate_limit, _rate_limit_key
            )

    return init


def _register_blueprints(app: Flask, api: LoyaltyApi) -> None:
    from loyalty import ops
    from loyalty.audit.api import blp as audit
    from loyalty.campaigns.api import campaigns_blp as campaigns
    from loyalty.campaigns.segments_api import blp as segments
    from loyalty.care.api import blp as care
    from loyalty.insights.api import blp as insights
    from loyalty.jobs.api import blp as jobs
    from loyalty.members.api import blp as members
    from loyalty.orders.api import blp as orders
    from loyalty.points.api import blp as points
    from loyalty.pos.api import blp as pos
    from loyalty.program.api import blp as program
    from loyalty.redemptions.api import blp as redemptions
    from loyalty.referrals.api import blp as referrals
    from loyalty.rewards.api import blp as rewards
    from loyalty.rewards.api import coupons
    from loyalty.tiers.api import blp as tiers
    from loyalty.tiers.api import member_tiers
    from loyalty.webhooks.api import blp as webhooks

    app.register_blueprint(ops.bp)
    for blueprint in (
        program,
        members,
        points,
        orders,
        redemptions,
        rewards,
        coupons,
        tiers,
        member_tiers,
        pos,
        referrals,
        webhooks,
        care,
        insights,
        segments,
        campaigns,
        audit,
        jobs,
    ):
        api.register_blueprint(blueprint)
    from loyalty.webhooks.events import document as document_webhooks

    document_webhooks(api.spec)  # the OpenAPI 3.1 `webhooks` section: what each event carries


def _import_every_module() -> None:
    """Every LoyaltyError subclass must exist before /problems answers: the error registry is derived
    from the classes (loyalty.core.errors.registry), including those of modules imported lazily."""
    import importlib
    import pkgutil

    import loyalty

    for module in pkgutil.walk_packages(loyalty.__path__, "loyalty."):
        importlib.import_module(module.name)


class _App(Flask):
    """Flask, minus one cost: before calling each hook and view, Flask asks `inspect` whether it is a
    coroutine function, a dozen times per request. Ours are all plain functions; the answer is
    remembered per function."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._callables: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        known = self._callables.get(func)
        if known is None:
            known = self._callables[func] = super().ensure_sync(func)
        return known


def create_app(config: Config | None = None, *, database: Database | None = None) -> Flask:
    config = config or Config.from_env()
    wire()
    _import_every_module()
    configure_logging(config.log_level, config.log_json)
    app = _App(__name__)
    # `//x` is a 404, not a redirect: Werkzeug's slash-merging redirect is built from the Host header.
    app.url_map.merge_slashes = False
    app.config.update(api_settings())
    app.config.update(MAX_CONTENT_LENGTH=config.max_request_bytes, TESTING=config.testing)
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own provider, the one with sort_keys
    app.json.sort_keys = False
    db = database or Database.from_config(config, replica=True)
    app.extensions["loyalty.config"] = config
    app.extensions["loyalty.db"] = db
    verifier = KeyVerifier(db.sessions, ttl=config.api_key_cache_seconds)
    from loyalty.audit.service import record_write

    install_request_hooks(app, verifier, _limiter(config), record_write)
    api = LoyaltyApi(app)
    app.extensions["loyalty.api"] = api
    _register_blueprints(app, api)
    from loyalty.console import install as install_console

    install_console(app, config)
    install_error_handlers(app)  # after flask-smorest, so ours answer every HTTPException
    return app
