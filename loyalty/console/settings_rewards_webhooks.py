"""Settings pages (admin) for the rewards catalog and the webhooks out, with their delivery log and replay."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from loyalty.console.access import admin_only
from loyalty.console.blueprint import bp
from loyalty.console.settings_forms import (
    FieldErrors,
    checkbox,
    integer,
    label,
    local_field,
    local_instant,
    optional,
    text,
)
from loyalty.console.web import limit_arg, page
from loyalty.core.errors import ValidationFailed
from loyalty.core.web import request_session
from loyalty.program.service import settings
from loyalty.rewards import service as rewards_service
from loyalty.rewards.models import KINDS as REWARD_KINDS
from loyalty.rewards.schemas import RewardCreateSchema, RewardUpdateSchema
from loyalty.tiers import service as tiers_service
from loyalty.webhooks import service as webhooks_service
from loyalty.webhooks import subscriptions
from loyalty.webhooks.outbox import EVENTS
from loyalty.webhooks.schemas import SubscriptionInSchema

# ---- Rewards -------------------------------------------------------------------------------------

REWARD_FIELDS = (
    "name",
    "description",
    "kind",
    "value",
    "points_cost",
    "stock",
    "min_tier",
    "valid_from",
    "valid_until",
    "coupon_valid_days",
    "active",
)


def reward_body(form, zone: str) -> dict:
    body = {
        "name": text(form.get("name")),
        "description": (form.get("description") or "").strip(),
        "kind": text(form.get("kind")),
        "value": optional(form.get("value")),
        "points_cost": integer(form.get("points_cost")),
        "stock": integer(form.get("stock"), blank=None),
        "min_tier": optional(form.get("min_tier")),
        "valid_from": local_instant(form.get("valid_from"), zone),
        "valid_until": local_instant(form.get("valid_until"), zone),
        "active": checkbox(form, "active"),
    }
    days = integer(form.get("coupon_valid_days"), blank=None)
    if days is not None:
        body["coupon_valid_days"] = days
    return body


def reward_form(reward, zone: str) -> dict:
    """A reward as the form's fields."""
    return {
        "name": reward.name,
        "description": reward.description,
        "kind": reward.kind,
        "value": "" if reward.value is None else f"{reward.value.normalize():f}",
        "points_cost": reward.points_cost,
        "stock": "" if reward.stock is None else reward.stock,
        "min_tier": reward.min_tier or "",
        "valid_from": local_field(reward.valid_from, zone),
        "valid_until": local_field(reward.valid_until, zone),
        "coupon_valid_days": reward.coupon_valid_days,
        "active": reward.active,
    }


def _options(session) -> dict:
    return {
        "kind_options": [(kind, label(kind)) for kind in REWARD_KINDS],
        "tier_options": [(tier.code, tier.name) for tier in tiers_service.get_ladder(session)["tiers"]],
    }


def _rewards_page(form: dict | None = None, errors: FieldErrors | None = None, status: int = 200):
    session = request_session()
    found = rewards_service.list_rewards(session, limit=limit_arg(), cursor=request.args.get("cursor"))
    return page(
        "console/settings_rules/rewards.html",
        status=status,
        found=found,
        form=form or {"active": True, "coupon_valid_days": 90, "kind": "amount_off"},
        errors=errors or FieldErrors(),
        zone=settings(session).timezone,
        label=label,
        **_options(session),
    )


def _save_reward(load, save):
    """Read the form with the API's schema and save it; the refused form again with its errors."""
    try:
        save(load(reward_body(request.form, settings(request_session()).timezone)))
    except ma.ValidationError as error:
        return FieldErrors(error.messages, fields=REWARD_FIELDS)
    except ValidationFailed as error:
        return FieldErrors(error.extra.get("errors") or {}, fields=REWARD_FIELDS)
    return None


@bp.route("/settings/rewards", methods=["GET", "POST"])
@admin_only
def settings_rewards() -> ResponseReturnValue:
    if request.method == "GET":
        return _rewards_page()
    errors = _save_reward(
        RewardCreateSchema().load, lambda data: rewards_service.create_reward(request_session(), data=data)
    )
    if errors:
        return _rewards_page({**request.form, "active": checkbox(request.form, "active")}, errors, 422)
    flash(_("The reward was added."))
    return redirect(url_for("console.settings_rewards"), 303)


@bp.route("/settings/rewards/<reward_id>", methods=["GET", "POST"])
@admin_only
def settings_reward(reward_id: str) -> ResponseReturnValue:
    session = request_session()
    reward = rewards_service.get_reward(session, reward_id)  # 404 page when there is none
    zone = settings(session).timezone
    errors = None
    if request.method == "POST":
        errors = _save_reward(
            RewardUpdateSchema().load,
            lambda changes: rewards_service.update_reward(session, reward_id=reward_id, changes=changes),
        )
        if not errors:
            flash(_("The reward was saved."))
            return redirect(url_for("console.settings_rewards"), 303)
    form = reward_form(reward, zone) if errors is None else {**request.form, "active": checkbox(request.form, "active")}
    return page(
        "console/settings_rules/reward.html",
        status=422 if errors else 200,
        reward=reward,
        form=form,
        errors=errors or FieldErrors(),
        zone=zone,
        label=label,
        **_options(session),
    )


# ---- Webhooks ------------------------------------------------------------------------------------


def _webhooks_page(
    form: dict | None = None,
    errors: FieldErrors | None = None,
    created: webhooks_service.SubscriptionWithSecret | None = None,
    status: int = 200,
):
    found = webhooks_service.list_subscriptions(request_session(), limit=limit_arg(), cursor=request.args.get("cursor"))
    return page(
        "console/settings_rules/webhooks.html",
        status=status,
        found=found,
        form=form or {"events": []},
        errors=errors or FieldErrors(),
        created=created,
        events=EVENTS,
        label=label,
    )


@bp.route("/settings/webhooks", methods=["GET", "POST"])
@admin_only
def settings_webhooks() -> ResponseReturnValue:
    if request.method == "GET":
        return _webhooks_page()
    config = current_app.extensions["loyalty.config"]
    body = {"url": text(request.form.get("url")), "events": request.form.getlist("events")}
    form = dict(body)
    try:
        created = webhooks_service.create_subscription(
            request_session(),
            **SubscriptionInSchema().load(body),
            allow_private=config.webhook_allow_private,
            default_secret=config.webhook_secret,
        )
    except ma.ValidationError as error:
        return _webhooks_page(form, FieldErrors(error.messages, fields=("url", "events")), status=422)
    except ValidationFailed as error:
        return _webhooks_page(form, FieldErrors(error.extra.get("errors") or {}, fields=("url", "events")), status=422)
    # The secret is shown here, once, in this answer: never flashed, stored in the session or shown again.
    return _webhooks_page(created=created)


@bp.post("/settings/webhooks/<subscription_id>/active")
@admin_only
def settings_webhook_active(subscription_id: str) -> ResponseReturnValue:
    active = request.form.get("active") == "true"
    subscriptions.update_subscription(
        request_session(),
        subscription_id=subscription_id,
        active=active,
        allow_private=current_app.extensions["loyalty.config"].webhook_allow_private,
    )
    flash(_("The webhook was resumed.") if active else _("The webhook was paused."))
    detail = url_for("console.settings_webhook", subscription_id=subscription_id)
    return redirect(detail if request.form.get("next") == detail else url_for("console.settings_webhooks"), 303)


@bp.get("/settings/webhooks/<subscription_id>")
@admin_only
def settings_webhook(subscription_id: str) -> ResponseReturnValue:
    session = request_session()
    subscription = subscriptions.get_subscription(session, subscription_id=subscription_id)
    status = request.args.get("status") if request.args.get("status") in ("pending", "delivered", "dead") else None
    log = webhooks_service.deliveries(
        session, subscription_id=subscription_id, limit=limit_arg(), cursor=request.args.get("cursor"), status=status
    )
    return page(
        "console/settings_rules/webhook.html", subscription=subscription, log=log, status_filter=status, label=label
    )


@bp.post("/settings/webhooks/deliveries/<delivery_id>/replay")
@admin_only
def settings_webhook_replay(delivery_id: str) -> ResponseReturnValue:
    delivery = webhooks_service.replay(request_session(), delivery_id=delivery_id)
    flash(_("The delivery will be sent again shortly, with the same webhook id."))
    return redirect(url_for("console.settings_webhook", subscription_id=delivery["subscription_id"]), 303)
