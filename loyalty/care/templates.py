"""Message templates: sandboxed Jinja limited to what a greeting needs.

A template may print the member fields below, with a few harmless filters, and choose between
texts with `if`. Loops, arithmetic, calls, macros, includes and assignments are refused when the
template is saved (422): they are what lets a template run forever, eat memory, or fail for one
member at send time. What is left can't do any of that, and is rendered against a sample on save.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
MAX_LENGTH = 5000

# What a template may use; every touch renders with all of them.
SAMPLE = {
    "name": "林美",
    "member_number": "645884664832",
    "tier": "gold",
    "tier_name": "Gold",
    "city": "上海",
    "points": 1280,
    "points_value": "12.80",
    "currency": "CNY",
    "program": "Demo Tea House",
    "kind": "birthday",
    "occasion": "2026",
    "occasion_name": "birthday",
    "date": "2026-12-01",
    "gift_points": 300,
    "years": 2,
    "coupon": "",
}
FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d", "string"})
_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Filter,
    nodes.CondExpr,
)


class TemplateFailed(Exception):
    pass


def problem(template: str) -> str | None:
    """Why a template can't be used, or None."""
    if len(template) > MAX_LENGTH:
        return f"At most {MAX_LENGTH} characters."
    if not template.strip():
        return "A message needs some text."
    try:
        tree = _env.parse(template)
        found = list(tree.find_all(nodes.Node))
    except TemplateSyntaxError as error:
        return f"Syntax error on line {error.lineno}: {error.message}"[:300]
    except (RecursionError, MemoryError):  # Jinja's parser recurses once per `(` or `not`
        return "The template nests too deeply: use fewer parentheses or `not`s."
    for node in found:
        if not isinstance(node, _NODES):
            return (
                f"`{type(node).__name__}` is not allowed: use the member fields "
                f"({', '.join(sorted(SAMPLE))}), `if` and the filters {', '.join(sorted(FILTERS))}."
            )
        if isinstance(node, nodes.Name) and node.name not in SAMPLE:
            return f"Unknown field `{node.name}` (known: {', '.join(sorted(SAMPLE))})."
        if isinstance(node, nodes.Filter) and (
            node.name not in FILTERS or any(not isinstance(arg, nodes.Const) for arg in node.args)
        ):
            return (
                f"Filter `{node.name}` is not allowed here (allowed: {', '.join(sorted(FILTERS))}, with plain values)."
            )
    try:
        render(template, {})
    except TemplateFailed as error:
        return str(error)[:300]
    return None


@lru_cache(maxsize=256)
def _compiled(template: str) -> Template:
    # Dispatch renders the same few templates for thousands of touches: compiling one each time
    # was about half of its CPU. A compiled template renders safely from several threads.
    return _env.from_string(template)


@lru_cache(maxsize=256)
def _fields(template: str) -> tuple[str, ...] | None:
    """The fields a template reads, or None if it doesn't parse. Its text depends on nothing else
    (the filters allowed are pure), so two contexts that agree on these render the same text."""
    try:
        return tuple(sorted(meta.find_undeclared_variables(_env.parse(template))))
    except Exception:  # a template saved before today's checks, say: render says what is wrong
        return None


def reads_any(template: str, names: frozenset[str]) -> bool:
    """Whether rendering the template may read any of these fields (it may when it doesn't parse)."""
    fields = _fields(template)
    return fields is None or not names.isdisjoint(fields)


class Renderings:
    """Texts rendered for one batch, each made once: a template reading no member field ("news
    from {{ program }}") gives the whole batch one text, and a template reading only the name one
    per name. Only texts made are kept; a failure is raised again for each touch."""

    def __init__(self) -> None:
        self._made: dict[tuple, str] = {}

    def render(self, template: str, context: dict) -> str:
        fields = _fields(template)
        if fields is None:
            return render(template, context)
        key = (template, *(context.get(name) for name in fields))
        if key not in self._made:
            self._made[key] = render(template, context)
        return self._made[key]


def render(template: str, context: dict) -> str:
    try:
        return _compiled(template).render(**{**SAMPLE, **context})[: MAX_LENGTH * 4]
    except Exception as error:
        raise TemplateFailed(f"{type(error).__name__}: {error}") from None
