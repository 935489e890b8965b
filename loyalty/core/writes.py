"""What the request lifecycle knows about a write that is about to commit.

Core knows no feature: create_app hands the lifecycle a recorder (the audit log's) that gets
one `Write` per committing write request, in the request's own transaction. The target and body
are read only if the recorder asks, so writes it doesn't keep (a checkout's orders) cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from flask import Response, request
from sqlalchemy.orm import Session

from loyalty.core.auth import Actor


class Write:
    def __init__(self, actor: Actor, response: Response, request_id: str | None) -> None:
        self.actor = actor
        self.method = request.method
        self.rule = request.url_rule.rule if request.url_rule else request.path  # e.g. /v1/members/<member_id>
        self.action = request.endpoint or "unknown"  # e.g. members.update_member
        self.request_id = request_id
        self._response = response

    @cached_property
    def target(self) -> str | None:
        """The id the request addressed, else the one it created, else the singleton (program, tiers)."""
        view_args = request.view_args or {}
        if view_args:
            return str(list(view_args.values())[-1])
        if self._response.status_code == 201 and self._response.is_json:
            created = self._response.get_json(silent=True)
            created_id = created.get("id") if isinstance(created, dict) else None
            if isinstance(created_id, str):
                return created_id
        return request.blueprint

    @cached_property
    def body(self) -> Any:
        """The parsed JSON body: a recorder keeps field names from it, never values."""
        if request.is_json:
            return request.get_json(silent=True)
        # A console form: the names it posted (its CSRF token is no field of the change).
        return {name: None for name in request.form if name != "csrf_token"} or None


WriteRecorder = Callable[[Session, Write], None]


def describe(actor: Actor, response: Response, request_id: str | None) -> Write:
    return Write(actor, response, request_id)
