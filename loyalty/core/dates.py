"""Calendar arithmetic shared by features (pure)."""

from __future__ import annotations

from dateutil.relativedelta import relativedelta


def add_months(moment, months: int):
    """The same day and time `months` later (or earlier); a day the month lacks becomes its last day
    (31 January + 1 month = 28 or 29 February), as relativedelta does."""
    return moment + relativedelta(months=months)
