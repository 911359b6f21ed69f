"""Working days in England and Wales: weekends and bank holidays are not."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crm_desktop.domain.workdays import (
    bank_holidays,
    easter_sunday,
    is_bank_holiday,
    is_working_day,
    next_working_day,
    previous_working_day,
    working_days,
)

# As published on gov.uk/bank-holidays for England and Wales.
GOV_UK = {
    2020: ["01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28"],
    2021: ["01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28"],
    2022: ["01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19",
           "12-26", "12-27"],
    2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],
    2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
    2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
}  # fmt: skip

years = st.integers(min_value=1900, max_value=2300)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2300, 12, 1))


def test_matches_the_published_bank_holidays():
    for year, published in GOV_UK.items():
        assert [d.strftime("%m-%d") for d in bank_holidays(year)] == published, year


def test_easter_on_known_dates():
    known = [date(2000, 4, 23), date(2008, 3, 23), date(2011, 4, 24), date(2019, 4, 21),
             date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5), date(2038, 4, 25),
             date(2285, 3, 22)]  # fmt: skip
    for day in known:
        assert easter_sunday(day.year) == day


@given(st.integers(min_value=1583, max_value=4099))
def test_easter_is_a_sunday_between_22_march_and_25_april(year):
    easter = easter_sunday(year)
    assert easter.weekday() == 6
    assert date(year, 3, 22) <= easter <= date(year, 4, 25)


@given(years)
def test_every_bank_holiday_is_a_weekday_in_its_year(year):
    holidays = bank_holidays(year)
    assert len(holidays) >= 8
    for day in holidays:
        assert day.year == year and day.weekday() < 5
    # Christmas and Boxing Day always give two days off between 25 and 28 December.
    christmas = [d for d, name in holidays.items() if name.startswith(("Christmas", "Boxing"))]
    assert len(christmas) == 2
    assert all(date(year, 12, 25) <= d <= date(year, 12, 28) for d in christmas)
    # New Year's Day, or its substitute, is in the first three days of January.
    assert any(d <= date(year, 1, 3) for d in holidays)


@given(days)
def test_weekends_and_bank_holidays_are_not_working_days(day):
    assert is_working_day(day) == (day.weekday() < 5 and not is_bank_holiday(day))
    assert not is_working_day(date(day.year, 12, 25))


@given(days)
def test_next_and_previous_working_day(day):
    after, before = next_working_day(day), previous_working_day(day)
    assert is_working_day(after) and is_working_day(before)
    assert before <= day <= after
    span = (after - before).days
    assert span <= 6  # at most a weekend plus the four days of Easter or Christmas
    for n in range(1, (after - day).days):
        assert not is_working_day(day + timedelta(days=n))
    for n in range(1, (day - before).days):
        assert not is_working_day(day - timedelta(days=n))
    assert (after == day) == (before == day) == is_working_day(day)


@given(days, st.integers(min_value=0, max_value=60))
def test_working_days_lists_exactly_the_working_days(start, length):
    end = start + timedelta(days=length)
    listed = working_days(start, end)
    every = [start + timedelta(days=n) for n in range(length + 1)]
    assert listed == [d for d in every if is_working_day(d)]
