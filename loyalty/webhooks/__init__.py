"""Events for integrators: the outbox (delivery and subscriptions come with the webhooks issue)."""
