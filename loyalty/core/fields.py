"""marshmallow fields shared by the features' schemas."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from functools import lru_cache

import marshmallow as ma

from loyalty.core.money import CURRENCIES


class DecimalString(ma.fields.Decimal):
    """A decimal given as a string or number and always answered as a string."""

    def __init__(self, *, minimum: Decimal | None = None, maximum: Decimal | None = None,
                 min_inclusive: bool = True, **kwargs) -> None:
        validators = list(kwargs.pop("validate", []) or [])
        if minimum is not None or maximum is not None:
            validators.append(ma.validate.Range(min=minimum, max=maximum, min_inclusive=min_inclusive))
        kwargs.setdefault("metadata", {}).setdefault("example", "1.00")
        super().__init__(as_string=True, validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str) and len(value) > 40:
            raise self.make_error("invalid")
        result = super()._deserialize(value, attr, data, **kwargs)
        if result is not None and not result.is_finite():
            raise self.make_error("special")
        return result

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return format(Decimal(value).normalize(), "f") if Decimal(value) != 0 else "0"


class StrictInteger(ma.fields.Integer):
    """An integer that refuses booleans and numbers with a fraction."""

    def __init__(self, **kwargs) -> None:
        super().__init__(strict=True, **kwargs)


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ma.ValidationError("Not an ISO 4217 currency code (e.g. `CNY`, `USD`).")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _zones():
        raise ma.ValidationError("Not an IANA time zone (e.g. `Asia/Shanghai`).")


@lru_cache(maxsize=1)
def _holiday_countries() -> frozenset[str]:
    import holidays

    return frozenset(holidays.list_supported_countries())


def validate_holiday_country(value: str) -> None:
    if value not in _holiday_countries():
        raise ma.ValidationError("Not a country the `holidays` package knows (ISO 3166-1 alpha-2, e.g. `CN`).")


class Text(ma.fields.String):
    """Trimmed text without control characters (PostgreSQL refuses NUL; logs and CSVs choke on the rest)."""

    def __init__(self, *, min_length: int = 1, max_length: int = 200, **kwargs) -> None:
        validators = list(kwargs.pop("validate", []) or [])
        validators.insert(0, ma.validate.Length(min=min_length, max=max_length))
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise ma.ValidationError("Must not contain control characters.")
        return text.strip()


class StrictBoolean(ma.fields.Boolean):
    """Only JSON true/false: "yes" or 1 for consent would be a guess."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
