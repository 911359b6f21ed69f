"""Calendar arithmetic shared by deadlines, retention and reports, and the one
way every screen, report and ``crm`` table writes a date: "7 Dec 2026".

Month and day names are English whatever the locale (Qt sets the C library's
locale from the environment, which would change ``%b``), so a date reads
the same in the GUI, the CLI and the access pack.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_date(value: date | datetime | None, *, weekday: bool = False) -> str:
    """A calendar date as a UK reader takes it in: "7 Dec 2026" ("Mon 7 Dec 2026").

    A datetime is shown as its local calendar day; None is "".
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone().date()
    text = f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    return f"{WEEKDAYS[value.weekday()]} {text}" if weekday else text


def format_due(due: date) -> str:
    """A due date read at a glance, with its weekday: "Tue 3 Mar 2026"."""
    return format_date(due, weekday=True)


def format_datetime(value: datetime | None) -> str:
    """A moment in local time: "7 Dec 2026 14:30"; None is ""."""
    if value is None:
        return ""
    local = value.astimezone()
    return f"{format_date(local.date())} {local:%H:%M}"


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (negative: back), clamped to
    the month's last day: 31 January + 1 -> 28 February (29 in a leap year)."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
