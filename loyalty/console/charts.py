"""Bar and column charts as SVG markup, drawn on the server (pure: no Flask, no database).

The console's Content-Security-Policy allows no inline style, so a chart is only elements with
numeric presentation attributes and CSS classes from console.css (`svg.chart .bar`, `.bar.alt`,
`.bar.warn`, `.bar.bad`, `.axis`). Labels and titles are escaped here; the caller passes text
already translated and figures already formatted for the reader (`shown`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

TONES = ("", "alt", "warn", "bad")
_LABEL_WIDTH = 150  # room for a label left of a horizontal bar
_FIGURE_WIDTH = 90  # room for the figure right of it
_ROW = 26
_BAR = 18


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | float | Decimal
    shown: str = ""  # the figure as the reader should see it (money, a percentage); default the value
    tone: str = ""

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ValueError(f"tone must be one of {TONES}")


def _n(value: float) -> str:
    """A number for an attribute: finite, at most two decimals, never text from outside."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("a chart coordinate must be finite")
    return f"{round(number, 2):g}"


def _scale(items: Sequence[Bar], length: float) -> list[float]:
    values = [max(float(item.value), 0.0) for item in items]
    top = max(values, default=0.0)
    return [length * value / top if top else 0.0 for value in values]


def _class(item: Bar) -> str:
    return f"bar {item.tone}".strip()


def _shown(item: Bar) -> str:
    return item.shown or f"{item.value}"


def _frame(title: str, width: float, height: float, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _text_width(text: str) -> float:
    """Roughly how wide a 12 px label draws: wide (CJK) characters about 12 px, others about 7."""
    return sum(12.5 if ord(char) > 0x2E7F else 7.2 for char in text)


def bars(items: Sequence[Bar], *, title: str, width: int = 520) -> Markup:
    """Horizontal bars, one row per item: label, bar (longest = the largest value), figure.
    The label and figure columns are as wide as their longest text, so nothing is cut off."""
    label_width = max(_LABEL_WIDTH, min(320, max((_text_width(i.label) for i in items), default=0) + 12))
    figure_width = max(_FIGURE_WIDTH, max((_text_width(_shown(i)) for i in items), default=0) + 12)
    width = max(width, int(label_width + figure_width + 120))
    length = max(width - label_width - figure_width, 10)
    height = max(len(items), 1) * _ROW + 4
    left = _n(label_width)
    body = [f'<line class="axis" x1="{left}" y1="0" x2="{left}" y2="{_n(height)}" stroke="currentColor"/>']
    for row, (item, size) in enumerate(zip(items, _scale(items, length))):
        y = row * _ROW + 4
        middle = y + _BAR / 2 + 4
        body.append(
            f'<text x="{_n(label_width - 6)}" y="{_n(middle)}" text-anchor="end">{escape(item.label)}</text>'
            f'<rect class="{_class(item)}" x="{left}" y="{_n(y)}" width="{_n(size)}" '
            f'height="{_BAR}"/>'
            f'<text x="{_n(label_width + size + 6)}" y="{_n(middle)}">{escape(_shown(item))}</text>'
        )
    return _frame(title, width, height, body)


def columns(items: Sequence[Bar], *, title: str, height: int = 220, column: int = 64) -> Markup:
    """Vertical columns side by side: figure above, label below (a funnel, a before/after)."""
    plot = max(height - 44, 10)  # room for the figure above and the label below
    width = max(len(items), 1) * column + 8
    base = plot + 20
    body = [f'<line class="axis" x1="0" y1="{_n(base)}" x2="{_n(width)}" y2="{_n(base)}" stroke="currentColor"/>']
    for index, (item, size) in enumerate(zip(items, _scale(items, plot))):
        x = index * column + 8
        centre = x + (column - 8) / 2
        body.append(
            f'<rect class="{_class(item)}" x="{_n(x)}" y="{_n(base - size)}" width="{_n(column - 16)}" '
            f'height="{_n(size)}"/>'
            f'<text x="{_n(centre - 4)}" y="{_n(base - size - 5)}" text-anchor="middle">'
            f"{escape(_shown(item))}</text>"
            f'<text x="{_n(centre - 4)}" y="{_n(base + 16)}" text-anchor="middle">{escape(item.label)}</text>'
        )
    return _frame(title, width, height, body)
