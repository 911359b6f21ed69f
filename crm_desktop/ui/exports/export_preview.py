"""Step 3 of the export wizard: the preview of who is included and who is left out.

The page shows what ``services.exports.preview_export`` says, computed on a
worker thread each time the page is entered (Back cancels it): two lists,
the people included (in the columns of the file, so marketing can check
the list before writing it) and the people left out, with why. It decides
nothing: ``run_export`` checks everyone again when the file is written.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from crm_desktop.domain.enums import Channel
from crm_desktop.services import exports
from crm_desktop.services.context import Context
from crm_desktop.services.exports import ExportPreview, ExportRequest
from crm_desktop.ui.common.table_model import with_empty_state
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress
from crm_desktop.ui.exports.export_models import (
    CandidatesModel,
    IncludedModel,
    ReasonCountsModel,
    ReasonRole,
    channel_noun,
    exclusion_label,
)
from crm_desktop.ui.exports.export_pages import error_label


class PreviewPage(QWizardPage):
    """Step 3: who would be included and who left out, and why. Writes nothing.

    The preview runs ``preview_export`` on a worker thread each time the
    page is entered; Back cancels it. Selecting a reason in the breakdown
    narrows the list of people left out to that reason.
    """

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._preview: ExportPreview | None = None
        self._task: BackgroundTask | None = None
        self._run = 0  # which run's result is wanted; older ones are ignored
        self.setTitle("Preview")
        self.setSubTitle(
            "Nothing has been written yet. Everyone is checked again when the file is written."
        )

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("previewSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)

        self.status_label = error_label(self, "previewStatus")
        self.retry_button = QPushButton("Preview &again", self)
        self.retry_button.setObjectName("previewAgain")
        self.retry_button.clicked.connect(self.start)
        self.retry_button.hide()
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.retry_button)

        self.reasons_label = QLabel(self)
        self.reasons_label.setWordWrap(True)
        self.reasons_model = ReasonCountsModel(self)
        self.reasons_table = QTableView(self)
        self.reasons_table.setObjectName("reasonsTable")
        self.reasons_table.setModel(self.reasons_model)
        self._setup_table(self.reasons_table, ReasonCountsModel.REASON)
        self.reasons_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.reasons_table.selectionModel().selectionChanged.connect(self._reason_selected)
        self.reasons_label.setBuddy(self.reasons_table)

        self.people_label = QLabel(self)
        self.people_label.setWordWrap(True)
        self.show_all_button = QPushButton("Show &everyone left out", self)
        self.show_all_button.setObjectName("showAllExcluded")
        self.show_all_button.clicked.connect(self.reasons_table.clearSelection)
        people_row = QHBoxLayout()
        people_row.addWidget(self.people_label, 1)
        people_row.addWidget(self.show_all_button)
        self.excluded_model = CandidatesModel(self)
        self.excluded_table = QTableView(self)
        self.excluded_table.setObjectName("excludedTable")
        self.excluded_table.setModel(self.excluded_model)
        self._setup_table(self.excluded_table, None)
        self.excluded_table.horizontalHeader().setStretchLastSection(True)
        self.people_label.setBuddy(self.excluded_table)
        self.nobody_label = QLabel(self)
        self.nobody_label.setObjectName("tableEmpty")
        self.nobody_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.nobody_label.setWordWrap(True)
        self.people_stack = QStackedWidget(self)
        self.people_stack.addWidget(self.excluded_table)
        self.people_stack.addWidget(self.nobody_label)

        self.left_out = QWidget(self)
        left_out = QVBoxLayout(self.left_out)
        left_out.addWidget(self.reasons_label)
        left_out.addWidget(self.reasons_table)
        left_out.addLayout(people_row)
        left_out.addWidget(self.people_stack, 1)

        self.included_label = QLabel(self)
        self.included_label.setWordWrap(True)
        self.included_model = IncludedModel(self)
        self.included_table = QTableView(self)
        self.included_table.setObjectName("includedTable")
        self.included_table.setModel(self.included_model)
        self._setup_table(self.included_table, None)
        self.included_table.horizontalHeader().setStretchLastSection(True)
        self.included_label.setBuddy(self.included_table)
        self.included_stack, self.nobody_included_label = with_empty_state(
            self.included_table, self
        )
        self.included = QWidget(self)
        included = QVBoxLayout(self.included)
        included.addWidget(self.included_label)
        included.addWidget(self.included_stack, 1)

        # Two lists, one a tab away: who is in the file, and who is not and why.
        self.details = QTabWidget(self)
        self.details.setObjectName("previewLists")
        self.details.addTab(self.included, "Included")
        self.details.addTab(self.left_out, "Left out")

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addLayout(status_row)
        layout.addWidget(self.details, 1)

    def _setup_table(self, table: QTableView, stretch: int | None) -> None:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().lineSpacing() + 10)
        table.setTabKeyNavigation(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        if stretch is not None:
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)

    def _fit_people_columns(self) -> None:
        """Fit the columns to their text, within bounds; the school takes the rest."""
        table = self.excluded_table
        header = table.horizontalHeader()
        x = self.fontMetrics().horizontalAdvance("x")
        for col, chars in (
            (CandidatesModel.NAME, 22),
            (CandidatesModel.REASONS, 44),
            (CandidatesModel.ADDRESS, 30),
        ):
            table.resizeColumnToContents(col)
            header.resizeSection(col, min(header.sectionSize(col), x * chars))

    # ------------------------------------------------------------ public

    @property
    def preview(self) -> ExportPreview | None:
        return self._preview

    @property
    def task(self) -> BackgroundTask | None:
        """The preview running now, if any."""
        return self._task

    def _request(self) -> ExportRequest:
        """What to preview: the wizard's request, in a format this channel has."""
        wizard = self.wizard()
        fmt = wizard.output_page.format()
        if fmt == "mailchimp" and wizard.channel() is not Channel.EMAIL:
            fmt = "csv"
        return wizard.request(format=fmt)

    @Slot()
    def start(self) -> None:
        """Compute the preview off the GUI thread (cancelling any earlier run)."""
        self.cancel()
        request = self._request()
        ctx = self._ctx
        self._run += 1
        run = self._run
        self._preview = None
        self._show_running()

        def work(progress, should_cancel):
            return exports.preview_export(
                ctx, request, progress=progress, should_cancel=should_cancel
            )

        task = run_with_progress(
            self.wizard(), "Preview", "Checking who may be contacted on this channel…", work
        )
        self._task = task
        task.succeeded.connect(lambda result: self._done(run, result, request))
        task.failed.connect(lambda text: self._stopped(run, f"The preview failed: {text}"))
        task.cancelled.connect(
            lambda: self._stopped(run, "Preview cancelled. Nothing was written.")
        )
        task.finished.connect(lambda: self._task_finished(task))
        self.completeChanged.emit()

    def cancel(self) -> None:
        """Stop a running preview; its result, if any arrives, is ignored."""
        self._run += 1
        if self._task is not None:
            self._task.cancel()

    # ------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        self.start()

    def cleanupPage(self) -> None:
        self.cancel()
        self._preview = None

    def isComplete(self) -> bool:
        return self._preview is not None and self._task is None

    # ----------------------------------------------------------- private

    def _task_finished(self, task: BackgroundTask) -> None:
        if self._task is not task:
            return
        self._task = None
        self.completeChanged.emit()
        if self._preview is not None and self.isVisible():
            # Enter (or Space) moves on; the tables are a Tab away.
            self.wizard().button(QWizard.WizardButton.NextButton).setFocus()

    def _show_running(self) -> None:
        self.summary_label.setText("Checking who may be contacted…")
        self.status_label.hide()
        self.retry_button.hide()
        self.details.hide()

    def _stopped(self, run: int, text: str) -> None:
        if run != self._run:
            return
        self.summary_label.setText("")
        self.status_label.setText(text)
        self.status_label.show()
        self.retry_button.show()
        self.retry_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _done(self, run: int, preview: ExportPreview, request: ExportRequest) -> None:
        if run != self._run:
            return
        self._preview = preview
        included, excluded = len(preview.included), len(preview.excluded)
        channel = channel_noun(preview.channel)
        if preview.total == 0:
            summary = "<b>Nobody matches these filters.</b> Go back to widen them."
        else:
            summary = (
                f"{preview.total:,} {'person matches' if preview.total == 1 else 'people match'} "
                f"the filters. <b>{included:,} will be included</b> in the {channel} list "
                f"and <b>{excluded:,} left out</b>."
            )
        if preview.total and not included:
            summary += (
                "<br>Nobody may be contacted on this channel; an export now would write "
                "a file with only the header row."
            )
        self.summary_label.setText(summary)
        self.reasons_model.set_counts(preview.counts)
        several = ""
        if len(preview.counts) > 1:
            several = (
                " Someone can be left out for several reasons, so these numbers can add up "
                f"to more than {excluded:,}."
            )
        self.reasons_label.setText(
            f"Why people are left out.{several} Select a reason to list only those people."
        )
        self._fit_reasons_table()
        self.excluded_model.set_candidates(preview.excluded, preview.channel)
        self._fit_people_columns()
        self._update_people()
        self._show_included(preview, request)
        self.details.setTabText(self.details.indexOf(self.included), f"&Included ({included:,})")
        self.details.setTabText(self.details.indexOf(self.left_out), f"&Left out ({excluded:,})")
        # Who is left out, and why, matters most: it opens first when anyone is.
        self.details.setCurrentWidget(self.left_out if excluded else self.included)
        self.details.setVisible(preview.total > 0)
        self.reasons_label.setVisible(excluded > 0)
        self.reasons_table.setVisible(excluded > 0)

    def _show_included(self, preview: ExportPreview, request: ExportRequest) -> None:
        self.included_model.set_people(request, preview.included)
        n = len(preview.included)
        if not n:
            self.nobody_included_label.setText(
                "Nobody who matches the filters may be contacted on this channel."
            )
            self.included_stack.setCurrentWidget(self.nobody_included_label)
            return
        what = "a Mailchimp" if request.format == "mailchimp" else "the"
        self.included_label.setText(
            f"{'The person' if n == 1 else f'The {n:,} people'} the file would hold, in "
            f"{what} file's columns (Export checks everyone again when it writes it):"
        )
        table = self.included_table
        header = table.horizontalHeader()
        x = self.fontMetrics().horizontalAdvance("x")
        for col in range(self.included_model.columnCount()):
            table.resizeColumnToContents(col)
            header.resizeSection(col, min(header.sectionSize(col), x * 32))
        self.included_stack.setCurrentWidget(self.included_table)

    def _fit_reasons_table(self) -> None:
        table = self.reasons_table
        rows = max(1, self.reasons_model.rowCount())
        height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
        height += sum(table.verticalHeader().sectionSize(r) for r in range(rows))
        table.setFixedHeight(height)

    @Slot(QItemSelection, QItemSelection)
    def _reason_selected(self, *_args) -> None:
        rows = self.reasons_table.selectionModel().selectedRows()
        reason = rows[0].data(ReasonRole) if rows else None
        self.excluded_model.set_reason_filter(reason)
        self._update_people()

    def _update_people(self) -> None:
        model = self.excluded_model
        reason = model.reason_filter
        n = model.total()
        self.show_all_button.setVisible(reason is not None)
        if reason is None:
            self.people_label.setText(
                f"People left out ({n:,}), each with every reason:" if n else "People left out:"
            )
        else:
            self.people_label.setText(f"Left out for “{exclusion_label(reason)}” ({n:,}):")
        if n:
            self.people_stack.setCurrentWidget(self.excluded_table)
        else:
            self.nobody_label.setText("Nobody who matches the filters is left out.")
            self.people_stack.setCurrentWidget(self.nobody_label)
