"""Languages, time zones and formats for the console.

English and Simplified Chinese. The language is the one the user chose (kept in the console
cookie), else the best match of Accept-Language. Each page area keeps its own catalog under
translations/<area>/ (Flask-Babel merges them), so the areas can change independently.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_currency, format_decimal
from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

LANGUAGES = {"en": "English", "zh_Hans": "中文"}
# Accept-Language tags that mean Simplified Chinese; zh-TW/zh-Hant readers are closer to it than to English.
_ACCEPT = {
    "en": "en",
    "zh": "zh_Hans",
    "zh-CN": "zh_Hans",
    "zh-Hans": "zh_Hans",
    "zh-SG": "zh_Hans",
    "zh-Hans-CN": "zh_Hans",
    "zh-TW": "zh_Hans",
    "zh-HK": "zh_Hans",
    "zh-Hant": "zh_Hans",
}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def choose_language() -> str:
    chosen = session.get("lang") if request.path.startswith("/console") else None
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(list(_ACCEPT), default="en")
    return _ACCEPT.get(best, "en")


def _program_timezone() -> str:
    return g.get("console_timezone") or "UTC"


def install(app: Flask) -> None:
    directories = sorted(str(path) for path in TRANSLATIONS.iterdir() if path.is_dir())
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories)
    Babel(app, locale_selector=choose_language, timezone_selector=_program_timezone)
    from loyalty.console.labels import message, word

    app.jinja_env.filters.update(money=money, when=when, day=day, number=number, word=word, msg=message)


def language() -> str:
    return str(get_locale() or "en")


def _locale() -> Locale:
    return get_locale() or Locale.parse("en")


def money(amount: Decimal | str | int | float | None, currency: str | None = None) -> str:
    if amount is None or amount == "":
        return "—"
    return format_currency(Decimal(str(amount)), currency or g.get("console_currency") or "CNY", locale=_locale())


def number(value: int | float | Decimal | None) -> str:
    return "—" if value is None else format_decimal(value, locale=_locale())


def when(moment: datetime | None, timezone: str | None = None, form: str = "medium") -> str:
    """An instant in the given zone (a member's own), else the program's."""
    if moment is None:
        return "—"
    try:
        zone = ZoneInfo(timezone or _program_timezone())
    except (ValueError, KeyError):  # a zone this machine's tz database doesn't know
        zone = ZoneInfo(_program_timezone())
    return _format_datetime(moment, form, tzinfo=zone, locale=_locale())


def day(value: date | datetime | None, form: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(_program_timezone())).date()
    return _format_date(value, form, locale=_locale())
