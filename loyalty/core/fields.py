"""marshmallow fields shared by the features' schemas."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, overload

import marshmallow as ma

from loyalty.core.money import CURRENCIES, money

DECIMAL_PATTERN = r"^-?[0-9]{1,18}(\.[0-9]{1,12})?$"


def decimal_text(value: Decimal | int | str) -> str:
    """How a decimal is answered: without trailing zeros or exponent ("5", "12.5", "0")."""
    number = Decimal(value)
    return format(number.normalize(), "f") if number != 0 else "0"


class DecimalString(ma.fields.Decimal):
    """A decimal given as a string (numbers are accepted too) and always answered as a string.

    The range is checked here rather than by a Range validator, which apispec would
    publish as a numeric minimum on a string schema.
    """

    def __init__(
        self,
        *,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        min_inclusive: bool = True,
        max_places: int = 12,
        **kwargs: Any,
    ) -> None:
        self.minimum, self.maximum, self.min_inclusive = minimum, maximum, min_inclusive
        self.max_places = max_places
        self.pattern = re.compile(DECIMAL_PATTERN.replace("{1,12}", f"{{1,{max_places}}}"))
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("example", "1.00")
        metadata.setdefault("pattern", self.pattern.pattern)
        metadata["type"] = "string"
        bounds: list[str] = []
        if minimum is not None:
            bounds.append(f"{'≥' if min_inclusive else '>'} {minimum}")
        if maximum is not None:
            bounds.append(f"≤ {maximum}")
        if bounds:
            metadata["description"] = (
                metadata.get("description", "") + f" (decimal string, {', '.join(bounds)})"
            ).strip()
        super().__init__(as_string=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Decimal:
        # JSON numbers are read by their shortest text (0.1 stays 0.1); then one syntax for all.
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.make_error("invalid")
        text = repr(value) if isinstance(value, float) else str(value)
        if not self.pattern.match(text):
            raise ma.ValidationError(
                f"Not a decimal: digits with an optional point and at most {self.max_places} "
                'decimals, as a string ("128.50").'
            )
        result = super()._deserialize(text, attr, data, **kwargs)
        if result is not None and not result.is_finite():
            raise self.make_error("special")
        if self.minimum is not None and (result < self.minimum or (result == self.minimum and not self.min_inclusive)):
            raise ma.ValidationError(f"Must be {'at least' if self.min_inclusive else 'more than'} {self.minimum}.")
        if self.maximum is not None and result > self.maximum:
            raise ma.ValidationError(f"Must be at most {self.maximum}.")
        return result

    def _serialize(self, value: Decimal | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else decimal_text(value)


class StrictInteger(ma.fields.Integer):
    """An integer that refuses booleans and numbers with a fraction."""

    def __init__(self, **kwargs: Any) -> None:
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
    import phonenumbers

    # Alpha-2 only: it is also the region national phone numbers are read in.
    if len(value) != 2 or value not in _holiday_countries() or not phonenumbers.country_code_for_region(value):
        raise ma.ValidationError("Not a country the `holidays` package knows (ISO 3166-1 alpha-2, e.g. `CN`).")


# No control characters (PostgreSQL refuses NUL; logs and CSV exports choke on the rest),
# no bidi overrides or zero-width marks (names that display as something else),
# and something other than spaces.
_INVISIBLE = r"\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
TEXT_PATTERN = rf"^[^{_INVISIBLE}]*[^\s{_INVISIBLE}][^{_INVISIBLE}]*$"


class Text(ma.fields.String):
    """Trimmed, printable text."""

    def __init__(self, *, max_length: int = 200, **kwargs: Any) -> None:
        validators = list(kwargs.pop("validate", []) or [])
        validators[:0] = [
            ma.validate.Length(min=1, max=max_length),
            ma.validate.Regexp(TEXT_PATTERN, error="Must have a visible character and no control characters."),
        ]
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs)

    # The two shapes of Field.deserialize: None may come back only for None.
    @overload
    def deserialize(
        self, value: None, attr: str | None = None, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> str | None: ...

    @overload
    def deserialize(
        self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> str: ...

    def deserialize(
        self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> str | None:
        result = super().deserialize(value, attr, data, **kwargs)
        return result.strip() if isinstance(result, str) else result


class StrictBoolean(ma.fields.Boolean):
    """Only JSON true/false: "yes" or 1 for consent would be a guess."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class ResponseSchema(ma.Schema):
    """Base of every response shape: documented as open, because responses may grow fields.

    Every declared field is `required` in the document (the service always sends it, null where
    `allow_none`), so generated clients get plain attributes instead of maybe-unset ones. A field
    the service sends only sometimes is named in `optional_fields`, and its description says when.
    `required` means nothing to dumping, and response schemas are never loaded.
    """

    optional_fields: ClassVar[frozenset[str]] = frozenset()

    class Meta:
        unknown = ma.INCLUDE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unknown = self.optional_fields - set(self.declared_fields)
        if unknown:
            raise ValueError(f"{type(self).__name__}.optional_fields names no field: {sorted(unknown)}")
        for name, field in self.fields.items():
            field.required = name not in self.optional_fields
            enum = field.metadata.get("enum")
            if field.allow_none and enum is not None and None not in enum:
                # `type: [string, "null"]` with an enum lacking null would still refuse null.
                field.metadata = {**field.metadata, "enum": [*enum, None]}


MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


class MoneyString(DecimalString):
    """Money in a response: always answered by `loyalty.core.money.money` (two decimals, "128.50").
    tests/api/test_money.py walks every response schema and checks money fields are these."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("example", "128.50")
        metadata.setdefault("pattern", MONEY_PATTERN)
        metadata["description"] = (metadata.get("description", "") + " (money: two decimals)").strip()
        super().__init__(**kwargs)

    def _serialize(self, value: Decimal | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else money(value)


class Instant(ma.fields.AwareDateTime):
    """A moment with its offset, between 1970 and 2999 (stored in UTC)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:

        result = super()._deserialize(value, attr, data, **kwargs)
        try:
            utc = result.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ma.ValidationError("Must be between 1970 and 2999.") from None
        if not 1970 <= utc.year <= 2999:
            raise ma.ValidationError("Must be between 1970 and 2999.")
        return result
