"""Working days in England and Wales: Monday to Friday, bank holidays excluded.

The eight regular bank holidays follow the rules gov.uk describes: New
Year's Day, Good Friday, Easter Monday, the first and last Mondays of May,
the last Monday of August, Christmas Day and Boxing Day. A holiday that
falls at a weekend gets a substitute day, the next weekday that is not
already a holiday (so Christmas on a Saturday moves to Monday the 27th and
Boxing Day to Tuesday the 28th). Easter comes from the anonymous Gregorian
algorithm (Meeus/Jones/Butcher). One-off changes made by proclamation
(jubilees, royal events, moved May holidays) are listed in ``_ONE_OFF`` and
``_MOVED``; a future one is not known until it is announced.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

# Extra bank holidays declared by proclamation.
_ONE_OFF: dict[date, str] = {
    date(1999, 12, 31): "Millennium celebrations",
    date(2002, 6, 3): "Golden Jubilee",
    date(2011, 4, 29): "Royal wedding",
    date(2012, 6, 5): "Diamond Jubilee",
    date(2022, 6, 3): "Platinum Jubilee",
    date(2022, 9, 19): "State funeral of Queen Elizabeth II",
    date(2023, 5, 8): "Coronation of King Charles III",
}
# Regular holidays moved to another day in a given year: (year, name) -> day.
_MOVED: dict[tuple[int, str], date] = {
    (1995, "Early May bank holiday"): date(1995, 5, 8),
    (2002, "Spring bank holiday"): date(2002, 6, 4),
    (2012, "Spring bank holiday"): date(2012, 6, 4),
    (2020, "Early May bank holiday"): date(2020, 5, 8),
    (2022, "Spring bank holiday"): date(2022, 6, 2),
}


def easter_sunday(year: int) -> date:
    """Easter Day in the Gregorian calendar (anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=last.weekday())


@lru_cache(maxsize=256)
def bank_holidays(year: int) -> dict[date, str]:
    """England and Wales bank holidays in ``year``: day -> name, in date order."""
    easter = easter_sunday(year)
    regular = {
        "Early May bank holiday": _first_monday(year, 5),
        "Spring bank holiday": _last_monday(year, 5),
        "Summer bank holiday": _last_monday(year, 8),
    }
    regular = {name: _MOVED.get((year, name), day) for name, day in regular.items()}
    days: dict[date, str] = {
        easter - timedelta(days=2): "Good Friday",
        easter + timedelta(days=1): "Easter Monday",
        **{day: name for name, day in regular.items()},
        **{day: name for day, name in _ONE_OFF.items() if day.year == year},
    }
    # Fixed-date holidays keep their day when it is a weekday; the others move
    # to the next weekday that is not already a holiday (so Christmas on a
    # Sunday is kept on the 27th, after Boxing Day on the 26th).
    fixed = (
        (date(year, 1, 1), "New Year's Day"),
        (date(year, 12, 25), "Christmas Day"),
        (date(year, 12, 26), "Boxing Day"),
    )
    for day, name in fixed:
        if day.weekday() < 5:
            days[day] = name
    for day, name in fixed:
        if day.weekday() >= 5:
            while day.weekday() >= 5 or day in days:
                day += timedelta(days=1)
            days[day] = f"{name} (substitute day)"
    return dict(sorted(days.items()))


def is_bank_holiday(day: date) -> bool:
    return day in bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the last working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def working_days(start: date, end: date) -> list[date]:
    """Every working day from ``start`` up to and including ``end``, in order."""
    out, day = [], start
    while day <= end:
        if is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out
