"""Import contacts: a wizard from the file to the report.

1. the file (format, layout, encoding, delimiter, sheet), 2. the column
mapping (skipped for a known layout unless asked for), 3. a preview of the
first rows with their outcome, 4. the batch's source, lawful basis,
duplicate and suppression policies, then *Import*, 5. the report.

The import itself is ``services.imports.run_import`` on a worker thread
with a progress dialog and Cancel; a batch is all or nothing, so a Cancel
imports nothing, and the page says so. The wizard decides nothing about
who is imported or how: the service validates, deduplicates and honours
opt-outs and suppression; the wizard only gathers the choices and shows
what came back.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from crm_desktop.services import imports
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import ChangeBus, bus_for
from crm_desktop.ui.common.workers import BackgroundTask, StopsWorkOnReject
from crm_desktop.ui.imports.import_models import shortened
from crm_desktop.ui.imports.import_options import OptionsPage
from crm_desktop.ui.imports.import_pages import (
    FilePage,
    MappingPage,
    PreviewPage,
    value_label,
)

# (ImportReport field, label, what it means), in the order shown.
REPORT_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total_rows", "Rows read", "Data rows in the file (the header is not counted)"),
    ("created", "Created", "New prospects"),
    ("updated", "Updated", "Existing prospects with the same email address, updated"),
    ("unchanged", "Unchanged", "Existing prospects the file had nothing new for"),
    ("opted_out", "Suppressed or opted out", "Imported or updated as opted out: never marketable"),
    ("skipped", "Skipped", "Suppressed or opted-out addresses left out, as you chose"),
    ("merged", "Merged", "Later rows with the email address of an earlier row, folded into it"),
    ("rejected", "Rejected", "Rows not imported: see the rejects file for each reason"),
    ("duplicates_for_review", "Duplicates for review", "Probably someone we already have"),
)


class ReportPage(QWizardPage):
    """Step 5: what the import did, count by count, and where to go next."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle("Imported")
        self.setSubTitle("The file was imported in one batch.")
        self.heading = value_label(self, "reportHeading")
        self.heading.setObjectName("dialogHeading")
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for field, label, tip in REPORT_ROWS:
            value = QLabel(self)
            value.setObjectName(f"report_{field}")
            value.setToolTip(tip)
            name = QLabel(f"{label}:", self)
            name.setToolTip(tip)
            form.addRow(name, value)
            self.values[field] = value
        self.rejects_label = value_label(self, "rejectsFile")
        self.notes_label = QLabel("Notes:", self)
        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("reportNotes")
        self.notes.setReadOnly(True)
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(self.fontMetrics().lineSpacing() * 6 + 14)
        self.open_rejects_button = QPushButton("Open &rejects file", self)
        self.open_rejects_button.setObjectName("openRejects")
        self.show_imported_button = QPushButton("&Show imported", self)
        self.show_imported_button.setObjectName("showImported")
        self.duplicates_button = QPushButton("Review &duplicates…", self)
        self.duplicates_button.setObjectName("reviewDuplicates")
        for button in (
            self.open_rejects_button,
            self.show_imported_button,
            self.duplicates_button,
        ):
            button.setAutoDefault(False)  # Enter still closes the wizard
        self.open_rejects_button.clicked.connect(self._open_rejects)
        self.show_imported_button.clicked.connect(self._show_imported)
        self.duplicates_button.clicked.connect(self._review_duplicates)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_imported_button)
        buttons.addWidget(self.duplicates_button)
        buttons.addWidget(self.open_rejects_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(self.rejects_label)
        layout.addLayout(buttons)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.notes)
        layout.addStretch(1)

    def initializePage(self) -> None:
        report = self.wizard().report
        if report is not None:
            self.show_report(report)
        self.wizard().button(QWizard.WizardButton.FinishButton).setFocus()

    def show_report(self, r: imports.ImportReport) -> None:
        self.heading.setText(f"Imported {shortened(r.file_name)}")
        for field, _label, _tip in REPORT_ROWS:
            self.values[field].setText(f"{getattr(r, field):,}")
        if r.rejects_file:
            self.rejects_label.setText(
                f"{r.rejected:,} rejected {'row was' if r.rejected == 1 else 'rows were'} "
                f"written, with the reason for each, to {shortened(r.rejects_file, 120)}. "
                "Fix them there and "
                "import that file again."
            )
        else:
            self.rejects_label.setText("No row was rejected.")
        self.open_rejects_button.setVisible(bool(r.rejects_file))
        notes = list(r.warnings)
        if r.dropped:
            notes.insert(
                0,
                f"{r.dropped:,} extra email {'address or phone number was' if r.dropped == 1 else 'addresses or phone numbers were'} "
                "left out because they were not valid (their rows were imported).",
            )
        self.notes.setPlainText("\n".join(notes))
        self.notes_label.setVisible(bool(notes))
        self.notes.setVisible(bool(notes))
        self.show_imported_button.setEnabled(bool(r.prospect_ids))
        can_review = self.wizard().can_review_duplicates
        self.duplicates_button.setVisible(can_review and r.duplicates_for_review > 0)

    def _open_rejects(self) -> None:
        report = self.wizard().report
        if report is not None and report.rejects_file:
            messages.open_location(self, report.rejects_file)

    def _show_imported(self) -> None:
        wizard = self.wizard()
        if wizard.report is not None:
            wizard.showImported.emit(wizard.report)
            wizard.accept()

    def _review_duplicates(self) -> None:
        wizard = self.wizard()
        if wizard.report is not None:
            wizard.reviewDuplicates.emit(wizard.report)
            wizard.accept()


class ImportWizard(StopsWorkOnReject, QWizard):
    """Import contacts, step by step.

    ``path``: a file to start on (dropped on the prospect list); the wizard
    reads it at once. ``can_review_duplicates``: the window offers a
    duplicates review, so the report may send people there.

    A batch imported is said on ``bus`` (the window's; one of its own when
    built alone) as ``Change(PROSPECTS, SCHOOLS, INTERESTS, MARKETING,
    ids=the prospects created or updated)``, once, before the report shows
    (no ``select``: the list keeps its selection rather than look for one
    new person's row among every row); :attr:`report` is then what the
    import did.

    Signals:

    ``showImported(ImportReport)``
        The person asked to see the imported prospects (the wizard closes).
    ``reviewDuplicates(ImportReport)``
        The person asked to review the probable duplicates (the wizard closes).
    """

    showImported = Signal(object)
    reviewDuplicates = Signal(object)

    FILE_PAGE, MAPPING_PAGE, PREVIEW_PAGE, OPTIONS_PAGE, REPORT_PAGE = range(5)

    def __init__(
        self,
        ctx: Context,
        parent: QWidget | None = None,
        *,
        path: str | Path | None = None,
        can_review_duplicates: bool = False,
        bus: ChangeBus | None = None,
    ) -> None:
        super().__init__(parent)
        self.bus = bus_for(self, bus)
        self.setObjectName("importWizard")
        self.setWindowTitle("Import contacts")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Close")
        self.can_review_duplicates = can_review_duplicates
        self._kept: tuple[tuple, dict[int, str]] | None = None
        self.file_page = FilePage(ctx, self)
        self.mapping_page = MappingPage(self)
        self.preview_page = PreviewPage(ctx, self)
        self.options_page = OptionsPage(ctx, self)
        self.report_page = ReportPage(self)
        for page_id, page in (
            (self.FILE_PAGE, self.file_page),
            (self.MAPPING_PAGE, self.mapping_page),
            (self.PREVIEW_PAGE, self.preview_page),
            (self.OPTIONS_PAGE, self.options_page),
            (self.REPORT_PAGE, self.report_page),
        ):
            self.setPage(page_id, page)
        self.setStartId(self.FILE_PAGE)
        self.resize(900, 640)
        if path is not None:
            self.file_page.set_path(path)

    # ------------------------------------------------------------ values

    def path(self) -> Path:
        path = self.file_page.path()
        assert path is not None, "no file chosen"
        return path

    def fmt(self) -> str:
        return self.file_page.fmt()

    def sheet(self) -> str | None:
        preview = self.file_page.preview
        return preview.table.sheet if preview is not None else self.file_page.sheet_name()

    def _file_key(self, preview: imports.ImportPreview) -> tuple:
        return (
            str(preview.table.path),
            self.fmt(),
            preview.table.sheet,
            tuple(preview.table.headers),
        )

    def keep_mapping(self, mapping: dict[int, str]) -> None:
        """Remember the person's mapping for the file on show (Back and Next keep it)."""
        preview = self.file_page.preview
        if preview is not None:
            self._kept = (self._file_key(preview), dict(mapping))

    def mapping_for(self, preview: imports.ImportPreview) -> dict[int, str]:
        """The mapping to show for ``preview``: the person's own, else the one read."""
        if self._kept is not None and self._kept[0] == self._file_key(preview):
            return dict(self._kept[1])
        return dict(preview.mapping)

    def mapping(self) -> dict[int, str] | None:
        """The mapping the person confirmed on the mapping step (the service remembers it
        for the next file with these columns); None when they skipped the step and the
        service maps a known layout itself."""
        preview = self.file_page.preview
        if preview is None or self._kept is None or self._kept[0] != self._file_key(preview):
            return None
        return dict(self._kept[1])

    @property
    def report(self) -> imports.ImportReport | None:
        """What this wizard's import did, once it has run."""
        return self.options_page.report

    def running_task(self) -> BackgroundTask | None:
        return self.options_page.task

    # ------------------------------------------------------------- QWizard

    def nextId(self) -> int:
        current = self.currentId()
        if current == self.FILE_PAGE:
            preview = self.file_page.preview
            known = (
                preview is not None
                and preview.mapping_source == "layout"
                and not preview.mapping_problem  # a layout chosen by hand that does not fit
            )
            if known and not self.file_page.review_mapping.isChecked():
                return self.PREVIEW_PAGE
            return self.MAPPING_PAGE
        return super().nextId()
