from __future__ import annotations

from flask import current_app

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.schemas import ListArgsSchema
from loyalty.core.web import request_session
from loyalty.webhooks import schemas, service, subscriptions

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Webhooks out (admin)")


@blp.route("", methods=["GET"])
@blp.doc(operationId="webhooks.list")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.SubscriptionPageSchema)
@requires()
def list_subscriptions(args):
    """Webhook subscriptions

    Pages through webhook subscriptions (secrets are never shown). Errors: 400 invalid_cursor for a cursor
    this service didn't issue.
    """
    return service.list_subscriptions(request_session(), **args)


@blp.route("", methods=["POST"])
@blp.doc(operationId="webhooks.create")
@blp.arguments(schemas.SubscriptionInSchema)
@blp.response(201, schemas.SubscriptionSchema)
@accepts_json
@idempotent
@requires()
def create_subscription(data):
    """Subscribe a URL to events; signed per Standard Webhooks with the secret (shown once when made here)

    Subscribes an HTTPS URL to events; deliveries are signed per Standard Webhooks with the secret,
    which is answered only here. Errors: 422 validation_error, including a URL that resolves to a
    private address.
    """
    config = current_app.extensions["loyalty.config"]
    return service.create_subscription(
        request_session(), **data, allow_private=config.webhook_allow_private, default_secret=config.webhook_secret
    )


@blp.route("/<subscription_id>", methods=["GET"], parameters=path_params("subscription_id"))
@blp.doc(operationId="webhooks.get")
@blp.response(200, schemas.SubscriptionSchema)
@blp.doc(responses={"404": "NotFound"})
@requires()
def get_subscription(subscription_id):
    """One webhook subscription (its secret is never shown again)

    Reads one subscription; its secret is never shown again. Errors: 404 not_found.
    """
    return subscriptions.get_subscription(request_session(), subscription_id=subscription_id)


@blp.route("/<subscription_id>", methods=["PATCH"], parameters=path_params("subscription_id"))
@blp.doc(operationId="webhooks.update")
@blp.arguments(schemas.SubscriptionUpdateSchema)
@blp.response(200, schemas.SubscriptionSchema)
@blp.doc(responses={"404": "NotFound"})
@accepts_json
@idempotent
@requires()
def update_subscription(data, subscription_id):
    """Change the URL (checked again), the events, pause or resume it, or replace its secret

    Changes the URL (checked again), the events, pauses or resumes the subscription, or replaces its
    secret. Errors: 404 not_found; 422 validation_error.
    """
    return subscriptions.update_subscription(
        request_session(),
        subscription_id=subscription_id,
        **data,
        allow_private=current_app.extensions["loyalty.config"].webhook_allow_private,
    )


@blp.route("/<subscription_id>/ping", methods=["POST"], parameters=path_params("subscription_id"))
@blp.doc(operationId="webhooks.ping")
@blp.response(200, schemas.PingSchema)
@blp.doc(responses={"404": "NotFound"})
@idempotent
@requires()
def ping_subscription(subscription_id):
    """Send a signed `ping` event now, once, and answer what the receiver said (within 10 s)

    Sends a signed `ping` event to the subscription's URL now, once, and answers what the receiver
    said (within 10 s). Errors: 404 not_found.
    """
    config = current_app.extensions["loyalty.config"]
    return subscriptions.ping(
        request_session(),
        subscription_id=subscription_id,
        allow_private=config.webhook_allow_private,
        seconds=config.webhook_attempt_seconds,
    )


@blp.route("/<subscription_id>", methods=["DELETE"], parameters=path_params("subscription_id"))
@blp.doc(operationId="webhooks.delete")
@blp.response(204)
@blp.doc(responses={"404": "NotFound"})
@requires()
def delete_subscription(subscription_id):
    """Stop a subscription; what it had pending is not sent

    Stops a subscription; deliveries still pending are not sent. Errors: 404 not_found.
    """
    service.delete_subscription(request_session(), subscription_id=subscription_id)


@blp.route("/<subscription_id>/deliveries", methods=["GET"], parameters=path_params("subscription_id"))
@blp.doc(operationId="webhooks.deliveries")
@blp.arguments(schemas.DeliveryQueryArgsSchema, location="query")
@blp.response(200, schemas.DeliveryPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires()
def list_deliveries(args, subscription_id):
    """The delivery log of a subscription, newest first, with every attempt

    Pages through a subscription's delivery log, newest first, with every attempt. Errors: 404
    not_found; 400 invalid_cursor for a cursor
    this service didn't issue; 422 validation_error for a bad filter.
    """
    return service.deliveries(request_session(), subscription_id=subscription_id, **args)


@blp.route("/deliveries/<delivery_id>/replay", methods=["POST"], parameters=path_params("delivery_id"))
@blp.doc(operationId="webhooks.replay_delivery")
@blp.response(200, schemas.DeliverySchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@idempotent
@requires()
def replay_delivery(delivery_id):
    """Send a delivery again (same webhook-id), with a fresh day of retries

    Queues a delivery again with the same webhook-id and a fresh day of retries. Errors: 404
    not_found.
    """
    return service.replay(request_session(), delivery_id=delivery_id)
