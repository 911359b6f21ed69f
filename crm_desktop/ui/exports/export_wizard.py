"""Export a campaign list: a four-step wizard, then the result.

1. channel and campaign, 2. filters, 3. preview (who is left out and why),
4. format and file, then *Export*. Marketing sends these files to the email
or ads tool, so the one thing that must never happen is a person who may
not be contacted ending up in one. The wizard therefore never writes a list
itself: *Export* calls ``services.exports.run_export``, which decides again,
afresh, who may be contacted and refuses if anyone's permissions changed
meanwhile. The preview only informs.

Both the preview and the export run off the GUI thread with a progress
dialog and Cancel; a cancelled export writes no file and records nothing.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from crm_desktop.domain.enums import Channel
from crm_desktop.services import exports
from crm_desktop.services.context import Context
from crm_desktop.services.exports import ExportRecord, ExportRequest
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.workers import BackgroundTask, StopsWorkOnReject, run_with_progress
from crm_desktop.ui.exports.export_models import (
    FORMAT_SUFFIXES,
    channel_label,
    exclusion_label,
    format_label,
    ordered_reasons,
)
from crm_desktop.ui.exports.export_pages import ChannelPage, FiltersPage, error_label, hint_label
from crm_desktop.ui.exports.export_preview import PreviewPage

FORMAT_TEXT = {
    "csv": "&Generic CSV",
    "mailchimp": "&Mailchimp-ready CSV",
    "xlsx": "E&xcel workbook (XLSX)",
}
FORMAT_FILTERS = {
    ".csv": "CSV files (*.csv);;All files (*)",
    ".xlsx": "Excel workbooks (*.xlsx);;All files (*)",
}
# Anything but letters, digits, "-", "_" and ".": safe on every system and in a URL.
_UNSAFE = re.compile(r"[^\w.-]+")
MAX_STEM = 80


def default_folder() -> Path:
    """Where a first export is offered: Documents, else the home folder."""
    return messages.documents_folder()


def default_file_name(campaign: str, day: date, suffix: str) -> str:
    """ "Spring term newsletter" on 3 Mar 2026 -> "Spring-term-newsletter-2026-03-03.csv"."""
    stem = "-".join(_UNSAFE.sub(" ", campaign).split()).strip(".-")[:MAX_STEM].strip(".-")
    return f"{stem or 'campaign'}-{day.isoformat()}{suffix}"


def unused_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name-2``, ``-3``... if a file of that name is there already."""
    path = folder / name
    stem, suffix = path.stem, path.suffix
    n = 2
    while path.exists() and n < 1000:
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


class OutputPage(QWizardPage):
    """Step 4, a commit page: the format and the file; *Export* writes it.

    The Mailchimp format is offered for email lists only. An existing file
    is never replaced (an export cannot destroy an earlier one).
    """

    def __init__(self, ctx: Context, folder: Path, today: date, parent=None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._folder = folder
        self._today = today
        self._task: BackgroundTask | None = None
        self._record: ExportRecord | None = None
        self._path_edited = False
        self.setTitle("Format and file")
        self.setSubTitle(
            "Choose the format and where to save the file. Export checks everyone again "
            "and writes only the people who may be contacted."
        )
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Export")

        box = QGroupBox("Format", self)
        box_layout = QVBoxLayout(box)
        self._format_group = QButtonGroup(self)
        self.format_buttons: dict[str, QRadioButton] = {}
        for fmt, text in FORMAT_TEXT.items():
            button = QRadioButton(text, box)
            button.setObjectName(f"format_{fmt}")
            button.toggled.connect(self._format_toggled)
            self._format_group.addButton(button)
            self.format_buttons[fmt] = button
            box_layout.addWidget(button)
        self.format_buttons["csv"].setChecked(True)
        self.columns_label = hint_label("", box)
        box_layout.addWidget(self.columns_label)

        self.path_edit = QLineEdit(self)
        self.path_edit.setObjectName("outputPath")
        self.path_edit.textEdited.connect(self._path_typed)
        self.choose_button = QPushButton("C&hoose…", self)
        self.choose_button.setObjectName("chooseFile")
        self.choose_button.clicked.connect(self.choose_file)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.choose_button)
        self.path_error = error_label(self, "error_path")
        self.status_label = QLabel(self)
        self.status_label.setObjectName("exportStatus")
        self.status_label.setWordWrap(True)
        self.expect_label = QLabel(self)
        self.expect_label.setObjectName("expectLabel")
        self.expect_label.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        file_label = QLabel("Save &to:", self)
        file_label.setBuddy(self.path_edit)
        form.addRow(file_label, path_row)
        form.addRow("", self.path_error)

        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addLayout(form)
        layout.addSpacing(8)
        layout.addWidget(self.expect_label)
        layout.addWidget(self.status_label)
        layout.addStretch(1)

    # ------------------------------------------------------------ values

    def format(self) -> str:
        return next(f for f, b in self.format_buttons.items() if b.isChecked())

    def offered_formats(self) -> list[str]:
        return [f for f, b in self.format_buttons.items() if not b.isHidden()]

    def set_format(self, fmt: str) -> None:
        self.format_buttons[fmt].setChecked(True)

    @property
    def record(self) -> ExportRecord | None:
        return self._record

    @property
    def task(self) -> BackgroundTask | None:
        """The export running now, if any."""
        return self._task

    def set_path(self, path: str | Path) -> None:
        """Save to ``path`` (as if typed)."""
        self.path_edit.setText(str(path))
        self._path_typed()

    @Slot()
    def choose_file(self) -> None:
        suffix = FORMAT_SUFFIXES[self.format()]
        # The dialog opens on the file offered (or typed) here, never the working folder.
        typed = self.path_edit.text().strip()
        start = Path(os.path.expanduser(typed)) if typed else None
        if start is not None and not start.is_absolute():
            start = self._folder / start
        if start is None or not start.parent.is_dir():
            start = unused_path(self._folder, self._default_name())
        path = messages.save_file(
            self, "Save the campaign list as", FORMAT_FILTERS[suffix], start=start
        )
        if path:
            self.set_path(path)
            # Chosen: Enter now exports (rather than opening the chooser again).
            self.wizard().button(QWizard.WizardButton.CommitButton).setFocus()

    # ------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        email = self.wizard().channel() is Channel.EMAIL
        self.format_buttons["mailchimp"].setVisible(email)
        if not email and self.format() == "mailchimp":
            self.set_format("csv")
        if not self._path_edited:
            self._set_default_path()
        self._update_columns()
        preview = self.wizard().preview_page.preview
        if preview is not None:
            n = len(preview.included)
            self.expect_label.setText(
                f"The preview found {n:,} {'person' if n == 1 else 'people'} who may be "
                "contacted. Export checks everyone again, so the file holds whoever may be "
                "contacted at that moment."
            )
        self.status_label.clear()
        self.path_error.hide()
        self.path_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def isComplete(self) -> bool:
        return self._task is None and bool(self.path_edit.text().strip())

    def validatePage(self) -> bool:
        """Start the export; the wizard moves on when it has been written."""
        if self._record is not None:
            return True
        if self._task is not None:
            return False
        path = self._target()
        if path is not None:
            self._start(path)
        return False

    # ----------------------------------------------------------- private

    def _default_name(self) -> str:
        return default_file_name(
            self.wizard().campaign(), self._today, FORMAT_SUFFIXES[self.format()]
        )

    def _set_default_path(self) -> None:
        self.path_edit.setText(str(unused_path(self._folder, self._default_name())))

    @Slot()
    def _path_typed(self) -> None:
        self._path_edited = True
        self.path_error.hide()
        self.completeChanged.emit()

    @Slot(bool)
    def _format_toggled(self, checked: bool) -> None:
        if not checked or self.wizard() is None:
            return
        suffix = FORMAT_SUFFIXES[self.format()]
        text = self.path_edit.text().strip()
        if not self._path_edited:
            self._set_default_path()
        elif text and Path(text).suffix.lower() in (*FORMAT_FILTERS, ""):
            self.path_edit.setText(str(Path(text).with_suffix(suffix)))
        self._update_columns()

    def _update_columns(self) -> None:
        wizard = self.wizard()
        request = wizard.request(format=self.format())
        columns = exports.columns_for(request, wizard.channel())
        note = {
            "csv": "A plain CSV file (UTF-8) that any email or ads tool can import.",
            "mailchimp": "Import it in Mailchimp with Audience › Add contacts › Import contacts; "
            "the campaign name becomes a tag.",
            "xlsx": "An Excel workbook; every cell is text.",
        }[self.format()]
        self.columns_label.setText(f"{note}\nColumns: {', '.join(columns)}.")

    def _target(self) -> Path | None:
        """The file to write, or None after saying what is wrong with the name."""
        text = self.path_edit.text().strip()
        problem = ""
        path = Path(os.path.expanduser(text)) if text else None
        if path is None:
            problem = "Choose where to save the file."
        else:
            if not path.is_absolute():
                path = self._folder / path
            if not path.suffix:
                path = path.with_suffix(FORMAT_SUFFIXES[self.format()])
            if path.is_dir():
                problem = f"{path} is a folder; add a file name."
            elif not path.parent.is_dir():
                problem = f"The folder {path.parent} does not exist."
            elif path.exists():
                problem = (
                    f"{path.name} already exists there. Choose another name: "
                    "an export never replaces a file."
                )
            elif not os.access(path.parent, os.W_OK):
                problem = f"You cannot save files in {path.parent}."
        if problem:
            self.path_error.setText(problem)
            self.path_error.show()
            self.path_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return None
        self.path_error.hide()
        return path

    def _start(self, path: Path) -> None:
        ctx = self._ctx
        request = self.wizard().request(format=self.format())

        def work(progress, should_cancel):
            return exports.run_export(
                ctx, request, path, progress=progress, should_cancel=should_cancel
            )

        self.status_label.setText(f"Writing {path.name}…")
        task = run_with_progress(
            self.wizard(), "Export", "Checking everyone again and writing the file…", work
        )
        self._task = task
        task.succeeded.connect(self._exported)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        task.finished.connect(self._task_finished)
        self.completeChanged.emit()

    @Slot(object)
    def _exported(self, record: ExportRecord) -> None:
        self._record = record
        self.status_label.clear()
        wizard = self.wizard()
        wizard.bus.publish(Change.of(Kind.EXPORTS, ids=(record.id,), select=record.id))
        wizard.next()

    @Slot(str)
    def _failed(self, text: str) -> None:
        self.status_label.setText(
            f"Not exported: {text}\nNo file was written. Click Export to try again."
        )
        messages.show_error(self.wizard(), text, "The campaign list was not exported")

    @Slot()
    def _cancelled(self) -> None:
        self.status_label.setText("Export cancelled: no file was written and nothing was recorded.")

    @Slot()
    def _task_finished(self) -> None:
        self._task = None
        self.completeChanged.emit()


class ResultPage(QWizardPage):
    """The outcome: who was included and left out, the file and its SHA-256."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTitle("Exported")
        self.setSubTitle("The campaign list was written and the export recorded.")
        self.included_label = self._value("resultIncluded")
        self.excluded_label = self._value("resultExcluded")
        self.campaign_label = self._value("resultCampaign")
        self.reasons_label = self._value("resultReasons")
        self.file_label = self._value("resultFile")
        self.sha_label = self._value("resultSha256")
        self.sha_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.empty_note = QLabel(self)
        self.empty_note.setObjectName("resultEmptyNote")
        self.empty_note.setProperty("formError", True)
        self.empty_note.setWordWrap(True)
        self.empty_note.hide()
        self.open_file_button = QPushButton("&Open file", self)
        self.open_file_button.setObjectName("openFile")
        self.open_file_button.clicked.connect(lambda: self._open(folder=False))
        self.open_folder_button = QPushButton("Open fol&der", self)
        self.open_folder_button.setObjectName("openFolder")
        self.open_folder_button.clicked.connect(lambda: self._open(folder=True))
        for button in (self.open_file_button, self.open_folder_button):
            button.setAutoDefault(False)  # Enter still closes the wizard
        self._path: str | None = None
        open_row = QHBoxLayout()
        open_row.addWidget(self.open_file_button)
        open_row.addWidget(self.open_folder_button)
        open_row.addStretch(1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Campaign:", self.campaign_label)
        form.addRow("Included:", self.included_label)
        form.addRow("Left out:", self.excluded_label)
        form.addRow("Reasons:", self.reasons_label)
        form.addRow("File:", self.file_label)
        form.addRow("SHA-256:", self.sha_label)
        form.addRow("", open_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addSpacing(8)
        layout.addWidget(self.empty_note)
        layout.addWidget(
            hint_label(
                "The export is listed under View › Exports (Ctrl+4), with the people in it.",
                self,
            )
        )
        layout.addStretch(1)

    def _value(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        return label

    def initializePage(self) -> None:
        record = self.wizard().record
        if record is not None:
            self.show_record(record)
        # Enter closes; the open buttons are a Tab (or Alt+O, Alt+D) away.
        self.wizard().button(QWizard.WizardButton.FinishButton).setFocus()

    def _open(self, *, folder: bool) -> None:
        if self._path:
            messages.open_location(self, self._path, folder=folder)

    def show_record(self, r: ExportRecord) -> None:
        self._path = r.file_name
        personal = ", personalised" if r.personalised else ""
        self.campaign_label.setText(
            f"{' '.join(r.campaign.split())} ({channel_label(r.channel)}{personal}, "
            f"{format_label(r.format)})"
        )
        self.included_label.setText(_people(r.included))
        self.excluded_label.setText(_people(r.excluded))
        reasons = [f"{exclusion_label(k)}: {v:,}" for k, v in ordered_reasons(r.exclusions)]
        if len(reasons) > 1:
            reasons.append("(Someone can be left out for several reasons.)")
        self.reasons_label.setText("\n".join(reasons) if reasons else "Nobody was left out.")
        self.file_label.setText(r.file_name)
        self.sha_label.setText(r.sha256)
        self.empty_note.setVisible(r.included == 0)
        self.empty_note.setText(
            "Nobody could be included, so a file with only the header row was written."
        )


def _people(n: int) -> str:
    return f"{n:,} {'person' if n == 1 else 'people'}"


class ExportWizard(StopsWorkOnReject, QWizard):
    """Export a campaign list, step by step.

    ``folder`` is where the file is offered (default: Documents); ``today``
    dates the default file name. Esc or Cancel while the preview or export
    runs cancels the work first, then closes.

    A list written and recorded is said on ``bus`` (the window's) as
    ``Change(EXPORTS, ids={id}, select=id)``, once, before the result page
    shows; :attr:`record` is then the export.
    """

    CHANNEL_PAGE, FILTERS_PAGE, PREVIEW_PAGE, OUTPUT_PAGE, RESULT_PAGE = range(5)

    def __init__(
        self,
        ctx: Context,
        parent: QWidget | None = None,
        *,
        folder: str | Path | None = None,
        today: date | None = None,
        bus: ChangeBus | None = None,
    ) -> None:
        super().__init__(parent)
        self.bus = bus_for(self, bus)
        self.setObjectName("exportWizard")
        self.setWindowTitle("Export campaign list")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Close")
        target = Path(folder) if folder else default_folder()
        self.channel_page = ChannelPage(self)
        self.filters_page = FiltersPage(ctx, self)
        self.preview_page = PreviewPage(ctx, self)
        self.output_page = OutputPage(ctx, target, today or date.today(), self)
        self.result_page = ResultPage(self)
        for page_id, page in (
            (self.CHANNEL_PAGE, self.channel_page),
            (self.FILTERS_PAGE, self.filters_page),
            (self.PREVIEW_PAGE, self.preview_page),
            (self.OUTPUT_PAGE, self.output_page),
            (self.RESULT_PAGE, self.result_page),
        ):
            self.setPage(page_id, page)
        self.setStartId(self.CHANNEL_PAGE)
        self.resize(880, 660)

    # ------------------------------------------------------------ values

    def channel(self) -> Channel:
        return self.channel_page.channel()

    def campaign(self) -> str:
        return self.channel_page.campaign()

    def request(self, *, format: str | None = None) -> ExportRequest:
        """What the user asked for so far (``format`` from the output page by default)."""
        return ExportRequest(
            channel=self.channel().value,
            campaign=self.campaign(),
            format=format or self.output_page.format(),
            purpose=self.channel_page.purpose(),
            personalised=self.channel_page.personalised(),
            filters=self.filters_page.filters(),
        )

    @property
    def record(self) -> ExportRecord | None:
        """The export written by this wizard, once it has been."""
        return self.output_page.record

    def running_task(self) -> BackgroundTask | None:
        return self.output_page.task or self.preview_page.task
