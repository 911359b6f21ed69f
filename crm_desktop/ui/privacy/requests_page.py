"""The Requests tab: the register of data-subject requests, soonest deadline first.

Missing a deadline is a breach of the UK GDPR, so what is late must stand
out: overdue rows are red and bold, rows due within seven days amber, and
the main window's status bar shows how many are overdue wherever you are
(:class:`OverdueBadge`). Selected requests are verified, edited, extended
and closed from the buttons under the table; every change goes through
``services.requests`` and so into the audit trail.
"""

from __future__ import annotations

from datetime import date
from html import escape

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_due
from crm_desktop.domain.requests import DUE_SOON_DAYS, RequestKind, RequestStatus, Urgency
from crm_desktop.domain.roles import Action
from crm_desktop.domain.validation import format_phone
from crm_desktop.errors import CrmError
from crm_desktop.services import requests as request_service
from crm_desktop.services.context import Context
from crm_desktop.services.requests import RequestView
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.appearance import (
    colours,
    due_soon_background,
    due_soon_color,
    notifier,
    overdue_background,
    overdue_color,
)
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import LoadsWhenShown, Reader
from crm_desktop.ui.common.table_model import ReadOnlyTableModel, with_empty_state
from crm_desktop.ui.privacy.request_actions import PAGE, RequestActions
from crm_desktop.ui.privacy.request_dialogs import CloseDialog, ExtendDialog, RequestDialog

_ROOT = QModelIndex()

RequestIdRole = Qt.ItemDataRole.UserRole + 1
UrgencyRole = Qt.ItemDataRole.UserRole + 2  # an Urgency value


# Re-read the overdue count this often, so a window left open overnight
# notices requests that became overdue at midnight.
BADGE_REFRESH_MS = 15 * 60 * 1000


def deadline_text(v: RequestView) -> str:
    """How the deadline stands in words (colour is never the only signal)."""
    if v.days_left is None:
        return RequestStatus(v.status).label
    if v.days_left < 0:
        n = -v.days_left
        return f"Overdue by {n} day{'' if n == 1 else 's'}"
    if v.days_left == 0:
        return "Due today"
    return f"{v.days_left} day{'' if v.days_left == 1 else 's'} left"


class RequestsModel(ReadOnlyTableModel):
    """Requests as rows of :class:`RequestView`, in the service's order (by due date)."""

    COLUMNS = ("#", "Due", "Deadline", "Kind", "Requester", "Status", "Identity", "Received")
    ID, DUE, DEADLINE, KIND, REQUESTER, STATUS, IDENTITY, RECEIVED = range(len(COLUMNS))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[RequestView] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: list[RequestView]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> RequestView:
        return self._rows[row]

    def row_of(self, request_id: int | None) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == request_id), -1)

    def counts(self) -> dict[str, int]:
        result = {u.value: 0 for u in Urgency}
        for r in self._rows:
            result[r.urgency] += 1
        return result

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == self.DUE and r.extended:
                return f"Extended from {format_due(r.original_due_on)}: {r.extension_reason}"
            return self._display(r, index.column()) or None
        if role == Qt.ItemDataRole.ForegroundRole:
            return {
                Urgency.OVERDUE.value: overdue_color(),
                Urgency.DUE_SOON.value: due_soon_color(),
            }.get(r.urgency)
        if role == Qt.ItemDataRole.BackgroundRole:
            return {
                Urgency.OVERDUE.value: overdue_background(),
                Urgency.DUE_SOON.value: due_soon_background(),
            }.get(r.urgency)
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if r.urgency == Urgency.OVERDUE.value else None
        if role == RequestIdRole:
            return r.id
        if role == UrgencyRole:
            return r.urgency
        return None

    def _display(self, r: RequestView, col: int) -> str:
        if col == self.ID:
            return str(r.id)
        if col == self.DUE:
            return format_due(r.due_on) + (" (extended)" if r.extended else "")
        if col == self.DEADLINE:
            return deadline_text(r)
        if col == self.KIND:
            return _label(RequestKind, r.kind)
        if col == self.REQUESTER:
            return " ".join(r.requester.split())
        if col == self.STATUS:
            return _label(RequestStatus, r.status)
        if col == self.IDENTITY:
            return "Verified" if r.identity_verified else "Not verified"
        if col == self.RECEIVED:
            return format_due(r.received_on)
        return ""


def _label(enum_cls, value: str) -> str:
    try:
        return enum_cls(value).label
    except ValueError:  # written by a newer version of the app
        return value


class OverdueBadge(QPushButton):
    """ "2 requests overdue" in the status bar; hidden when none are (or for other roles).

    Flat, red and clickable: the main window connects ``clicked`` to the
    Requests tab.
    """

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self._ctx = ctx
        self.count = 0
        self.setObjectName("overdueRequests")
        self.setFlat(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Data-subject requests past their deadline: show them")
        self._restyle()
        notifier().changed.connect(self._restyle)
        self.setVisible(False)
        self._reader = Reader(self, cover=None)  # the count reads on a worker
        self._timer = QTimer(self)
        self._timer.setInterval(BADGE_REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def _restyle(self) -> None:
        self.setStyleSheet(f"color: {overdue_color().name()}; font-weight: 600; padding: 0 6px;")

    @Slot()
    def refresh(self) -> None:
        """Count the overdue requests again (on a worker)."""
        if not self._ctx.may(Action.DATA_SUBJECT_REQUESTS):
            self._reader.cancel()
            self._show_count(0)
            return
        ctx = self._ctx

        def failed(_error: CrmError) -> bool:  # the database went away; the tab says why
            self._show_count(0)
            return True

        self._reader.read(
            lambda: request_service.overdue_count(ctx), self._show_count, failed=failed
        )

    def _show_count(self, count: int) -> None:
        self.count = count
        self.setText(f"{self.count} request{'' if self.count == 1 else 's'} overdue")
        self.setVisible(self.count > 0)


class RequestsView(RequestActions, LoadsWhenShown, QWidget):
    """Open requests (or all, with "Show closed") with a detail pane and actions.

    Besides verifying, editing, extending and closing, the selected request
    is answered from here (``RequestActions``): Make access pack, Restrict
    and Erase act on its prospect and are recorded on the request.

    A request recorded or changed here is said on ``bus`` as
    ``Change(REQUESTS, ids={id}, select=id, by=PAGE)`` once this page shows
    it (the window's overdue count may have changed); a prospect restricted
    or erased from here, by the rights dialog, as ``Change(PROSPECTS, ...)``.

    Signals:
        statusMessage(str): something for the window's status bar.
    """

    statusMessage = Signal(str)

    def __init__(
        self, ctx: Context, parent: QWidget | None = None, *, bus: ChangeBus | None = None
    ):
        """``bus``: where what is changed here is said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._load_error = ""
        self._wanted: int | None = None  # the request to select when the read arrives
        self.dialog: RequestDialog | ExtendDialog | CloseDialog | None = None
        self.model = RequestsModel(self)

        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("requestCounts")
        self.counts_label.setTextFormat(Qt.TextFormat.RichText)
        self.show_closed = QCheckBox("Show &closed", self)
        self.show_closed.setObjectName("showClosedRequests")
        self.show_closed.toggled.connect(lambda _on: self.refresh())
        self.new_button = QPushButton("&New request…", self)
        self.new_button.setObjectName("newRequestButton")
        self.new_button.clicked.connect(lambda: self.new_request())
        top = QHBoxLayout()
        top.addWidget(self.counts_label, 1)
        top.addWidget(self.show_closed)
        top.addWidget(self.new_button)

        self.table = QTableView(self)
        self.table.setObjectName("requestsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(RequestsModel.REQUESTER, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.activated.connect(lambda _index: self.edit_selected())

        self.stack, self.empty_label = with_empty_state(self.table, self)

        self.detail = QTextBrowser(self)
        self.detail.setObjectName("requestDetail")
        self.detail.setOpenLinks(False)
        self.verify_button = self._button("&Verify identity", "verifyRequest", self.verify_selected)
        self.start_button = self._button("Mark in &progress", "startRequest", self.start_selected)
        self.edit_button = self._button("&Edit…", "editRequest", self.edit_selected)
        self.extend_button = self._button("E&xtend…", "extendRequest", self.extend_selected)
        self.close_button = self._button("C&lose request…", "closeRequest", self.close_selected)
        self.build_answer_buttons()
        buttons = QHBoxLayout()
        for button in self.answer_buttons():
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (
            self.verify_button,
            self.start_button,
            self.edit_button,
            self.extend_button,
            self.close_button,
        ):
            buttons.addWidget(button)
        self.detail_box = QWidget(self)
        detail_layout = QVBoxLayout(self.detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail, 1)
        detail_layout.addLayout(buttons)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("requestsSplitter")
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.detail_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        # The table's share and the detail's, before the first rows arrive
        # (they come from a worker, after the window has been laid out).
        self.splitter.setSizes([3000, 2000])
        # Hidden until there are rows to detail (as _rows_arrived decides), so
        # the wide detail does not set the window's minimum width meanwhile.
        self.detail_box.hide()
        # "Loading…" covers the table, not "Show closed" and "New request…".
        self._reader = Reader(self, cover=self.stack)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self._loaded = False  # read once shown, not before (LoadsWhenShown)

    def _button(self, text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(lambda: slot())
        return button

    # ------------------------------------------------------------ public

    @Slot()
    def refresh(self, select_id: int | None = None) -> None:
        """Reload (on a worker); keep the selection (or move it to ``select_id``)."""
        self._loaded = True
        if select_id is not None:  # else what is selected when the rows arrive
            self._wanted = select_id
        if not self._ctx.may(Action.DATA_SUBJECT_REQUESTS):
            self._reader.cancel()
            self._show_rows([])
            return
        ctx, open_only = self._ctx, not self.show_closed.isChecked()

        def failed(error: CrmError) -> bool:  # e.g. the database file went away
            self._show_rows([], str(error))
            return True

        self._reader.read(
            lambda: request_service.list_requests(ctx, open_only=open_only),
            self._show_rows,
            failed=failed,
        )

    def _show_rows(self, rows: list[RequestView], error: str = "") -> None:
        wanted, self._wanted = self._wanted, None
        if wanted is None:
            current = self.selected_request()
            wanted = current.id if current else None
        self._load_error = error
        self.model.set_rows(rows)
        if rows:
            self._fit_columns()
            self._select_row(max(self.model.row_of(wanted), 0))
        self._update_counts()
        self._update_empty_state()
        self._show_detail()

    def selected_request(self) -> RequestView | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            return None
        return self.model.row_at(index.row())

    def select_request(self, request_id: int) -> bool:
        row = self.model.row_of(request_id)
        if row >= 0:
            self._select_row(row)
        return row >= 0

    def detail_text(self) -> str:
        return self.detail.toPlainText()

    def new_request(self, prospect=None) -> RequestDialog:
        """Open the New request dialog (for ``prospect``, a ProspectView, if given)."""
        return self._open(RequestDialog(self._ctx, prospect=prospect, parent=self))

    def edit_selected(self) -> RequestDialog | None:
        r = self.selected_request()
        if r is None or r.closed:
            return None
        return self._open(RequestDialog(self._ctx, request=r, parent=self))

    def extend_selected(self) -> ExtendDialog | None:
        r = self.selected_request()
        return None if r is None else self._open(ExtendDialog(self._ctx, r, self))

    def close_selected(self) -> CloseDialog | None:
        r = self.selected_request()
        return None if r is None else self._open(CloseDialog(self._ctx, r, self))

    def verify_selected(self) -> bool:
        """Record that the requester's identity was checked (asks first)."""
        r = self.selected_request()
        if r is None:
            return False
        question = (
            f"Record that you have verified the identity of {r.requester}?\n\n"
            "Only do so once you are satisfied they are who they say they are."
        )
        if not messages.ask(self, "Verify identity", question):
            return False
        return self._update(r, "Could not record the identity check", identity_verified=True)

    def start_selected(self) -> bool:
        r = self.selected_request()
        if r is None:
            return False
        return self._update(r, "Could not update the request", status=RequestStatus.IN_PROGRESS)

    # ----------------------------------------------------------- private

    def _update(self, r: RequestView, title: str, **changes) -> bool:
        try:
            request_service.update_request(self._ctx, r.id, expected_version=r.version, **changes)
        except CrmError as exc:
            messages.show_error(self, exc, title)
            self.refresh()
            return False
        self._changed(r.id)
        return True

    def _open(self, dialog):
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._changed(dialog.saved.id))
        dialog.destroyed.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def _dialog_closed(self) -> None:
        self.dialog = None

    def _changed(self, request_id: int) -> None:
        self.refresh(select_id=request_id)
        self.bus.publish(Change.of(Kind.REQUESTS, ids=(request_id,), select=request_id, by=PAGE))

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        limit = max(120, self.fontMetrics().horizontalAdvance("x" * 28))
        for col in range(self.model.columnCount()):
            if col == RequestsModel.REQUESTER:
                continue
            self.table.resizeColumnToContents(col)
            header.resizeSection(col, min(header.sectionSize(col), limit))

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    @Slot()
    def _selection_changed(self, *_args) -> None:
        self._show_detail()

    def _update_counts(self) -> None:
        c = self.model.counts()
        open_count = self.model.rowCount() - c[Urgency.CLOSED.value]
        parts = []
        for n, words, color in (
            (c[Urgency.OVERDUE.value], "overdue", overdue_color()),
            (c[Urgency.DUE_SOON.value], f"due within {DUE_SOON_DAYS} days", due_soon_color()),
        ):
            text = f"{n} {words}"
            parts.append(f'<b style="color:{color.name()}">{text}</b>' if n else text)
        parts.append(f"{open_count} open")
        self.counts_label.setText(" · ".join(parts))

    def _update_empty_state(self) -> None:
        self.detail_box.setVisible(self.model.rowCount() > 0)
        if self.model.rowCount() and 0 in self.splitter.sizes():
            # A pane hidden while the register was empty comes back with no
            # height (and its buttons unreachable): give it its share again.
            self.splitter.setSizes([3000, 2000])
        if self.model.rowCount():
            self.stack.setCurrentWidget(self.table)
            return
        if self._load_error:
            text = f"Requests could not be loaded.\n\n{self._load_error}"
        else:
            text = (
                "No open data-subject requests.\n\n"
                "When someone asks to see, correct, erase or move their data, restrict its "
                "use or object to marketing, record it with New request… and it appears "
                "here with its deadline."
            )
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_label)

    def _show_detail(self) -> None:
        r = self.selected_request()
        is_open = r is not None and not r.closed
        self.verify_button.setEnabled(is_open and not r.identity_verified)
        self.start_button.setEnabled(is_open and r.status == RequestStatus.OPEN.value)
        self.edit_button.setEnabled(is_open)
        # An extension is allowed once, and only within the first month.
        can_extend, tip = is_open, "Extend the deadline by one or two months, with the reason"
        if is_open and r.extended:
            can_extend, tip = False, "Already extended: a deadline can be extended only once"
        elif is_open and date.today() > r.original_due_on:
            can_extend, tip = False, "Too late to extend: the first month is over"
        self.extend_button.setEnabled(can_extend)
        self.extend_button.setToolTip(tip)
        self.close_button.setEnabled(is_open)
        self.detail.setHtml(self._html(r) if r is not None else "")
        self.read_answers_for(r, lambda person, done: self._show_answers(r, person, done))

    def _show_answers(self, r: RequestView, person, done: list) -> None:
        """The answer buttons, and what was done to answer ``r``, once read on a worker."""
        self.update_answer_buttons(r, person)
        if done:
            self.detail.setHtml(self._html(r) + self.actions_html(done))

    def _html(self, r: RequestView) -> str:
        def row(key: str, value: str) -> str:
            return (
                f"<tr><td style='color:{colours().muted}; padding-right:12px'>{escape(key)}</td>"
                f"<td>{value}</td></tr>"
            )

        def text(value: str | None) -> str:
            return escape(value).replace("\n", "<br>") if value else "—"

        when = format_due(r.due_on)
        if r.urgency in (Urgency.OVERDUE.value, Urgency.DUE_SOON.value):
            color = overdue_color() if r.urgency == Urgency.OVERDUE.value else due_soon_color()
            when += f" <b style='color:{color.name()}'>{escape(deadline_text(r))}</b>"
        elif r.days_left is not None:
            when += f" ({escape(deadline_text(r))})"
        verified = (
            f"Verified by {escape(r.verified_by or '')}"
            f"{' on ' + format_due(r.verified_at.astimezone().date()) if r.verified_at else ''}"
            if r.identity_verified
            else "Not verified yet"
        )
        linked = (
            f"#{r.prospect_id} {escape(r.prospect_name or '')}"
            if r.prospect_id
            else "Not linked to a prospect"
        )
        rows = [
            row("Status", escape(_label(RequestStatus, r.status))),
            row("Prospect", linked),
            row("Name", text(r.requester_name)),
            row("Email", text(r.requester_email)),
            row("Phone", text(format_phone(r.requester_phone))),
            row("Received", format_due(r.received_on)),
            row("Due", when),
            row("Identity", verified),
        ]
        if r.extended:
            rows.append(
                row(
                    "Extended",
                    f"From {format_due(r.original_due_on)} by {r.extension_months} month"
                    f"{'' if r.extension_months == 1 else 's'}: {text(r.extension_reason)}",
                )
            )
        if r.closed:
            closed_on = format_due(r.closed_at.astimezone().date()) if r.closed_at else ""
            rows.append(row("Closed", f"{closed_on}: {text(r.outcome)}"))
        rows += [
            row("Notes", text(r.notes)),
            row("Recorded by", f"{escape(r.created_by)}; last handled by {escape(r.handled_by)}"),
        ]
        title = f"#{r.id} {_label(RequestKind, r.kind)} — {r.requester}"
        return f"<h3>{escape(title)}</h3><table>{''.join(rows)}</table>"
