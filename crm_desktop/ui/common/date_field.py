"""One date-entry field for every date in the app: type it or pick it.

``QDateEdit`` only takes typing section by section, and with a display format
that starts with the weekday ("Fri 12 Mar 2027") the first section accepts
nothing but day names, so typing "12" did nothing. :class:`DateField` is a
line edit that reads what people actually type, in the order UK readers
write dates ("12 3 2027", "12/3/27", "12 Mar 2027", "Fri 12 March",
"2027-03-12"), beside a button that opens a calendar. An impossible date
("31 Feb 2027") or one outside the allowed range is refused with a message
under the field, and the field then has no date, so a form cannot save it.

Keys: Up/Down step a day, Page Up/Page Down a month, Alt+Down or F4 opens
the calendar.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from crm_desktop.domain.dates import format_date

EXAMPLES = "e.g. 12 Mar 2027, 12/3/2027 or 2027-03-12"

_MONTHS: dict[str, int] = {}
for _number in range(1, 13):
    _MONTHS[calendar.month_name[_number].lower()] = _number
    _MONTHS[calendar.month_abbr[_number].lower()] = _number
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower() for name in (*calendar.day_name, *calendar.day_abbr)} | {
    "tues",
    "wednes",
    "thur",
    "thurs",
}
_TOKEN = re.compile(r"\d{1,2}(?:st|nd|rd|th)\b|\d+|[^\W\d_]+", re.IGNORECASE)
_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)$", re.IGNORECASE)


def parse_typed_date(text: str, *, today: date | None = None) -> date:
    """The date a person typed, day first; raise ``ValueError`` saying what is wrong.

    A four-digit number first means year-month-day (ISO). The year may be
    left out (this year) or given as two digits (20xx). A month may be a
    number, a name or its first three letters; a weekday name is ignored.
    """
    today = today or date.today()
    shown = text.strip()
    typed = [_ORDINAL.sub(r"\1", w) for w in _TOKEN.findall(shown)]
    typed = [w for w in typed if w.lower() not in _WEEKDAYS]
    words = [w.lower() for w in typed]
    if not words:
        raise ValueError("Type a date, " + EXAMPLES + ".")
    unknown = [w for w in typed if not w.isdigit() and w.lower() not in _MONTHS]
    if unknown:
        raise ValueError(
            f"'{shown}' is not a date: '{unknown[0]}' is not a month. Type {EXAMPLES}."
        )
    if len(words) > 3:
        raise ValueError(f"'{shown}' is not a date. Type {EXAMPLES}.")

    if words[0].isdigit() and len(words[0]) == 4:  # ISO order: year, month, day
        if len(words) != 3:
            raise ValueError(f"'{shown}' is not a date: after the year give the month and day.")
        year_word, month_word, day_word = words
    elif not words[0].isdigit():  # "Mar 12 2027"
        month_word, *rest = words
        if not rest:
            raise ValueError(f"'{shown}' needs a day as well, e.g. 12 {shown.title()}.")
        day_word, year_word = rest[0], (rest[1] if len(rest) > 1 else None)
    else:
        if len(words) == 1:
            raise ValueError(
                f"'{shown}' needs a month as well, e.g. {words[0]} Mar or {words[0]}/3."
            )
        day_word, month_word = words[0], words[1]
        year_word = words[2] if len(words) > 2 else None

    if not day_word.isdigit():
        raise ValueError(f"'{shown}' is not a date: the day should be a number.")
    month = int(month_word) if month_word.isdigit() else _MONTHS[month_word]
    if year_word is None:
        year = today.year
    elif not year_word.isdigit() or len(year_word) not in (2, 4):
        raise ValueError(f"'{shown}' is not a date: give the year as 2027 or 27.")
    else:
        year = int(year_word) + (2000 if len(year_word) == 2 else 0)
    if not 1 <= month <= 12:
        raise ValueError(f"'{shown}' is not a date: there is no month {month}.")
    if year < 1900:
        raise ValueError(f"'{shown}' is not a date: the year {year} is too early.")
    day = int(day_word)
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValueError(
            f"{day} {calendar.month_abbr[month]} {year} is not a date: "
            f"{calendar.month_name[month]} {year} has {last} days."
        )
    return date(year, month, day)


class DateField(QWidget):
    """A date typed or picked from a calendar, with its own message line.

    Signals:
        dateChanged(object): the date on show changed; a :class:`date`, or
            None when the field is empty or holds something that is not an
            allowed date.
    """

    dateChanged = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        value: date | None = None,
        allow_empty: bool = False,
        empty_text: str = "",
    ):
        super().__init__(parent)
        self._date: date | None = None
        self._error: str | None = None
        self._shown_error: str | None = None  # refusals show once typing stops
        self._allow_empty = allow_empty
        self._minimum: date | None = None
        self._maximum: date | None = None
        self._too_early = ""
        self._too_late = ""
        self._note = ""

        self.edit = QLineEdit(self)
        self.edit.setObjectName("dateText")
        self.edit.setPlaceholderText(empty_text or EXAMPLES)
        self.edit.setToolTip(
            f"Type a date ({EXAMPLES}), or pick one with the button.\n"
            "Up/Down: a day; Page Up/Down: a month; Alt+Down: calendar."
        )
        self.edit.setClearButtonEnabled(allow_empty)
        widest = self.edit.fontMetrics().horizontalAdvance("Wed 30 Sep 2026")
        self.edit.setMinimumWidth(widest + 16 + (24 if allow_empty else 0))
        self.edit.installEventFilter(self)
        self.edit.textEdited.connect(self._typed)
        self.edit.editingFinished.connect(self._finished)
        self.setFocusProxy(self.edit)

        self.calendar = QCalendarWidget()
        self.calendar.setObjectName("dateCalendar")
        self.calendar.setFirstDayOfWeek(Qt.DayOfWeek.Monday)
        self.calendar.setGridVisible(False)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.calendar.clicked.connect(self._picked)
        self.calendar.activated.connect(self._picked)
        self._menu = QMenu(self)
        holder = QWidgetAction(self._menu)
        holder.setDefaultWidget(self.calendar)
        self._menu.addAction(holder)
        self._menu.aboutToShow.connect(self._prepare_calendar)

        self.button = QToolButton(self)
        self.button.setObjectName("dateCalendarButton")
        self.button.setArrowType(Qt.ArrowType.DownArrow)
        self.button.setToolTip("Pick from a calendar (Alt+Down)")
        self.button.setAccessibleName("Pick from a calendar")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(self.show_calendar)

        self.message = QLabel(self)
        self.message.setObjectName("dateMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.edit, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.message)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setDate(value)

    # ------------------------------------------------------------ the value

    def date(self) -> date | None:
        """The date on show, or None (empty, or not an allowed date)."""
        return self._date

    def error(self) -> str | None:
        """Why the text on show is not an allowed date (None if it is, or if empty is fine)."""
        return self._error

    def is_valid(self) -> bool:
        return self._error is None

    def text(self) -> str:
        return self.edit.text()

    def setDate(self, value: date | QDate | None) -> None:  # noqa: N802 (Qt-style, like QDateEdit)
        """Show ``value`` (None: empty) and clear any message."""
        if isinstance(value, QDate):
            value = value.toPython() if value.isValid() else None
        self.edit.setText(format_date(value, weekday=True) if value else "")
        value, error = self._interpret(self.edit.text())
        self._shown_error = error if self.edit.text() else None
        self._set(value, error)
        self._show_message()

    def clear(self) -> None:
        self.setDate(None)

    def setMinimumDate(self, value: date | None, message: str = "") -> None:  # noqa: N802
        """Refuse dates before ``value``, saying ``message`` (default: the earliest date)."""
        self._minimum, self._too_early = value, message
        self._revalidate()

    def setMaximumDate(self, value: date | None, message: str = "") -> None:  # noqa: N802
        """Refuse dates after ``value``, saying ``message`` (default: the latest date)."""
        self._maximum, self._too_late = value, message
        self._revalidate()

    def set_note(self, text: str) -> None:
        """A remark under the field that does not refuse the date (e.g. "it has passed")."""
        self._note = text
        self._show_message()

    def check(self) -> bool:
        """Show the message for what is typed now; True if the field holds an allowed value."""
        self._finished()
        return self.is_valid()

    # ------------------------------------------------------------- parsing

    def _interpret(self, text: str) -> tuple[date | None, str | None]:
        if not text.strip():
            return None, None if self._allow_empty else "Type a date, " + EXAMPLES + "."
        try:
            value = parse_typed_date(text)
        except ValueError as exc:
            return None, str(exc)
        if self._minimum and value < self._minimum:
            return (
                None,
                self._too_early
                or f"The date cannot be before {format_date(self._minimum, weekday=True)}.",
            )
        if self._maximum and value > self._maximum:
            return (
                None,
                self._too_late
                or f"The date cannot be after {format_date(self._maximum, weekday=True)}.",
            )
        return value, None

    def _typed(self, text: str) -> None:
        """While typing: take the date as soon as it reads as one; complain only on leaving."""
        value, error = self._interpret(text)
        self._shown_error = None
        self._set(value, error)
        self._show_message()

    def _finished(self) -> None:
        value, error = self._interpret(self.edit.text())
        self._shown_error = error
        self._set(value, error)
        if value is not None and self.edit.text() != format_date(value, weekday=True):
            self.edit.setText(format_date(value, weekday=True))
        self._show_message()

    def _revalidate(self) -> None:
        value, error = self._interpret(self.edit.text())
        self._shown_error = error
        self._set(value, error)
        self._show_message()

    def _set(self, value: date | None, error: str | None) -> None:
        self._error = error
        if value != self._date:
            self._date = value
            self.dateChanged.emit(value)

    def _show_message(self) -> None:
        text = self._shown_error or self._note
        self.message.setProperty("fieldError", self._shown_error is not None)
        self.message.setProperty("fieldNote", self._shown_error is None)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)
        self.message.setVisible(bool(text) and self.isEnabled())
        self.edit.setAccessibleDescription(text)

    # -------------------------------------------------------------- picking

    def show_calendar(self) -> None:
        """Open the calendar under the field."""
        if not self.isEnabled():
            return
        self._menu.popup(self.edit.mapToGlobal(self.edit.rect().bottomLeft()))

    def _prepare_calendar(self) -> None:
        low = self._minimum or date(1900, 1, 1)
        high = self._maximum or date(9999, 12, 31)
        self.calendar.setDateRange(QDate(low), QDate(high))
        shown = self._date or min(max(date.today(), low), high)
        self.calendar.setSelectedDate(QDate(shown))
        self.calendar.setFocus()

    def _picked(self, value: QDate) -> None:
        self._menu.hide()
        self.setDate(value.toPython())
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def _step(self, days: int = 0, months: int = 0) -> None:
        start = self._date or date.today()
        if months:
            q = QDate(start).addMonths(months)
            new = q.toPython()
        else:
            new = start + timedelta(days=days)
        if self._minimum and new < self._minimum:
            new = self._minimum
        if self._maximum and new > self._maximum:
            new = self._maximum
        self.setDate(new)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange:
            self._show_message()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key, mods = event.key(), event.modifiers()
            alt = bool(mods & Qt.KeyboardModifier.AltModifier)
            if key == Qt.Key.Key_F4 or (alt and key == Qt.Key.Key_Down):
                self.show_calendar()
                return True
            steps = {
                Qt.Key.Key_Up: (1, 0),
                Qt.Key.Key_Down: (-1, 0),
                Qt.Key.Key_PageUp: (0, 1),
                Qt.Key.Key_PageDown: (0, -1),
            }
            if key in steps and not alt:
                days, months = steps[key]
                self._step(days, months)
                return True
        return super().eventFilter(watched, event)
