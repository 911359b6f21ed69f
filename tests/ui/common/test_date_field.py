"""Dates are typed or picked, in one field used by every date in the app."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from crm_desktop.ui.common.date_field import DateField, parse_typed_date

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12 3 2027", date(2027, 3, 12)),
        ("12/3/2027", date(2027, 3, 12)),
        ("12.03.27", date(2027, 3, 12)),
        ("12 Mar 2027", date(2027, 3, 12)),
        ("12 march 2027", date(2027, 3, 12)),
        ("Fri 12 Mar 2027", date(2027, 3, 12)),
        ("12th March", date(2026, 3, 12)),
        ("Mar 12, 2027", date(2027, 3, 12)),
        ("2027-03-12", date(2027, 3, 12)),
        ("29 Feb 2028", date(2028, 2, 29)),
        ("1 Sept 2027", date(2027, 9, 1)),
    ],
)
def test_typed_dates_are_read_day_first(typed, expected):
    assert parse_typed_date(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31 Feb 2027", "31 Feb 2027 is not a date: February 2027 has 28 days."),
        ("29/2/2027", "29 Feb 2027 is not a date: February 2027 has 28 days."),
        ("12 13 2027", "'12 13 2027' is not a date: there is no month 13."),
        ("12 Smarch 2027", "'Smarch' is not a month"),
        ("12", "'12' needs a month as well"),
        ("next week", "'next' is not a month"),
        ("", "Type a date"),
        ("2027-03", "after the year give the month and day"),
        ("12 3 20271", "give the year as 2027 or 27"),
    ],
)
def test_impossible_dates_are_refused_saying_why(typed, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_typed_date(typed, today=TODAY)


@pytest.fixture
def field(qtbot):
    window = QWidget()
    f = DateField(window, value=date(2026, 12, 14))
    f.holder = QLineEdit(window)  # somewhere for the focus to go
    layout = QVBoxLayout(window)
    layout.addWidget(f)
    layout.addWidget(f.holder)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    yield f
    window.close()


def type_into(qtbot, field: DateField, text: str) -> None:
    field.edit.setFocus()
    field.edit.selectAll()
    qtbot.keyClicks(field.edit, text)
    qtbot.keyClick(field.edit, Qt.Key.Key_Return)


@pytest.mark.parametrize("typed", ["12 3 2027", "12 Mar 2027", "2027-03-12"])
def test_typing_a_date_sets_it_and_shows_it_with_its_weekday(qtbot, field, typed):
    with qtbot.waitSignal(field.dateChanged, check_params_cb=lambda d: d == date(2027, 3, 12)):
        type_into(qtbot, field, typed)
    assert field.date() == date(2027, 3, 12)
    assert field.text() == "Fri 12 Mar 2027"
    assert field.is_valid() and field.message.isHidden()


def test_an_impossible_date_is_refused_with_a_message_next_to_the_field(qtbot, field):
    type_into(qtbot, field, "31 Feb 2027")
    assert field.date() is None and not field.is_valid()
    assert field.message.isVisible()
    assert field.message.text() == "31 Feb 2027 is not a date: February 2027 has 28 days."
    assert field.text() == "31 Feb 2027"  # left as typed, to correct
    type_into(qtbot, field, "28 Feb 2027")
    assert field.date() == date(2027, 2, 28) and field.message.isHidden()


def test_no_message_while_typing_only_when_leaving(qtbot, field):
    field.edit.setFocus()
    field.edit.selectAll()
    qtbot.keyClicks(field.edit, "3")  # on the way to "3 Jan 2027"
    assert field.message.isHidden()
    qtbot.keyClicks(field.edit, "0 Feb 2027")
    assert field.message.isHidden()
    field.holder.setFocus()
    qtbot.waitUntil(field.message.isVisible)
    assert "February 2027 has 28 days" in field.message.text()


def test_arrows_step_days_and_page_keys_months(qtbot, field):
    field.edit.setFocus()
    qtbot.keyClick(field.edit, Qt.Key.Key_Up)
    assert field.date() == date(2026, 12, 15)
    qtbot.keyClick(field.edit, Qt.Key.Key_Down)
    qtbot.keyClick(field.edit, Qt.Key.Key_Down)
    assert field.date() == date(2026, 12, 13)
    qtbot.keyClick(field.edit, Qt.Key.Key_PageUp)
    assert field.date() == date(2027, 1, 13)
    assert field.text() == "Wed 13 Jan 2027"


def test_the_calendar_picks_a_date(qtbot, field):
    qtbot.mouseClick(field.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(field.calendar.isVisible)
    assert field.calendar.selectedDate() == QDate(2026, 12, 14)
    with qtbot.waitSignal(field.dateChanged):
        field.calendar.setSelectedDate(QDate(2027, 1, 4))
        field.calendar.activated.emit(QDate(2027, 1, 4))  # Enter on the calendar
    assert field.date() == date(2027, 1, 4)
    assert not field.calendar.isVisible()


def test_alt_down_opens_the_calendar_within_the_allowed_range(qtbot, field):
    field.setMaximumDate(date(2026, 12, 31), "Cannot be in the future.")
    field.edit.setFocus()
    qtbot.keyClick(field.edit, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(field.calendar.isVisible)
    assert field.calendar.maximumDate() == QDate(2026, 12, 31)
    field.calendar.parentWidget().close()


def test_a_date_outside_the_range_is_refused_with_the_fields_own_words(qtbot, field):
    field.setMaximumDate(date.today(), "The date received cannot be in the future.")
    type_into(qtbot, field, (date.today() + timedelta(days=1)).strftime("%d/%m/%Y"))
    assert field.date() is None
    assert field.message.text() == "The date received cannot be in the future."


def test_an_optional_field_may_be_left_empty(qtbot):
    f = DateField(allow_empty=True, empty_text="Any")
    qtbot.addWidget(f)
    f.show()
    assert f.date() is None and f.is_valid() and f.edit.placeholderText() == "Any"
    type_into(qtbot, f, "1 Jan 2026")
    assert f.date() == date(2026, 1, 1)
    with qtbot.waitSignal(f.dateChanged):
        f.edit.clear()
        f.edit.textEdited.emit("")  # what the clear button does
    assert f.date() is None and f.is_valid()
