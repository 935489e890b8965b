"""Program settings pages of the console (admin): program, tier ladder, care rules and templates, rewards, webhooks.

Each page saves through the service its JSON API calls, after the API's own input schema has read
the form, so the console can't allow what the API refuses. A refused form comes back with the
messages next to the fields, status 422, and nothing written (the request rolls back).
"""

from __future__ import annotations

import marshmallow as ma
from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from loyalty.care import rule_settings, templates
from loyalty.care.models import CHANNELS, KINDS
from loyalty.care.schemas import CareRuleInSchema
from loyalty.console.access import admin_only
from loyalty.console.blueprint import bp
from loyalty.console.labels import word
from loyalty.console.settings_forms import (
    FieldErrors,
    checkbox,
    integer,
    label,
    optional,
    text,
)
from loyalty.console.web import page
from loyalty.core.errors import ValidationFailed
from loyalty.core.web import request_session
from loyalty.program import service as program_service
from loyalty.program.schemas import TIER_METRICS, ProgramUpdateSchema
from loyalty.rewards import service as rewards_service
from loyalty.tiers import service as tiers_service
from loyalty.tiers.schemas import LadderInSchema

# ---- Program ---------------------------------------------------------------------------------------

_PROGRAM_TEXT = (
    "name",
    "currency",
    "timezone",
    "holiday_country",
    "points_per_unit",
    "point_value",
    "max_redeem_share",
    "tier_metric",
)
_PROGRAM_INTEGERS = (
    "pending_days",
    "expiry_months",
    "signup_bonus",
    "first_order_bonus",
    "birthday_bonus",
    "hold_minutes",
)
_REFERRAL_INTEGERS = ("referrer_points", "referee_points")
_CARE_CLOCKS = ("quiet_start", "quiet_end", "send_at")
PROGRAM_FIELDS = (
    *_PROGRAM_TEXT,
    *_PROGRAM_INTEGERS,
    "pos_pending_days",
    "exchange_rates",
    "excluded_categories",
    "referral",
    "care",
)


def _rates(value: str) -> dict | str:
    """Lines of `USD 7.10` (or `USD=7.10`) as {"USD": "7.10"}; a line that isn't one is left for the schema."""
    rates: dict[str, str] = {}
    for line in (value or "").replace(",", "\n").splitlines():
        parts = line.replace("=", " ").split()
        if not parts:
            continue
        if len(parts) != 2:
            return line.strip()  # not a mapping: the schema says "Not a valid mapping type."
        rates[parts[0].upper()] = parts[1]
    return rates


def program_changes(form) -> dict:
    """The form as a PATCH body: every field the form sent, typed as the API expects it."""
    changes: dict = {name: text(form[name]) for name in _PROGRAM_TEXT if name in form}
    changes.update({name: integer(form[name]) for name in _PROGRAM_INTEGERS if name in form})
    if "pos_pending_days" in form:
        changes["pos_pending_days"] = integer(form["pos_pending_days"], blank=None)
    if "exchange_rates" in form:
        changes["exchange_rates"] = _rates(form["exchange_rates"])
    if "excluded_categories" in form:
        changes["excluded_categories"] = [c.strip() for c in form["excluded_categories"].split(",") if c.strip()]
    referral = {name: integer(form[f"referral.{name}"]) for name in _REFERRAL_INTEGERS if f"referral.{name}" in form}
    for name in ("monthly_cap", "total_cap"):
        if f"referral.{name}" in form:
            referral[name] = integer(form[f"referral.{name}"], blank=None)
    if "referral.min_order_amount" in form:
        referral["min_order_amount"] = text(form["referral.min_order_amount"])
    if "referral.link_template" in form:
        referral["link_template"] = optional(form["referral.link_template"])
    if referral:
        changes["referral"] = referral
    care = {name: text(form[f"care.{name}"]) for name in _CARE_CLOCKS if f"care.{name}" in form}
    if "care.weekly_cap" in form:
        care["weekly_cap"] = integer(form["care.weekly_cap"])
    if care:
        changes["care"] = care
    return changes


def program_values(program) -> dict[str, str]:
    """The program as the form's fields."""

    def shown(value) -> str:
        return "" if value is None else str(value)

    values = {name: shown(getattr(program, name)) for name in (*_PROGRAM_TEXT, *_PROGRAM_INTEGERS, "pos_pending_days")}
    values["exchange_rates"] = "\n".join(
        f"{code} {rate}" for code, rate in sorted((program.exchange_rates or {}).items())
    )
    values["excluded_categories"] = ", ".join(program.excluded_categories or ())
    values.update({f"referral.{name}": shown(value) for name, value in (program.referral or {}).items()})
    care = {**program_service.CARE_DEFAULTS, **(program.care or {})}
    values.update({f"care.{name}": shown(value) for name, value in care.items()})
    return values


def _program_page(errors: FieldErrors, form=None, status: int = 200):
    program = program_service.get_program(request_session())
    values = dict(form) if form is not None else program_values(program)
    return page(
        "console/settings_rules/program.html",
        status=status,
        values=values,
        errors=errors,
        metrics=[(code, label(code)) for code in TIER_METRICS],
    )


@bp.route("/settings/program", methods=["GET", "POST"])
@admin_only
def settings_program() -> ResponseReturnValue:
    if request.method == "GET":
        return _program_page(FieldErrors())
    try:
        changes = ProgramUpdateSchema().load(program_changes(request.form))
        program_service.update_program(request_session(), changes=changes)
    except ma.ValidationError as error:
        return _program_page(FieldErrors(error.messages, fields=PROGRAM_FIELDS), request.form, 422)
    except ValidationFailed as error:
        return _program_page(FieldErrors(error.extra.get("errors") or {}, fields=PROGRAM_FIELDS), request.form, 422)
    flash(_("The program settings were saved."))
    return redirect(url_for("console.settings_program"), 303)


# ---- Tier ladder -----------------------------------------------------------------------------------

TIER_COLUMNS = ("code", "name", "rank", "threshold", "discount_percent", "earn_multiplier", "benefits")
EXTRA_ROWS = 2  # empty rows under the ladder, for new tiers


def ladder_rows(form) -> list[dict]:
    """Every row of the form as typed text (kept for showing the form again), with its `remove` box."""
    count = integer(form.get("rows"), blank=0)
    count = max(0, min(count, 40)) if isinstance(count, int) else 0
    return [
        {
            **{column: form.get(f"tiers-{i}-{column}", "") for column in TIER_COLUMNS},
            "remove": checkbox(form, f"tiers-{i}-remove"),
        }
        for i in range(count)
    ]


def ladder_body(rows: list[dict], metric: str) -> tuple[dict, list[int]]:
    """The PUT /v1/tiers body from the rows kept (not removed, not empty), and each tier's row number."""
    tiers, where = [], []
    for index, row in enumerate(rows):
        if row["remove"] or not any(text(row[column]) for column in TIER_COLUMNS):
            continue
        tier = {column: text(row[column]) for column in ("code", "name", "threshold")}
        tier["rank"] = integer(row["rank"])
        for column in ("discount_percent", "earn_multiplier"):
            if text(row[column]):
                tier[column] = text(row[column])
        tier["benefits"] = (row["benefits"] or "").strip()
        tiers.append(tier)
        where.append(index)
    return {"tiers": tiers, "tier_metric": metric}, where


def _tiers_page(rows: list[dict], metric: str, errors: FieldErrors, status: int = 200):
    return page(
        "console/settings_rules/tiers.html",
        status=status,
        rows=rows,
        metric=metric,
        errors=errors,
        metrics=TIER_METRICS,
        columns=TIER_COLUMNS,
        label=label,
    )


@bp.route("/settings/tiers", methods=["GET", "POST"])
@admin_only
def settings_tiers() -> ResponseReturnValue:
    session = request_session()
    if request.method == "GET":
        ladder = tiers_service.get_ladder(session)
        rows = [
            {
                **{column: ("" if getattr(t, column) is None else str(getattr(t, column))) for column in TIER_COLUMNS},
                "remove": False,
            }
            for t in ladder["tiers"]
        ]
        rows += [{**{column: "" for column in TIER_COLUMNS}, "remove": False} for _ in range(EXTRA_ROWS)]
        return _tiers_page(rows, ladder["tier_metric"], FieldErrors())
    rows, metric = ladder_rows(request.form), text(request.form.get("tier_metric"))
    body, where = ladder_body(rows, metric)

    def row_name(name: str) -> str:  # tiers.<n>.field counts kept tiers; the form counts rows
        parts = name.split(".")
        if len(parts) > 2 and parts[0] == "tiers" and parts[1].isdigit() and int(parts[1]) < len(where):
            parts[1] = str(where[int(parts[1])])
        return ".".join(parts)

    try:
        tiers_service.put_ladder(session, **LadderInSchema().load(body))
    except ma.ValidationError as error:
        return _tiers_page(
            rows, metric, FieldErrors(error.messages, fields=("tiers", "tier_metric"), rename=row_name), 422
        )
    except ValidationFailed as error:
        return _tiers_page(
            rows,
            metric,
            FieldErrors(error.extra.get("errors") or {}, fields=("tiers", "tier_metric"), rename=row_name),
            422,
        )
    flash(_("The tier ladder was saved. Members move to their new tiers at the nightly evaluation."))
    return redirect(url_for("console.settings_tiers"), 303)


# ---- Care rules and their templates --------------------------------------------------------------

CARE_FIELDS = (
    "enabled",
    "channel",
    "template",
    "days_before",
    "days_after",
    "gift_points",
    "reward_id",
    "custom_dates",
    "inactive_days",
)
# Which settings each kind has (the service refuses the others).
KIND_FIELDS = {
    "birthday": ("days_before", "gift_points", "reward_id"),
    "holiday": ("days_before", "custom_dates", "gift_points", "reward_id"),
    "anniversary": ("days_before", "gift_points", "reward_id"),
    "follow_up": ("days_after", "gift_points", "reward_id"),
    "complaint_callback": (),
    "win_back": ("inactive_days", "gift_points", "reward_id"),
    "campaign": (),
}


def _custom_dates(value: str) -> list[dict]:
    """Lines of `MM-DD Name` or `YYYY-MM-DD Name`."""
    dates = []
    for line in (value or "").splitlines():
        day, _space, name = line.strip().partition(" ")
        if day:
            dates.append({"date": day, "name": name.strip()})
    return dates


def care_body(kind: str, form) -> dict:
    body: dict = {"enabled": checkbox(form, "enabled"), "template": form.get("template", "")}
    if "channel" in form:
        body["channel"] = text(form["channel"])
    for name in KIND_FIELDS[kind]:
        if name == "custom_dates":
            body[name] = _custom_dates(form.get(name, ""))
        elif name == "reward_id":
            body[name] = optional(form.get(name))
        elif name == "inactive_days":
            body[name] = integer(form.get(name), blank=None)
        else:
            body[name] = integer(form.get(name), blank=0)
    return body


def preview(kind: str, template: str) -> tuple[str | None, str | None]:
    """The template rendered for a sample member of this program, or why it can't be used."""
    problem = templates.problem(template)
    if problem:
        return None, problem
    program = program_service.settings(request_session())
    sample = {"program": program.name, "currency": program.currency, "kind": kind}
    if kind == "holiday":  # the sample's occasion is a birthday; a holiday greeting names a holiday
        sample.update(occasion="mid_autumn", occasion_name=_("Mid-Autumn Festival"))
    return templates.render(template, sample), None


def _care_page(
    errors: dict[str, FieldErrors] | None = None,
    forms: dict | None = None,
    status: int = 200,
    kind_error: str | None = None,
):
    session = request_session()
    rules = rule_settings.all_rules(session)
    rewards = rewards_service.list_rewards(session, limit=200)["data"]
    shown = {kind: {**rules[kind], **((forms or {}).get(kind) or {})} for kind in KINDS}
    previews = {kind: preview(kind, shown[kind]["template"] or "") for kind in KINDS}
    return page(
        "console/settings_rules/care.html",
        status=status,
        kinds=KINDS,
        rules=shown,
        previews=previews,
        errors=errors or {},
        none_errors=FieldErrors(),
        kind_error=kind_error,
        kind_fields=KIND_FIELDS,
        channels_shown=[(channel, word(channel)) for channel in CHANNELS],
        reward_options=[(reward.id, reward.name) for reward in rewards],
        label=label,
        fields=templates.SAMPLE,
    )


@bp.route("/settings/care", methods=["GET", "POST"])
@admin_only
def settings_care() -> ResponseReturnValue:
    if request.method == "GET":
        return _care_page()
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        return _care_page(status=422, kind_error=_("Choose a kind of care rule."))
    body = care_body(kind, request.form)
    shown = {**body, "custom_dates": body.get("custom_dates", [])}
    try:
        rule_settings.put_rule(request_session(), kind=kind, data=CareRuleInSchema().load(body))
    except ma.ValidationError as error:
        return _care_page({kind: FieldErrors(error.messages, fields=CARE_FIELDS)}, {kind: shown}, 422)
    except ValidationFailed as error:
        return _care_page({kind: FieldErrors(error.extra.get("errors") or {}, fields=CARE_FIELDS)}, {kind: shown}, 422)
    flash(_("The %(kind)s rule was saved.", kind=label(kind)))
    return redirect(url_for("console.settings_care", _anchor=f"care-{kind}"), 303)


@bp.get("/settings/care/preview")
@admin_only
def settings_care_preview() -> ResponseReturnValue:
    """The live preview next to a template field (htmx, as the admin types)."""
    kind = request.args.get("kind", "")
    if kind not in KINDS:
        kind = "campaign"
    rendered, problem = preview(kind, request.args.get("template", "")[: templates.MAX_LENGTH + 1])
    return page("console/settings_rules/_preview.html", kind=kind, rendered=rendered, problem=problem)


from loyalty.console import settings_rewards_webhooks  # noqa: E402, F401 - rewards and webhooks add their routes
