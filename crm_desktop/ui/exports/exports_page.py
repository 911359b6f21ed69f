"""The Exports tab: every campaign list exported, newest first, with its detail.

A record answers "who exported what, to whom, when, and who was left out
and why": the campaign, purpose and filters, the counts per exclusion
reason, the file and its SHA-256 (to show a file is the one exported), and
on request the people in it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.errors import CrmError
from crm_desktop.services import exports
from crm_desktop.services.context import Context
from crm_desktop.services.exports import ExportRecord
from crm_desktop.ui.common.appearance import colours
from crm_desktop.ui.common.reads import LoadsWhenShown, Reader, give_current_row
from crm_desktop.ui.common.table_model import with_empty_state
from crm_desktop.ui.exports.export_models import (
    ExportsModel,
    MembersModel,
    channel_label,
    channel_noun,
    exclusion_label,
    format_label,
    format_when,
    member_rows,
    ordered_reasons,
)


class MembersDialog(QDialog):
    """The people in one export, as they are now (names looked up as you scroll).

    The ids and the first batch of names are read on a worker, and so is
    each batch after that as the list scrolls (ui/common/reads).
    """

    def __init__(self, ctx: Context, record: ExportRecord, parent: QWidget | None = None):
        super().__init__(parent)
        self._ctx = ctx
        self._record = record
        self.setObjectName("exportMembersDialog")
        self.setWindowTitle(f"People in “{' '.join(record.campaign.split())}”")
        self.model = MembersModel(self, fetch=self._fetch_more)
        self.intro = QLabel(self)
        self.intro.setObjectName("membersIntro")
        self.intro.setWordWrap(True)
        self._say_count(record.included if record.complete else 0)
        self.table = QTableView(self)
        self.table.setObjectName("membersTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(900, 520)
        title = "Could not read the people in this list"
        self._reader = Reader(self, cover=self.table, error_title=title)
        self._more = Reader(self, cover=None, error_title=title)  # rows stay on show meanwhile
        export_id, batch = record.id, MembersModel.BATCH

        def first():
            ids = exports.export_members(ctx, export_id)
            return ids, member_rows(ctx, ids[:batch])

        self._reader.read(first, self._show_first)

    def _say_count(self, n: int) -> None:
        record = self._record
        self.intro.setText(
            f"{n:,} {'person was' if n == 1 else 'people were'} in this "
            f"{channel_noun(record.channel)} list exported on {format_when(record.created_at)}. "
            "Names and addresses are shown as they are now."
        )

    def _show_first(self, first: tuple[list[int], list]) -> None:
        ids, rows = first
        self.model.set_ids(ids, rows)
        self._say_count(self.model.total())
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        limit = self.fontMetrics().horizontalAdvance("x" * 34)
        for col in range(self.model.columnCount()):
            header.resizeSection(col, min(header.sectionSize(col), limit))
        give_current_row(self.table)

    def _fetch_more(self, ids: list[int]) -> None:
        ctx = self._ctx
        self._more.read(
            lambda: member_rows(ctx, ids),
            self.model.add_rows,
            failed=lambda _error: self.model.fetch_failed(),
        )


def read_records(ctx: Context) -> tuple[list[ExportRecord], dict[int, list | str]]:
    """The export records, and each one's filters described for people (on a worker).

    A record whose filters cannot be described has the reason instead.
    """
    records = exports.list_exports(ctx)
    described: dict[int, list | str] = {}
    for r in records:
        if r.filters:
            try:
                described[r.id] = exports.describe_filters(ctx, r.filters)
            except CrmError as exc:
                described[r.id] = str(exc)
    return records, described


class ExportsView(LoadsWhenShown, QWidget):
    """Export records with a detail pane for the selected one.

    Signals:

    ``selectionChanged()``
        Another record (or none) is selected.
    """

    selectionChanged = Signal()

    def __init__(self, ctx: Context, export_action=None, parent: QWidget | None = None):
        """``export_action``: the window's "Export campaign list…" action, offered here too."""
        super().__init__(parent)
        self._ctx = ctx
        self._load_error = ""
        self._wanted: int | None = None  # the record to select when the read arrives
        self._described: dict[int, list | str] = {}  # each record's filters, named
        self.members_dialog: MembersDialog | None = None
        self.model = ExportsModel(self)

        self.count_label = QLabel(self)
        self.count_label.setObjectName("exportsCount")
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        if export_action is not None:
            new_button = QToolButton(self)
            new_button.setObjectName("newExportButton")
            new_button.setDefaultAction(export_action)
            top.addWidget(new_button)

        self.table = QTableView(self)
        self.table.setObjectName("exportsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # After the selection (not the current row) changes: the detail follows the selection.
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.activated.connect(self.show_people)

        self.stack, self.empty_label = with_empty_state(self.table, self)
        # The records are read on a worker; "Loading…" covers the list meanwhile.
        self._reader = Reader(self, cover=self.stack)

        self.detail = QTextBrowser(self)
        self.detail.setObjectName("exportDetail")
        self.detail.setOpenLinks(False)
        self.people_button = QPushButton("Show &people…", self)
        self.people_button.setObjectName("showPeople")
        self.people_button.setToolTip("List the people in the selected export (Enter)")
        self.people_button.clicked.connect(self.show_people)
        self.detail_box = detail_box = QWidget(self)
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.people_button)
        detail_layout.addLayout(buttons)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("exportsSplitter")
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(detail_box)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self._loaded = False  # read once shown, not before (LoadsWhenShown)

    # ------------------------------------------------------------ public

    @Slot()
    def refresh(self, select_id: int | None = None) -> None:
        """Reload the records (on a worker); keep (or move to ``select_id``) the selection."""
        self._loaded = True
        if select_id is not None:  # else what is selected when the rows arrive
            self._wanted = select_id
        ctx = self._ctx

        def failed(error: CrmError) -> bool:  # e.g. the database file went away
            self._show_records([], {}, str(error))
            return True

        self._reader.read(
            lambda: read_records(ctx), lambda got: self._show_records(*got), failed=failed
        )

    def _show_records(
        self, records: list[ExportRecord], described: dict[int, list | str], error: str = ""
    ) -> None:
        self._described = described
        wanted, self._wanted = self._wanted, None
        if wanted is None:
            current = self.selected_record()
            wanted = current.id if current else None
        self._load_error = error
        self.model.set_records(records)
        n = len(records)
        self.count_label.setText(f"{n:,} export{'' if n == 1 else 's'}" if n else "")
        row = self.model.row_of(wanted) if wanted is not None else -1
        if records:
            self.table.resizeColumnsToContents()
            self._cap_columns()
            self._select_row(max(row, 0))
        self._update_empty_state()
        self._show_detail()

    def selected_record(self) -> ExportRecord | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            return None
        return self.model.record_at(index.row())

    def detail_text(self) -> str:
        """The detail pane as plain text (for tests and accessibility checks)."""
        return self.detail.toPlainText()

    @Slot()
    def show_people(self) -> MembersDialog | None:
        record = self.selected_record()
        if record is None:
            return None
        dialog = MembersDialog(self._ctx, record, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._members_closed)
        self.members_dialog = dialog
        dialog.open()
        return dialog

    # ----------------------------------------------------------- private

    @Slot()
    def _members_closed(self) -> None:
        self.members_dialog = None

    def _cap_columns(self) -> None:
        """Columns fit their text, the campaign up to 48 characters, others up to 30."""
        header = self.table.horizontalHeader()
        x = self.fontMetrics().horizontalAdvance("x")
        for col in range(self.model.columnCount() - 1):
            chars = 48 if col == ExportsModel.CAMPAIGN else 30
            header.resizeSection(col, min(header.sectionSize(col), x * chars))

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    @Slot(QItemSelection, QItemSelection)
    def _selection_changed(self, *_args) -> None:
        self._show_detail()
        self.selectionChanged.emit()

    def _update_empty_state(self) -> None:
        self.detail_box.setVisible(self.model.rowCount() > 0)
        if self.model.rowCount():
            self.stack.setCurrentWidget(self.table)
            return
        if self._load_error:
            text = f"Exports could not be loaded.\n\n{self._load_error}"
        else:
            text = (
                "No campaign lists have been exported yet.\n\n"
                "Use Marketing › Export campaign list… (Ctrl+E) to write one. "
                "Every export is recorded here, with who was left out and why."
            )
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_label)

    def _show_detail(self) -> None:
        record = self.selected_record()
        self.people_button.setEnabled(
            record is not None and record.complete and record.included > 0
        )
        if record is None:
            self.detail.setHtml(
                f"<p style='color:{colours().muted}'>Select an export to see its details.</p>"
                if self.model.rowCount()
                else ""
            )
            return
        self.detail.setHtml(self._html(record))

    def _html(self, r: ExportRecord) -> str:
        def row(label: str, value: str) -> str:
            return (
                f"<tr><td style='color:{colours().muted}; padding-right:12px'>{escape(label)}</td>"
                f"<td>{value}</td></tr>"
            )

        campaign = escape(" ".join(r.campaign.split()))
        if not r.complete:
            return f"<h3>{campaign}</h3>{self._unfinished_html(r, row)}"
        purpose = escape(r.purpose).replace("\n", "<br>") if r.purpose else "<i>Not given</i>"
        reasons = ordered_reasons(r.exclusions)
        why = (
            "".join(f"{escape(exclusion_label(k))}: {v:,}<br>" for k, v in reasons)
            if reasons
            else "Nobody was left out."
        )
        if len(reasons) > 1:
            why += (
                f"<span style='color:{colours().muted}'>"
                "Someone can be left out for several reasons.</span>"
            )
        rows = [
            row("Exported", f"{escape(format_when(r.created_at))} by {escape(r.created_by)}"),
            row("Channel", escape(channel_label(r.channel))),
            row("Personalised", "Yes" if r.personalised else "No"),
            row("Purpose", purpose),
            row("Filters", self._filters_html(r)),
            row("Included", f"{r.included:,}"),
            row("Left out", f"{r.excluded:,}"),
            row("Why left out", why),
            row("Format", escape(format_label(r.format))),
            row("File", escape(r.file_name)),
            row("SHA-256", f"<code>{escape(r.sha256)}</code>"),
        ]
        note = ""
        if r.included == 0:
            note = "<p>Nobody could be included: the file holds only the header row.</p>"
        return f"<h3>{campaign}</h3><table>{''.join(rows)}</table>{note}"

    def _unfinished_html(self, r: ExportRecord, row) -> str:
        """An export that is not a list: what happened, and that nothing was sent."""
        c = colours()
        if r.state == exports.INTERRUPTED:
            what = (
                "<b>Failed (interrupted).</b> The export was stopped (the program was "
                "closed or the computer turned off) before its file was in place. No list "
                "was written, and its unfinished temporary file was deleted. Nobody was "
                "sent this list: export it again if it is still needed."
            )
            colour, background = c.error, c.error_background
        else:
            what = (
                "<b>Being written.</b> This export has not finished yet (or was stopped on "
                "another computer, which settles it when the program starts there)."
            )
            colour, background = c.text, c.warning_background
        rows = [
            row("Started", f"{escape(format_when(r.created_at))} by {escape(r.created_by)}"),
            row("Channel", escape(channel_label(r.channel))),
            row("Purpose", escape(r.purpose) if r.purpose else "<i>Not given</i>"),
            row("Filters", self._filters_html(r)),
            row("Format", escape(format_label(r.format))),
            row("File", escape(r.file_name) + " <i>(not written)</i>"),
        ]
        return (
            f"<p style='color:{colour}; background:{background}; padding:6px'>{what}</p>"
            f"<table>{''.join(rows)}</table>"
        )

    def _filters_html(self, r: ExportRecord) -> str:
        if not r.filters:
            return "None (everyone was considered)"
        described = self._described.get(r.id, [])
        if isinstance(described, str):  # they could not be described
            return escape(described)
        return "<br>".join(f"{escape(label)}: {escape(text)}" for label, text in described)
