"""Calendar arithmetic shared by deadlines, retention and reports."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (negative: back), clamped to
    the month's last day: 31 January + 1 -> 28 February (29 in a leap year)."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
