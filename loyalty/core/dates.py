"""Calendar arithmetic shared by features (pure)."""

from __future__ import annotations

import calendar


def add_months(moment, months: int):
    """The same day and time `months` later (or earlier); a day the month lacks becomes its last day."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)
