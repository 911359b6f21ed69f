"""Import the email tool's unsubscribe or bounce file, and report what it did.

People who unsubscribed in the email tool must be opted out here too, or
the next export would put them back on a list. ``import_unsubscribes``
opts out everyone it can match and puts unknown addresses on the
suppression list, in short batches so that nobody else waits (a malformed
file applies nothing; a cancel keeps the batches applied, and importing the
file again applies the rest). This module adds the file chooser, the
progress dialog with Cancel, and the report.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.services import email_sync
from crm_desktop.services.context import Context
from crm_desktop.services.email_sync import SyncReport
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress

FILE_FILTERS = (
    "Unsubscribe files (*.csv *.txt);;CSV files (*.csv);;Text files (*.txt);;All files (*)"
)

# (SyncReport field, label, what it means) in the order shown.
REPORT_ROWS: tuple[tuple[str, str, str], ...] = (
    ("rows", "Rows read", "Addresses found in the file"),
    ("matched", "Opted out now", "Prospects matched and opted out of email"),
    ("already_opted_out", "Already opted out", "Prospects who were opted out of email already"),
    (
        "new",
        "Added to the suppression list",
        "Addresses of nobody in the CRM, kept so they are never added and marketed to later",
    ),
    (
        "already_suppressed",
        "Already on the suppression list",
        "Unknown addresses suppressed before",
    ),
    ("duplicates", "Duplicates", "The same address again in the file (counted once)"),
    ("invalid", "Invalid", "Values that are not email addresses; nothing was done with them"),
)


class SyncReportDialog(QDialog):
    """What an unsubscribe import did, count by count, with invalid examples."""

    def __init__(self, report: SyncReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncReportDialog")
        self.setWindowTitle("Import cancelled" if report.cancelled else "Unsubscribes imported")
        self.report = report
        heading = QLabel(
            f"Cancelled: {report.applied:,} of {report.rows:,} rows of {report.file} applied"
            if report.cancelled
            else f"Imported {report.file}",
            self,
        )
        heading.setObjectName("dialogHeading")
        heading.setWordWrap(True)
        heading.setTextFormat(Qt.TextFormat.PlainText)

        form = QFormLayout()
        self.value_labels: dict[str, QLabel] = {}
        for field, label, tip in REPORT_ROWS:
            text = f"{getattr(report, field):,}"
            if field == "rows" and report.cancelled:
                text = f"{report.applied:,} applied of {report.rows:,}"
            value = QLabel(text, self)
            value.setObjectName(f"report_{field}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setToolTip(tip)
            name = QLabel(f"{label}:", self)
            name.setToolTip(tip)
            form.addRow(name, value)
            self.value_labels[field] = value

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        self.examples: QPlainTextEdit | None = None
        if report.invalid_examples:
            shown = len(report.invalid_examples)
            more = f" (the first {shown})" if report.invalid > shown else ""
            layout.addWidget(QLabel(f"Invalid values{more}:", self))
            self.examples = QPlainTextEdit(self)
            self.examples.setObjectName("invalidExamples")
            self.examples.setReadOnly(True)
            self.examples.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.examples.setPlainText("\n".join(_printable(e) for e in report.invalid_examples))
            self.examples.setMaximumHeight(self.fontMetrics().lineSpacing() * 8 + 12)
            layout.addWidget(self.examples)
        self.summary_label = QLabel(_summary(report), self)
        self.summary_label.setObjectName("hint")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)


def _printable(text: str) -> str:
    """An example as one visible line (control characters shown, not obeyed)."""
    if not text.strip():
        return "(blank)"
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def _summary(r: SyncReport) -> str:
    if r.cancelled:
        return (
            f"The import was cancelled: the counts above are for the {r.applied:,} rows "
            f"applied; {r.remaining:,} were not. Import the same file again to apply the "
            "rest (what was applied counts as already done)."
        )
    if not r.rows:
        return "The file held no addresses; nothing was changed."
    changed = r.matched + r.new
    if not changed:
        return "Everyone in the file was already opted out or suppressed; nothing needed changing."
    return (
        f"{r.matched:,} {'prospect is' if r.matched == 1 else 'prospects are'} now opted out "
        "of email and will be left out of every email export."
    )


class UnsubscribeImport(QObject):
    """Choose a file, import it off the GUI thread, show the report.

    Once the file is applied (opt-outs and suppressions saved, also when a
    cancel kept some batches), it is said on ``bus`` as
    ``Change(MARKETING, SUPPRESSION)``; the task's ``succeeded`` carries the
    :class:`SyncReport`.
    """

    def __init__(self, ctx: Context, parent: QWidget, *, bus: ChangeBus | None = None) -> None:
        """``bus``: where the opt-outs are said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._parent = parent
        self.task: BackgroundTask | None = None
        self.report_dialog: SyncReportDialog | None = None

    def start(self) -> BackgroundTask | None:
        """Ask for a file and start importing it; None if no file was chosen."""
        path = messages.open_file(
            self._parent, "Import unsubscribes from the email tool", FILE_FILTERS
        )
        if not path:
            return None
        return self.import_file(path)

    def import_file(self, path: str) -> BackgroundTask:
        ctx = self._ctx

        def work(progress, should_cancel):
            return email_sync.import_unsubscribes(
                ctx, path, progress=progress, should_cancel=should_cancel
            )

        task = run_with_progress(
            self._parent, "Import unsubscribes", "Opting out the people in the file…", work
        )
        self.task = task
        task.succeeded.connect(self._succeeded)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        task.finished.connect(self._finished)
        return task

    @Slot(object)
    def _succeeded(self, report: SyncReport) -> None:
        # Opt-outs change what the detail pane and the marketing columns say.
        self.bus.publish(Change.of(Kind.MARKETING, Kind.SUPPRESSION))
        dialog = SyncReportDialog(report, self._parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._report_closed)
        self.report_dialog = dialog
        dialog.open()

    @Slot(str)
    def _failed(self, text: str) -> None:
        # The service's message says what was applied before the failure, if anything.
        messages.show_error(self._parent, text, "Unsubscribes not imported")

    @Slot()
    def _cancelled(self) -> None:
        # Cancelled while the file was still being checked, before any batch.
        messages.inform(self._parent, "Import cancelled", "Import cancelled; nothing was changed.")

    @Slot()
    def _finished(self) -> None:
        self.task = None

    @Slot()
    def _report_closed(self) -> None:
        self.report_dialog = None
