"""Calendar arithmetic shared by features (pure)."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from dateutil.relativedelta import relativedelta

_Moment = TypeVar("_Moment", bound=date)  # a date, or a datetime (a date too)


def add_months(moment: _Moment, months: int) -> _Moment:
    """The same day and time `months` later (or earlier); a day the month lacks becomes its last day
    (31 January + 1 month = 28 or 29 February), as relativedelta does."""
    return moment + relativedelta(months=months)
