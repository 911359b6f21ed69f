"""Prospect > History…: one person's merged timeline, filterable and printable.

``services.history`` gathers the events (Qt-free); this dialog shows them
in a table model, narrows them by kind and date, and prints them to PDF
(``reports.history`` writes the document, ``reports.pdf`` paints it as it
paints the access pack). The PDF is written off the GUI thread,
atomically, and never over an existing file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_datetime
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import CrmError
from crm_desktop.reports.history import history_html
from crm_desktop.reports.history_pdf import write_history_pdf
from crm_desktop.services import history
from crm_desktop.services.context import Context
from crm_desktop.services.history import HistoryEvent
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.date_field import DateField
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress

HEADERS = ("When", "Kind", "What", "Details", "By")
WHEN, KIND, TITLE, DETAIL, ACTOR = range(len(HEADERS))
EventRole = Qt.ItemDataRole.UserRole + 1
PDF_FILTERS = "PDF (*.pdf)"


class HistoryModel(QAbstractTableModel):
    """The events on show, newest first (a person's history is small: held whole)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._events: list[HistoryEvent] = []

    def set_events(self, events: list[HistoryEvent]) -> None:
        self.beginResetModel()
        self._events = list(events)
        self.endResetModel()

    def events(self) -> list[HistoryEvent]:
        return list(self._events)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._events)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._events):
            return None
        e = self._events[index.row()]
        if role == EventRole:
            return e
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                format_datetime(e.at),
                history.KIND_LABELS.get(e.kind, e.kind),
                e.title,
                e.detail,
                e.actor,
            )[column]
        if role == Qt.ItemDataRole.ToolTipRole and column in (TITLE, DETAIL):
            return e.detail or e.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        return None


class HistoryDialog(QDialog):
    """ "History of NAME": the timeline with kind and date filters and Print to PDF.

    Signals: ``pdfWritten(str)`` with the file's path once a PDF is written.
    """

    pdfWritten = Signal(str)

    def __init__(self, ctx: Context, prospect: ProspectView, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.prospect = prospect
        self.task: BackgroundTask | None = None
        self.setWindowTitle(f"History of {prospect.full_name}")
        self.resize(960, 560)

        self.kind_boxes: dict[str, QCheckBox] = {}
        kinds_row = QHBoxLayout()
        kinds_row.addWidget(QLabel("Show:"))
        for kind in history.KINDS:
            box = QCheckBox(history.KIND_LABELS[kind])
            box.setChecked(True)
            box.toggled.connect(self.reload)
            self.kind_boxes[kind] = box
            kinds_row.addWidget(box)
        kinds_row.addSpacing(16)
        self.from_edit = self._date_edit("From")
        self.to_edit = self._date_edit("To")
        for label, edit in (("From", self.from_edit), ("to", self.to_edit)):
            kinds_row.addWidget(QLabel(label))
            kinds_row.addWidget(edit)
        kinds_row.addStretch(1)

        self.model = HistoryModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        for column, width in ((WHEN, 130), (KIND, 110), (TITLE, 240), (ACTOR, 90)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(DETAIL, QHeaderView.ResizeMode.Stretch)

        self.status = QLabel()
        self.status.setObjectName("historyStatus")
        self.print_button = QPushButton("Print to PDF…")
        self.print_button.clicked.connect(self.print_pdf)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        # Enter in a date filter applies it; it must not print or close the dialog.
        for button in buttons.buttons():
            button.setAutoDefault(False)
            button.setDefault(False)
        buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(kinds_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._shown_filters = ""  # the filters the events on show were read with
        # Read on a worker; "Loading…" covers the timeline meanwhile.
        self._reader = Reader(self, cover=self.table)
        self.reload()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.table.resizeRowsToContents()  # now that the details column has its width

    def _date_edit(self, name: str) -> DateField:
        edit = DateField(allow_empty=True, empty_text="Any")
        edit.setObjectName(f"history{name}Date")
        edit.setAccessibleName(f"{name} date")
        edit.dateChanged.connect(self.reload)
        return edit

    # ---------------------------------------------------------- filters

    def chosen_kinds(self) -> list[str]:
        return [kind for kind, box in self.kind_boxes.items() if box.isChecked()]

    @staticmethod
    def _day(edit: DateField) -> date | None:
        return edit.date()

    def set_range(self, since: date | None, until: date | None) -> None:
        """Set the date filters (None: any)."""
        self.from_edit.setDate(since)
        self.to_edit.setDate(until)

    def filter_text(self) -> str:
        kinds = self.chosen_kinds()
        shown = (
            "All kinds"
            if len(kinds) == len(history.KINDS)
            else ", ".join(history.KIND_LABELS[k] for k in kinds) or "No kinds"
        )
        since, until = self._day(self.from_edit), self._day(self.to_edit)
        if since or until:
            shown += f"; from {since or 'the start'} to {until or 'today'}"
        return shown

    def reload(self) -> None:
        """Read the events the filters choose on a worker; then show them."""
        ctx, prospect_id, kinds = self.ctx, self.prospect.id, self.chosen_kinds()
        since, until = self._day(self.from_edit), self._day(self.to_edit)
        filters = self.filter_text()

        def read() -> list[HistoryEvent] | ValidationError:
            try:
                return history.history(ctx, prospect_id, kinds=kinds, since=since, until=until)
            except ValidationError as exc:  # the filters: said in the status line
                return exc

        def failed(error: CrmError) -> bool:
            self._show_events([], filters)
            self.status.setText(str(error))
            return True

        self._reader.read(read, lambda result: self._show_events(result, filters), failed=failed)

    def _show_events(self, result: list[HistoryEvent] | ValidationError, filters: str) -> None:
        self._shown_filters = filters
        if isinstance(result, ValidationError):
            self.model.set_events([])
            self.status.setText(" ".join(result.errors.values()).capitalize() + ".")
            return
        events = result
        self.model.set_events(events)
        self.table.resizeRowsToContents()
        count = len(events)
        self.status.setText(
            f"{count} event{'s' if count != 1 else ''} · {filters}"
            if count
            else "No events match these filters."
        )

    # ---------------------------------------------------------- printing

    def print_pdf(self) -> BackgroundTask | None:
        """Print the rows on show to a new PDF file, in the background."""
        chosen = messages.save_file(self, "Print history to PDF", PDF_FILTERS)
        if not chosen:
            return None
        target = Path(chosen)
        if target.suffix.lower() != ".pdf":
            target = target.with_name(f"{target.name}.pdf")
        if target.exists() or target.is_symlink():
            messages.show_error(
                self, f"{target} already exists; choose a new name.", "History not printed"
            )
            return None
        name = self.prospect.full_name
        # The rows on show, with the filters they were read with.
        html = history_html(name, self.model.events(), self._shown_filters)

        def work(progress, should_cancel):
            return write_history_pdf(target, name, html, progress, should_cancel)

        task = run_with_progress(self, "Print history", "Writing the PDF…", work)
        task.succeeded.connect(self._written)
        task.failed.connect(lambda text: messages.show_error(self, text, "History not printed"))
        task.cancelled.connect(lambda: self.status.setText("Cancelled; no PDF was written."))
        self.task = task
        return task

    def _written(self, path) -> None:
        self.status.setText(f"History printed to {path}.")
        self.pdfWritten.emit(str(path))
