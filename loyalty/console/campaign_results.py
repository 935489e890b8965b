"""A campaign's results as the console shows them: rates as percentages in the reader's locale,
and the bars of a server-drawn SVG chart (sizes as SVG attributes, colours by CSS class: the
console's CSP allows no inline style)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as L

from loyalty.console.labels import word

LABEL_WIDTH, BAR_WIDTH, ROW, BAR = 230, 380, 28, 20

_STEPS = (
    ("targeted", L("Targeted"), "bar"),
    ("sent", L("Sent"), "bar"),
    ("waiting", L("Waiting to go out"), "bar alt"),
    ("failed", L("Failed"), "bar bad"),
)
_OUTCOMES = (("responded", L("Responded"), "bar"), ("converted", L("Converted"), "bar"))
_HOLDOUT = (
    ("held_out", L("Held out (not contacted)"), "bar alt"),
    ("converted_held_out", L("Converted in the hold-out"), "bar alt"),
)


def percent(rate: Decimal | str | None) -> str:
    if rate is None:
        return "—"
    return format_percent(Decimal(rate), format="#,##0.0%", locale=get_locale())


def points(lift: Decimal | str | None) -> str:
    """An absolute lift (0.0500) as percentage points (+5.0)."""
    if lift is None:
        return "—"
    shown = format_decimal(Decimal(lift) * 100, format="+#,##0.0;-#,##0.0", locale=get_locale())
    return _("%(points)s percentage points", points=shown)


def figures(results: dict) -> dict:
    return {
        **results,
        "conversion_rate_shown": percent(results.get("conversion_rate")),
        "conversion_rate_held_out_shown": percent(results.get("conversion_rate_held_out")),
        "lift_shown": points(results.get("lift")),
        "relative_lift_shown": percent(results.get("relative_lift")),
    }


def _bars(rows: list[tuple[str, str, int, str]], shown=None) -> dict:
    top = max([value for _key, _label, value, _cls in rows] + [0])
    bars = []
    for i, (key, label, value, css) in enumerate(rows):
        width = round(BAR_WIDTH * value / top) if top else 0
        bars.append(
            {
                "key": key,
                "label": str(label),
                "value": value,
                "shown": shown(value) if shown else None,
                "class": css,
                "y": 6 + i * ROW,
                "text_y": 6 + i * ROW + 15,
                "width": width,
                "value_x": LABEL_WIDTH + width + 6,
            }
        )
    return {
        "bars": bars,
        "label_x": LABEL_WIDTH - 8,
        "bar_x": LABEL_WIDTH,
        "bar_height": BAR,
        "width": LABEL_WIDTH + BAR_WIDTH + 90,
        "height": 12 + len(rows) * ROW,
    }


def chart(results: dict, *, holdout: bool) -> dict:
    """Sent, held back by reason, responded, converted — and the hold-out, when there is one."""
    rows = [(key, label, results[key], css) for key, label, css in _STEPS]
    rows[2:2] = [
        (f"suppressed:{reason}", _("Held back: %(reason)s", reason=word(reason)), count, "bar warn")
        for reason, count in sorted(results["suppressed_by_reason"].items())
    ]
    rows += [(key, label, results[key], css) for key, label, css in _OUTCOMES]
    if holdout:
        rows += [(key, label, results[key], css) for key, label, css in _HOLDOUT]
    return _bars(rows)


def comparison(results: dict) -> dict:
    """Conversion of the contacted against the hold-out, as two bars of their rates (per 10,000)."""
    rows = [
        ("contacted", L("Contacted"), results["conversion_rate"], "bar"),
        ("held_out", L("Hold-out"), results["conversion_rate_held_out"], "bar alt"),
    ]
    scaled = [(key, label, int(Decimal(rate or 0) * 10_000), css) for key, label, rate, css in rows]
    return _bars(scaled, shown=lambda basis_points: percent(Decimal(basis_points) / 10_000))
