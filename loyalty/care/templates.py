"""Message templates: sandboxed Jinja over a fixed set of member fields.

A template is compiled and rendered against a sample when it is saved, so a mistake is a 422
then, not a crash when thousands of touches go out.
"""

from __future__ import annotations

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
MAX_LENGTH = 5000

# What a template may use; every touch renders with all of them.
SAMPLE = {
    "name": "林美", "member_number": "645884664832", "tier": "gold", "tier_name": "Gold", "city": "上海",
    "points": 1280, "points_value": "12.80", "currency": "CNY", "program": "Demo Tea House",
    "kind": "birthday", "occasion": "2026", "occasion_name": "Birthday", "date": "2026-12-01",
    "gift_points": 300, "years": 2, "link": "https://tea.example/join?ref=ABCD2345",
}


def problem(template: str) -> str | None:
    """Why a template can't be used, or None."""
    if len(template) > MAX_LENGTH:
        return f"At most {MAX_LENGTH} characters."
    try:
        _env.from_string(template).render(**SAMPLE)
    except TemplateError as error:  # syntax, unknown variable, or a sandbox refusal
        return f"{type(error).__name__}: {error.message or error}"[:300]
    return None


def render(template: str, context: dict) -> str:
    return _env.from_string(template).render(**{**SAMPLE, **context})
