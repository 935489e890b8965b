from __future__ import annotations

from flask import current_app

from loyalty.core.api import Blueprint
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import request_session
from loyalty.members.schemas import ListArgsSchema
from loyalty.webhooks import schemas, service, subscriptions

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Webhooks out (admin)")


@blp.route("", methods=["GET"])
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.SubscriptionPageSchema)
@requires()
def list_subscriptions(args):
    """Webhook subscriptions"""
    return service.list_subscriptions(request_session(), **args)


@blp.route("", methods=["POST"])
@blp.arguments(schemas.SubscriptionInSchema)
@blp.response(201, schemas.SubscriptionSchema)
@accepts_json
@idempotent
@requires()
def create_subscription(data):
    """Subscribe a URL to events; signed per Standard Webhooks with the secret (shown once when made here)"""
    config = current_app.extensions["loyalty.config"]
    return service.create_subscription(request_session(), **data, allow_private=config.webhook_allow_private,
                                       default_secret=config.webhook_secret)


@blp.route("/<subscription_id>", methods=["GET"])
@blp.response(200, schemas.SubscriptionSchema)
@blp.doc(responses={"404": "NotFound"})
@requires()
def get_subscription(subscription_id):
    """One webhook subscription (its secret is never shown again)"""
    return subscriptions.get_subscription(request_session(), subscription_id=subscription_id)


@blp.route("/<subscription_id>", methods=["PATCH"])
@blp.arguments(schemas.SubscriptionUpdateSchema)
@blp.response(200, schemas.SubscriptionSchema)
@blp.doc(responses={"404": "NotFound"})
@accepts_json
@requires()
def update_subscription(data, subscription_id):
    """Change the URL (checked again), the events, pause or resume it, or replace its secret"""
    return subscriptions.update_subscription(request_session(), subscription_id=subscription_id, **data,
                                             allow_private=current_app.extensions["loyalty.config"]
                                             .webhook_allow_private)


@blp.route("/<subscription_id>/ping", methods=["POST"])
@blp.response(200, schemas.PingSchema)
@blp.doc(responses={"404": "NotFound"})
@idempotent
@requires()
def ping_subscription(subscription_id):
    """Send a signed `ping` event now, once, and answer what the receiver said (within 10 s)"""
    config = current_app.extensions["loyalty.config"]
    return subscriptions.ping(request_session(), subscription_id=subscription_id,
                              allow_private=config.webhook_allow_private, seconds=config.webhook_attempt_seconds)


@blp.route("/<subscription_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(responses={"404": "NotFound"})
@requires()
def delete_subscription(subscription_id):
    """Stop a subscription; what it had pending is not sent"""
    service.delete_subscription(request_session(), subscription_id=subscription_id)


@blp.route("/<subscription_id>/deliveries", methods=["GET"])
@blp.arguments(schemas.DeliveryQueryArgsSchema, location="query")
@blp.response(200, schemas.DeliveryPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires()
def list_deliveries(args, subscription_id):
    """The delivery log of a subscription, newest first, with every attempt"""
    return service.deliveries(request_session(), subscription_id=subscription_id, **args)


@blp.route("/deliveries/<delivery_id>/replay", methods=["POST"])
@blp.response(200, schemas.DeliverySchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@idempotent
@requires()
def replay_delivery(delivery_id):
    """Send a delivery again (same webhook-id), with a fresh day of retries"""
    return service.replay(request_session(), delivery_id=delivery_id)
