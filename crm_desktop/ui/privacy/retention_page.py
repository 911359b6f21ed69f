"""File > Retention review…: keep or anonymise people we have not contacted for long.

The queue can be large, so the model holds only the pages fetched so far
(``canFetchMore``/``fetchMore``). Anonymising runs on a worker thread with a
progress dialog; a Cancel stops between people, and those already done stay
anonymised (each erasure is its own transaction).
"""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_date
from crm_desktop.domain.roles import Action
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import CrmError
from crm_desktop.services import retention
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress

ProspectIdRole = Qt.ItemDataRole.UserRole + 1
PAGE = 200
EMPTY_TEXT = "Nobody is due for review."

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def _when(value: datetime | None) -> str:
    return format_date(value) if value else "Never"


def _day(value: date) -> str:
    return format_date(value)


def read_first_page(ctx: Context) -> tuple[int, list[retention.RetentionRow]]:
    """How many are due, and the first :data:`PAGE` of them, oldest first."""
    return retention.count_due(ctx), retention.review_queue(ctx, limit=PAGE)


class RetentionModel(QAbstractTableModel):
    """The review queue, oldest first, fetched a page at a time."""

    HEADERS = ("Name", "School", "Last contact", "Due since")

    def __init__(self, ctx: Context, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._rows: list[retention.RetentionRow] = []
        self._total = 0

    def reload(self) -> None:
        """Read the count and the first page here, on the calling thread."""
        self.set_first_page(*read_first_page(self.ctx))

    def set_first_page(self, total: int, rows: list[retention.RetentionRow]) -> None:
        """Show a first page read elsewhere (on a worker); later pages come by fetchMore."""
        self.beginResetModel()
        self._total = total
        self._rows = list(rows)
        self.endResetModel()

    @property
    def total(self) -> int:
        return self._total

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def canFetchMore(self, parent: _Index = _ROOT) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: _Index = _ROOT) -> None:
        if parent.isValid():
            return
        more = retention.review_queue(self.ctx, offset=len(self._rows), limit=PAGE)
        if not more:
            self._total = len(self._rows)  # the queue shrank meanwhile
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)  # inclusive last
        self._rows.extend(more)
        self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == ProspectIdRole:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            if col == 0:
                return row.name
            if col == 1:
                return row.school or ""
            if col == 2:
                return _when(row.last_contact_at)
            if col == 3:
                return _day(row.due_since)
        if role == Qt.ItemDataRole.ToolTipRole and row.kept_at is not None:
            return f"Last kept on review on {_when(row.kept_at)}"
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None


class RetentionDialog(QDialog):
    """The review queue with Keep and Anonymise.

    People kept or anonymised are said on ``bus`` as ``Change(DATABASE)``:
    anonymising people changes every list, so every page reads again.
    """

    def __init__(
        self, ctx: Context, parent: QWidget | None = None, *, bus: ChangeBus | None = None
    ):
        """``bus``: where what was kept or anonymised is said (the window's)."""
        super().__init__(parent)
        self.ctx = ctx
        self.bus = bus_for(self, bus)
        self.task: BackgroundTask | None = None
        self._note = ""  # said before the summary once the read arrives ("Kept 2.")
        self.setWindowTitle("Retention review")
        self.resize(760, 480)

        self.months = QSpinBox()
        self.months.setRange(retention.MIN_MONTHS, retention.MAX_MONTHS)
        self.months.setSuffix(" months")
        self.save_months = QPushButton("Apply")
        may_set = ctx.may(Action.MANAGE_SETTINGS)
        self.months.setEnabled(may_set)
        self.save_months.setVisible(may_set)
        if not may_set:
            self.months.setToolTip("Only an admin can change the review period.")
        top = QHBoxLayout()
        top.addWidget(QLabel("Review prospects with no contact for"))
        top.addWidget(self.months)
        top.addWidget(self.save_months)
        top.addStretch(1)

        self.summary = QLabel()
        self.model = RetentionModel(ctx, self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        # The queue's first page is read on a worker (later pages as you scroll,
        # here); "Loading…" covers the list meanwhile.
        self._reader = Reader(self, cover=self.stack, error_title="Retention review")

        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why we still need their data (required to keep)")
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("Keep the selected people; they are due again after the period")
        self.anonymise_button = QPushButton("Anonymise…")
        self.anonymise_button.setToolTip(
            "Erase the selected people for good; their addresses stay suppressed"
        )
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Reason:"))
        actions.addWidget(self.reason, 1)
        actions.addWidget(self.keep_button)
        actions.addWidget(self.anonymise_button)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        layout.addLayout(actions)
        layout.addWidget(buttons)

        self.save_months.clicked.connect(self.apply_months)
        self.keep_button.clicked.connect(self.keep_selected)
        self.anonymise_button.clicked.connect(self.anonymise_selected)
        self.reason.textChanged.connect(self._update_buttons)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.refresh()

    # ------------------------------------------------------------ state

    def refresh(self, note: str = "") -> None:
        """Show the review period, and read the queue's first page on a worker.

        The period is one setting, read here so the field is right at once;
        the queue counts and sorts the whole table. ``note`` goes before the
        summary once the queue is shown (e.g. "Kept 2. ").
        """
        months = retention.get_retention_months(self.ctx)
        self.months.setValue(months)
        self._note = note
        ctx = self.ctx
        self._reader.read(lambda: read_first_page(ctx), lambda page: self._show(months, *page))

    def _show(self, months: int, total: int, rows: list[retention.RetentionRow]) -> None:
        note, self._note = self._note, ""
        self.model.set_first_page(total, rows)
        self.stack.setCurrentWidget(self.empty if total == 0 else self.view)
        people = "person is" if total == 1 else "people are"
        self.summary.setText(
            note
            + (
                f"{total:,} {people} due for review (no contact for {months} months)."
                if total
                else f"No contact for {months} months: nobody is due."
            )
        )
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [self.model.index(r, 0).data(ProspectIdRole) for r in rows]

    def _update_buttons(self, *_args) -> None:
        chosen = bool(self.view.selectionModel().selectedRows())
        busy = self.task is not None
        self.keep_button.setEnabled(chosen and bool(self.reason.text().strip()) and not busy)
        self.anonymise_button.setEnabled(chosen and self.ctx.may(Action.ERASE) and not busy)

    # ------------------------------------------------------------ actions

    def apply_months(self) -> bool:
        try:
            retention.set_retention_months(self.ctx, self.months.value())
        except (CrmError, ValidationError) as exc:
            messages.show_error(self, exc, "Review period not changed")
            return False
        self.refresh()
        return True

    def keep_selected(self) -> int:
        ids = self.selected_ids()
        if not ids:
            return 0
        try:
            count = retention.keep(self.ctx, ids, self.reason.text())
        except (CrmError, ValidationError) as exc:
            messages.show_error(self, exc, "Not kept")
            return 0
        self.reason.clear()
        self.refresh(note=f"Kept {count:,}. ")
        self.bus.publish(Change.of(Kind.DATABASE))
        return count

    def anonymise_selected(self) -> BackgroundTask | None:
        ids = self.selected_ids()
        if not ids:
            return None
        who = "this person" if len(ids) == 1 else f"these {len(ids):,} people"
        if not messages.ask(
            self,
            "Anonymise people",
            f"Anonymise {who}? Their names, addresses and correspondence are removed for good "
            "and their addresses go on the suppression list. This cannot be undone.",
        ):
            return None
        ctx = self.ctx

        def work(progress, should_cancel):
            return retention.anonymise(ctx, ids, progress=progress, should_cancel=should_cancel)

        self.task = run_with_progress(self, "Anonymising", f"Anonymising {who}…", work)
        self.task.succeeded.connect(lambda result: self._anonymised(result, len(ids)))
        self.task.failed.connect(self._anonymise_failed)
        self.task.finished.connect(self._task_finished)
        self._update_buttons()
        return self.task

    def _anonymised(self, result: retention.Anonymised, asked: int) -> None:
        count, done = result.count, result.cleanup
        if count < asked:
            messages.inform(
                self,
                "Anonymising cancelled",
                f"Cancelled after {count:,} of {asked:,}: the {count:,} already done stay "
                "anonymised; the others were not changed.",
            )
        if count and not done.finished:
            messages.warn(
                self,
                "Anonymised; clean-up not finished",
                f"{count:,} {'person was' if count == 1 else 'people were'} anonymised and "
                "their addresses suppressed.\n\nThe clean-up of the database files has not "
                f"finished: {done.pending}.",
            )

    def _anonymise_failed(self, text: str) -> None:
        messages.show_error(
            self,
            f"{text}\n\nAnyone anonymised before this stays anonymised.",
            "Anonymising stopped",
        )

    def _task_finished(self) -> None:
        self.task = None
        self.refresh()
        self.bus.publish(Change.of(Kind.DATABASE))
