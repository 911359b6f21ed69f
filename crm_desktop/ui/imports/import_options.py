"""Step 4 of the import wizard: the batch's source, lawful basis and policies, then Import.

A commit page: *Import* runs ``services.imports.run_import`` on a worker
thread with a progress dialog and Cancel. A batch is all or nothing, so a
Cancel (or a failure) imports nothing, and the page says so. What is
missing (the source, consent's evidence, legitimate interest's reason) is
said under its field before anything runs; the service checks again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from crm_desktop.domain.enums import Channel, LawfulBasis
from crm_desktop.domain.roles import Action
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import Cancelled, CrmError
from crm_desktop.services import assessments as assessment_service
from crm_desktop.services import imports
from crm_desktop.services.context import Context
from crm_desktop.services.gc_pause import gc_paused
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress
from crm_desktop.ui.imports.import_models import shortened
from crm_desktop.ui.imports.import_pages import error_label, hint_label, value_label

MAX_SOURCE = 200
BASIS_TEXT = {
    LawfulBasis.CONSENT.value: "&Consent",
    LawfulBasis.LEGITIMATE_INTEREST.value: "&Legitimate interest",
    LawfulBasis.NONE.value: "N&one recorded yet",
}
NO_BASIS_WARNING = (
    "They are imported, but nobody on this list can be exported for marketing until "
    "someone records a lawful basis for them."
)
DUPLICATE_TEXT = {
    "keep": (
        "&Keep what we have",
        "Only new people are added; existing ones are left as they are.",
    ),
    "fill": ("Fill &blanks", "Existing people keep their values; empty fields are filled in."),
    "overwrite": ("O&verwrite", "The file's values replace ours where the file has one."),
}
SUPPRESSED_TEXT = {
    "opt-out": ("Import them as &opted out", "They are added or updated, never marketable."),
    "skip": ("&Skip them", "They are left out, and counted in the report."),
}


class OptionsPage(QWizardPage):
    """Step 4, a commit page: where the people came from and why we may market to them."""

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._task: BackgroundTask | None = None
        self._report: imports.ImportReport | None = None
        self.setTitle("Source and lawful basis")
        self.setSubTitle(
            "Every imported person records where they came from, when and who imported "
            "them; their subject access pack shows it."
        )
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Import")

        self.source = QLineEdit(self)
        self.source.setObjectName("source")
        self.source.setMaxLength(MAX_SOURCE)
        self.source.setPlaceholderText("e.g. Bett 2026 stand sign-ups")
        self.source.textChanged.connect(self._source_changed)
        self.source_error = error_label(self, "sourceError")

        basis_box = QGroupBox("Lawful basis for marketing to them", self)
        basis_layout = QVBoxLayout(basis_box)
        self._basis_group = QButtonGroup(self)
        self.basis_buttons: dict[str, QRadioButton] = {}
        for basis, text in BASIS_TEXT.items():
            button = QRadioButton(text, basis_box)
            button.setObjectName(f"basis_{basis}")
            button.toggled.connect(self._basis_toggled)
            self._basis_group.addButton(button)
            self.basis_buttons[basis] = button

        self.consent_panel = QWidget(basis_box)
        consent_form = QFormLayout(self.consent_panel)
        consent_form.setContentsMargins(22, 0, 0, 6)
        self.wording = QPlainTextEdit(self.consent_panel)
        self.wording.setObjectName("consentWording")
        self.wording.setTabChangesFocus(True)
        self.wording.setPlaceholderText(
            "e.g. “Tick to hear about our products by email” (ticked on the sign-up sheet)"
        )
        self.wording.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 14)
        self.wording.textChanged.connect(lambda: self.wording_error.hide())
        self.wording_error = error_label(self.consent_panel, "wordingError")
        self.policy_version = QLineEdit(self.consent_panel)
        self.policy_version.setObjectName("policyVersion")
        self.policy_version.setPlaceholderText("Optional, e.g. v3 or 2026-01")
        channels = QWidget(self.consent_panel)
        channel_row = QHBoxLayout(channels)
        channel_row.setContentsMargins(0, 0, 0, 0)
        self.channel_checks: dict[str, QCheckBox] = {}
        for channel in Channel:
            check = QCheckBox(channel.label, channels)
            check.setObjectName(f"channel_{channel.value}")
            check.setChecked(channel is Channel.EMAIL)
            check.toggled.connect(lambda _on: self.channels_error.hide())
            self.channel_checks[channel.value] = check
            channel_row.addWidget(check)
        channel_row.addStretch(1)
        self.channels_error = error_label(self.consent_panel, "channelsError")
        told = QLabel("What they were &told:", self.consent_panel)
        told.setBuddy(self.wording)
        consent_form.addRow(told, self.wording)
        consent_form.addRow("", self.wording_error)
        version = QLabel("Privacy notice &version:", self.consent_panel)
        version.setBuddy(self.policy_version)
        consent_form.addRow(version, self.policy_version)
        consent_form.addRow("Channels:", channels)
        consent_form.addRow("", self.channels_error)

        self.li_panel = QWidget(basis_box)
        li_form = QFormLayout(self.li_panel)
        li_form.setContentsMargins(22, 0, 0, 6)
        self.assessment = QComboBox(self.li_panel)
        self.assessment.setObjectName("assessment")
        self.assessment.addItem("No assessment", None)
        self.li_note = QPlainTextEdit(self.li_panel)
        self.li_note.setObjectName("liNote")
        self.li_note.setTabChangesFocus(True)
        self.li_note.setPlaceholderText(
            "Why marketing to them is necessary and fair, e.g. “Asked at our stand for "
            "details of our SEND tools”. Optional when an assessment is chosen."
        )
        self.li_note.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 14)
        self.li_note.textChanged.connect(lambda: self.li_error.hide())
        self.assessment.currentIndexChanged.connect(lambda _i: self.li_error.hide())
        self.li_error = error_label(self.li_panel, "liError")
        assessment_label = QLabel("&Assessment:", self.li_panel)
        assessment_label.setBuddy(self.assessment)
        li_form.addRow(assessment_label, self.assessment)
        note_label = QLabel("&Note:", self.li_panel)
        note_label.setBuddy(self.li_note)
        li_form.addRow(note_label, self.li_note)
        li_form.addRow("", self.li_error)

        self.none_warning = QLabel(NO_BASIS_WARNING, basis_box)
        self.none_warning.setObjectName("noBasisWarning")
        self.none_warning.setProperty("notice", True)
        self.none_warning.setWordWrap(True)

        basis_layout.addWidget(self.basis_buttons[LawfulBasis.CONSENT.value])
        basis_layout.addWidget(self.consent_panel)
        basis_layout.addWidget(self.basis_buttons[LawfulBasis.LEGITIMATE_INTEREST.value])
        basis_layout.addWidget(self.li_panel)
        basis_layout.addWidget(self.basis_buttons[LawfulBasis.NONE.value])
        basis_layout.addWidget(self.none_warning)

        self.duplicate_buttons = self._choices(
            "Someone with the same email address is already here", DUPLICATE_TEXT, "fill", "dup"
        )
        self.suppressed_buttons = self._choices(
            "Suppressed, opted-out or objecting addresses", SUPPRESSED_TEXT, "opt-out", "supp"
        )

        self.status_label = value_label(self, "importStatus")

        source_form = QFormLayout()
        source_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        source_label = QLabel("&Source:", self)
        source_label.setBuddy(self.source)
        source_form.addRow(source_label, self.source)
        source_form.addRow("", self.source_error)

        content = QWidget(self)
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(source_form)
        column.addWidget(basis_box)
        policies = QHBoxLayout()
        policies.addWidget(self._duplicate_box, 1)
        policies.addWidget(self._suppressed_box, 1)
        column.addLayout(policies)
        column.addWidget(self.status_label)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setObjectName("optionsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self.basis_buttons[LawfulBasis.NONE.value].setChecked(True)
        if not ctx.may(Action.MANAGE_CONSENT):
            # Recording consent or a basis is marketing's right (the service refuses it too).
            for basis in (LawfulBasis.CONSENT.value, LawfulBasis.LEGITIMATE_INTEREST.value):
                self.basis_buttons[basis].setEnabled(False)
                self.basis_buttons[basis].setToolTip(
                    "Only marketing, managers and admins may record consent or legitimate "
                    "interest; import with none, and ask them to record it."
                )
        self._basis_toggled()
        self._reader = Reader(self, cover=None)

    def _choices(
        self, title: str, texts: dict, default: str, prefix: str
    ) -> dict[str, QRadioButton]:
        box = QGroupBox(title, self)
        column = QVBoxLayout(box)
        group = QButtonGroup(self)
        buttons: dict[str, QRadioButton] = {}
        for key, (text, hint) in texts.items():
            button = QRadioButton(text, box)
            button.setObjectName(f"{prefix}_{key}")
            button.setChecked(key == default)
            group.addButton(button)
            explain = hint_label(hint, box)
            explain.setIndent(22)
            column.addWidget(button)
            column.addWidget(explain)
            buttons[key] = button
        if prefix == "dup":
            self._duplicate_box = box
        else:
            self._suppressed_box = box
        return buttons

    # ------------------------------------------------------------ values

    def basis(self) -> str:
        return next(b for b, button in self.basis_buttons.items() if button.isChecked())

    def set_basis(self, basis: str) -> None:
        self.basis_buttons[basis].setChecked(True)

    def on_duplicate(self) -> str:
        return next(k for k, b in self.duplicate_buttons.items() if b.isChecked())

    def on_suppressed(self) -> str:
        return next(k for k, b in self.suppressed_buttons.items() if b.isChecked())

    def options(self) -> imports.ImportOptions:
        """What the person chose, as the service takes it."""
        wizard = self.wizard()
        basis = self.basis()
        consent = basis == LawfulBasis.CONSENT.value
        li = basis == LawfulBasis.LEGITIMATE_INTEREST.value
        return imports.ImportOptions(
            source=" ".join(self.source.text().split()),
            basis=basis,
            consent_wording=(self.wording.toPlainText().strip() or None) if consent else None,
            policy_version=(self.policy_version.text().strip() or None) if consent else None,
            consent_channels=tuple(c for c, b in self.channel_checks.items() if b.isChecked())
            if consent
            else ("email",),
            li_note=(self.li_note.toPlainText().strip() or None) if li else None,
            li_assessment_id=self.assessment.currentData() if li else None,
            on_duplicate=self.on_duplicate(),
            on_suppressed=self.on_suppressed(),
            fmt=wizard.fmt(),
            sheet=wizard.sheet(),
            mapping=wizard.mapping(),
        )

    @property
    def report(self) -> imports.ImportReport | None:
        return self._report

    @property
    def task(self) -> BackgroundTask | None:
        """The import running now, if any."""
        return self._task

    # ------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        ctx = self._ctx
        self._reader.read(
            lambda: assessment_service.list_assessments(ctx),
            self._fill_assessments,
            failed=lambda _error: True,  # the combo keeps "No assessment"; the note still works
        )
        self.status_label.clear()
        self.source.setFocus(Qt.FocusReason.OtherFocusReason)

    def isComplete(self) -> bool:
        return self._task is None

    def validatePage(self) -> bool:
        """Start the import; the wizard moves on to the report when it is done."""
        if self._report is not None:
            return True
        if self._task is None and self._check():
            self._start()
        return False

    # ----------------------------------------------------------- private

    def _fill_assessments(self, assessments) -> None:
        current = self.assessment.currentData()
        self.assessment.blockSignals(True)
        self.assessment.clear()
        self.assessment.addItem("No assessment", None)
        for a in assessments:
            self.assessment.addItem(a.name, a.id)
        self.assessment.setCurrentIndex(max(self.assessment.findData(current), 0))
        self.assessment.blockSignals(False)

    @Slot()
    def _source_changed(self) -> None:
        self.source_error.hide()

    @Slot()
    def _basis_toggled(self, *_args) -> None:
        basis = self.basis()
        self.consent_panel.setVisible(basis == LawfulBasis.CONSENT.value)
        self.li_panel.setVisible(basis == LawfulBasis.LEGITIMATE_INTEREST.value)
        self.none_warning.setVisible(basis == LawfulBasis.NONE.value)

    def _check(self) -> bool:
        """Say under each field what is missing; True when nothing is."""
        first: QWidget | None = None

        def problem(label: QLabel, text: str, widget: QWidget) -> None:
            nonlocal first
            label.setText(text)
            label.show()
            first = first or widget

        if not self.source.text().strip():
            problem(
                self.source_error,
                "Say where these people came from, e.g. the event or the list's owner.",
                self.source,
            )
        basis = self.basis()
        if basis == LawfulBasis.CONSENT.value:
            if not self.wording.toPlainText().strip():
                problem(
                    self.wording_error,
                    "Consent needs its evidence: what they were told when they agreed.",
                    self.wording,
                )
            if not any(b.isChecked() for b in self.channel_checks.values()):
                problem(
                    self.channels_error,
                    "Tick the channels they agreed to.",
                    self.channel_checks["email"],
                )
        if (
            basis == LawfulBasis.LEGITIMATE_INTEREST.value
            and self.assessment.currentData() is None
            and not self.li_note.toPlainText().strip()
        ):
            problem(
                self.li_error,
                "Legitimate interest needs a written reason: choose an assessment or write a note.",
                self.li_note,
            )
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
            return False
        return True

    def _start(self) -> None:
        ctx = self._ctx
        path = self.wizard().path()
        options = self.options()

        def work(progress, should_cancel):
            try:
                with gc_paused():
                    return imports.run_import(
                        ctx,
                        path,
                        options,
                        progress=lambda done, total: progress(done, total or 0),
                        cancelled=should_cancel,
                    )
            except imports.ImportCancelled as exc:
                raise Cancelled(str(exc)) from exc
            except ValidationError as exc:
                text = " ".join(messages.field_message(k, v) for k, v in exc.errors.items())
                raise CrmError(text) from exc

        doing = f"Importing {shortened(path.name)}…"
        self.status_label.setText(doing)
        task = run_with_progress(self.wizard(), "Import contacts", doing, work)
        self._task = task
        task.succeeded.connect(self._imported)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        task.finished.connect(self._task_finished)
        self.completeChanged.emit()

    @Slot(object)
    def _imported(self, report: imports.ImportReport) -> None:
        self._report = report
        self.status_label.clear()
        wizard = self.wizard()
        kinds = (Kind.PROSPECTS, Kind.SCHOOLS, Kind.INTERESTS, Kind.MARKETING)
        # No person to select: the list would have to find the row of one of
        # thousands of new people with a query over every row, on the GUI
        # thread, while the report shows. The list keeps what it shows;
        # "Show imported" brings the batch, its first person selected.
        wizard.bus.publish(Change.of(*kinds, ids=tuple(report.prospect_ids)))
        wizard.next()

    @Slot(str)
    def _failed(self, text: str) -> None:
        self.status_label.setText(
            f"Not imported: {text}\nNothing from this file was saved. Click Import to try again."
        )
        messages.show_error(self.wizard(), text, "The contacts were not imported")

    @Slot()
    def _cancelled(self) -> None:
        self.status_label.setText("Import cancelled: nothing from this file was imported.")

    @Slot()
    def _task_finished(self) -> None:
        self._task = None
        self.completeChanged.emit()
