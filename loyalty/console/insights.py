"""Insights: members by tier and stage, the top fifth's share of spend, points liability, the
referral funnel and care outcomes — the figures of GET /v1/insights/summary, as charts and tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from loyalty.console.blueprint import bp
from loyalty.console.charts import Bar, bars, columns
from loyalty.console.i18n import money, number
from loyalty.console.labels import word
from loyalty.console.web import day_start, page
from loyalty.core.web import request_session
from loyalty.insights import service
from loyalty.insights.models import STAGES
from loyalty.tiers.service import get_ladder

_STAGE_TONES = {"at_risk": "warn", "lapsed": "bad", "prospect": "alt"}


@bp.get("/insights")
def insights() -> ResponseReturnValue:
    errors: dict[str, list[str]] = {}
    start, end = _day(request.args.get("from"), "from", errors), _day(request.args.get("to"), "to", errors, 1)
    if start and end and start >= end:
        errors.setdefault("to", []).append(_("The end must be on or after the start."))
    if errors:
        start = end = None
    session = request_session()
    summary = service.summary(session, start=start, end=end)
    tiers = {tier.code: tier.name for tier in get_ladder(session)["tiers"]}
    return page(
        "console/insights/index.html",
        status=422 if errors else 200,
        errors=errors,
        summary=summary,
        period={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
        last_day=summary["end"] - timedelta(microseconds=1),
        **_figures(summary, tiers),
    )


def _day(text: str | None, name: str, errors: dict, plus_days: int = 0) -> datetime | None:
    """A day typed in the form, as the start of that day (or of the next: `to` is inclusive) in the
    program's time zone, the zone the shop's day is counted in."""
    if not text:
        return None
    try:
        return day_start(text, plus_days=plus_days)
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date such as 2026-01-31."))
        return None


def _figures(summary: dict, tiers: dict[str, str]) -> dict:
    rows = summary["members_by_tier_and_stage"]
    tier_order: list[str | None] = list(tiers) + sorted(
        {r["tier"] for r in rows if r["tier"] not in tiers}, key=lambda t: t or ""
    )
    by_tier = {code: sum(r["members"] for r in rows if r["tier"] == code) for code in tier_order}
    by_stage = {stage: sum(r["members"] for r in rows if r["stage"] == stage) for stage in STAGES}
    cells = {(r["tier"], r["stage"]): r["members"] for r in rows}
    tier_names: dict[str | None, str] = {code: tiers.get(code, code) if code else _("No tier") for code in tier_order}
    pareto = summary["top_20_percent"]
    funnel = summary["referral_funnel"]
    care = summary["care_outcomes"]
    return {
        "tier_order": tier_order,
        "tier_names": tier_names,
        "by_tier": by_tier,
        "by_stage": by_stage,
        "cells": cells,
        "stages": STAGES,
        "funnel": funnel,
        "care": care,
        "share_percent": (Decimal(pareto["share"]) * 100).quantize(Decimal("0.1")),
        "tier_chart": bars(
            [Bar(tier_names[code], count, number(count)) for code, count in by_tier.items()], title=_("Members by tier")
        ),
        "stage_chart": bars(
            [Bar(word(stage), count, number(count), _STAGE_TONES.get(stage, "")) for stage, count in by_stage.items()],
            title=_("Members by stage"),
        ),
        "spend_chart": bars(
            [
                Bar(_("Top 20% of buyers"), pareto["spend"], money(pareto["spend"])),
                Bar(
                    _("Everyone else"),
                    pareto["total_spend"] - pareto["spend"],
                    money(pareto["total_spend"] - pareto["spend"]),
                    "alt",
                ),
            ],
            title=_("Spend of the top 20% and of everyone else"),
        ),
        "funnel_chart": columns(
            [
                Bar(_("Invited"), funnel["invited"], number(funnel["invited"])),
                Bar(_("Pending"), funnel["pending"], number(funnel["pending"]), "alt"),
                Bar(_("Qualified"), funnel["qualified"], number(funnel["qualified"])),
                Bar(_("Rejected"), funnel["rejected"], number(funnel["rejected"]), "bad"),
            ],
            title=_("Referral funnel"),
            column=84,
        ),
        "care_chart": bars(
            [
                Bar(
                    _("%(kind)s by %(channel)s", kind=word(row["kind"]), channel=word(row["channel"])),
                    row["touches"],
                    number(row["touches"]),
                )
                for row in care
            ],
            title=_("Care touches by kind and channel"),
            width=600,
        ),
    }
