"""Choose a person's lawful basis for marketing.

Consent needs nothing more here (it is recorded per channel, with evidence,
under Record consent). Legitimate interest needs a written note: a reusable
assessment, a note about this person, or both; the service refuses it
without either and the message appears beside the note. Individual
subscribers (personal email) still need consent for email and SMS, which
the dialog says so nobody is surprised by the channel grid afterwards.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.enums import LawfulBasis, SubscriberType
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import CrmError
from crm_desktop.reports.marketing_text import with_labels
from crm_desktop.services import assessments as assessment_service
from crm_desktop.services import marketing
from crm_desktop.services.context import Context
from crm_desktop.services.marketing import MarketingView
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import LOADING_TEXT, Reader
from crm_desktop.ui.marketing.assessments_dialog import AssessmentsDialog, pick_label
from crm_desktop.ui.marketing.consent_dialog import raw_text

FIELDS = ("basis", "assessment", "note")
LABELS = {"basis": "The basis", "assessment": "The assessment", "note": "The note"}
EXPLAIN = {
    LawfulBasis.NONE: "Not marketed to, except on channels they have consented to.",
    LawfulBasis.CONSENT: "Marketed only on the channels they consented to "
    "(use Record consent… to add the evidence).",
    LawfulBasis.LEGITIMATE_INTEREST: "Marketed without consent because it is necessary and "
    "fair: needs a written assessment or a note. They can object at any time.",
}


NO_ASSESSMENT = "No assessment (write a note)"


class BasisDialog(QDialog):
    """Set the lawful basis (and for legitimate interest, the note behind it).

    Once saved, ``view`` is the :class:`MarketingView` after it and the dialog
    is accepted. An assessment written meanwhile (``Change(ASSESSMENTS,
    select=id)`` on ``bus``, e.g. from Manage…) is picked for the person.
    """

    def __init__(
        self,
        ctx: Context,
        prospect: ProspectView,
        view: MarketingView,
        parent=None,
        *,
        bus: ChangeBus | None = None,
    ):
        """``bus``: the window's, where assessments written meanwhile are said."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.bus.changed.connect(self._bus_changed)
        self._prospect = prospect
        self._current = view
        self.view: MarketingView | None = None
        self.setObjectName("basisDialog")
        self.setWindowTitle(f"Lawful basis for {prospect.full_name}")
        self.setMinimumWidth(500)

        heading = QLabel(f"Lawful basis for marketing to {prospect.full_name}", self)
        heading.setObjectName("dialogHeading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        general = QLabel(self)
        general.setObjectName("formError")
        self._errors = messages.FormErrors(form, FIELDS, general)

        choices = QWidget(self)
        column = QVBoxLayout(choices)
        column.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        for basis in LawfulBasis:
            radio = QRadioButton(basis.label, choices)
            explain = QLabel(EXPLAIN[basis], choices)
            explain.setObjectName("hint")
            explain.setWordWrap(True)
            explain.setIndent(22)
            column.addWidget(radio)
            column.addWidget(explain)
            self.group.addButton(radio)
            self.radios[basis.value] = radio
            radio.toggled.connect(self._basis_changed)
        form.addRow("Basis", choices)
        self._errors.add("basis", self.radios[LawfulBasis.NONE.value])

        picker = QWidget(self)
        row = QHBoxLayout(picker)
        row.setContentsMargins(0, 0, 0, 0)
        self.assessment = QComboBox(picker)
        self.assessment.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.assessment.setMinimumContentsLength(18)
        self.manage_button = QPushButton("&Manage…", picker)
        self.manage_button.setToolTip("Read or write legitimate-interest assessments")
        self.manage_button.setAutoDefault(False)
        self.manage_button.clicked.connect(self.manage_assessments)
        row.addWidget(self.assessment, 1)
        row.addWidget(self.manage_button)
        form.addRow("&Assessment", picker)
        self._errors.add("assessment", self.assessment)

        self.note = QPlainTextEdit(self)
        self.note.setObjectName("note")
        self.note.setTabChangesFocus(True)
        self.note.setPlaceholderText(
            "Why marketing to this person is necessary and fair, e.g. “Asked at the Bett "
            "stand for details of our SEND tools”. Optional when an assessment is chosen."
        )
        self.note.setMinimumHeight(70)
        form.addRow("&Note", self.note)
        self._errors.add("note", self.note)

        self.individual_notice = QLabel(self)
        self.individual_notice.setObjectName("hint")
        self.individual_notice.setWordWrap(True)
        if view.subscriber_type == SubscriberType.INDIVIDUAL.value:
            self.individual_notice.setText(
                "They are an individual subscriber (personal email): email and SMS "
                "marketing still needs their consent, whatever the basis."
            )
        else:
            self.individual_notice.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(general)
        layout.addLayout(form)
        layout.addWidget(self.individual_notice)
        layout.addWidget(self.buttons)

        self._assessments_reader = Reader(
            self, cover=None, error_title="Could not load the assessments"
        )
        self.reload_assessments(view.li_assessment_id)
        self.note.setPlainText(view.li_note or "")
        self.radios.get(view.lawful_basis, self.radios[LawfulBasis.NONE.value]).setChecked(True)
        self._basis_changed()

    # -------------------------------------------------------------- state

    def basis(self) -> str:
        return next(value for value, radio in self.radios.items() if radio.isChecked())

    def set_basis(self, value: str) -> None:
        self.radios[LawfulBasis.parse(value).value].setChecked(True)

    def choose_assessment(self, assessment_id: int | None) -> bool:
        index = self.assessment.findData(assessment_id)
        if index >= 0:
            self.assessment.setCurrentIndex(index)
        return index >= 0

    def reload_assessments(self, select_id: int | None = None) -> None:
        """Refill the picker (after an assessment was written), keeping the choice.

        The list is read on a worker; meanwhile the picker holds the choice
        (under its name when it is the person's own assessment, else
        "Loading…"), so saving at once keeps it.
        """
        if select_id is None:
            select_id = self.assessment.currentData()
        if self.assessment.count() == 0:
            self.assessment.addItem(NO_ASSESSMENT, None)
        if select_id is not None and self.assessment.findData(select_id) < 0:
            own = select_id == self._current.li_assessment_id and self._current.li_assessment_name
            self.assessment.addItem(own or LOADING_TEXT, select_id)
        self.choose_assessment(select_id)
        ctx = self._ctx
        self._assessments_reader.read(
            lambda: assessment_service.list_assessments(ctx),
            self._fill_assessments,
            failed=self._assessments_not_read,
        )

    def _fill_assessments(self, assessments: list) -> None:
        keep = self.assessment.currentData()  # what was chosen, maybe while they were read
        self.assessment.clear()
        self.assessment.addItem(NO_ASSESSMENT, None)
        for a in assessments:
            self.assessment.addItem(pick_label(a), a.id)
            self.assessment.setItemData(
                self.assessment.count() - 1, a.purpose, Qt.ItemDataRole.ToolTipRole
            )
        self.choose_assessment(keep)

    def _assessments_not_read(self, _error: CrmError) -> bool:
        # The message says why; a choice held meanwhile stays chosen (and is saved).
        index = self.assessment.findText(LOADING_TEXT)
        if index >= 0:
            self.assessment.setItemText(index, "The chosen assessment (list not read)")
        return False

    def errors(self) -> dict[str, str]:
        return self._errors.shown()

    def manage_assessments(self) -> AssessmentsDialog:
        dialog = AssessmentsDialog(self._ctx, self, bus=self.bus)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _bus_changed(self, change: Change) -> None:
        # A new assessment was written (from Manage…): pick it for this person.
        if Kind.ASSESSMENTS in change.kinds:
            self.reload_assessments(change.select)

    def _basis_changed(self) -> None:
        if not any(radio.isChecked() for radio in self.radios.values()):
            return
        li = self.basis() == LawfulBasis.LEGITIMATE_INTEREST.value
        for widget in (self.assessment, self.manage_button, self.note):
            widget.setEnabled(li)

    # --------------------------------------------------------------- save

    def accept(self) -> None:
        self._errors.clear()
        basis = self.basis()
        li = basis == LawfulBasis.LEGITIMATE_INTEREST.value
        if (
            not li
            and self._current.lawful_basis == LawfulBasis.LEGITIMATE_INTEREST.value
            and (self._current.li_note or self._current.li_assessment_id)
            and not messages.ask(
                self,
                "Change the lawful basis",
                f"Stop relying on legitimate interest for {self._prospect.full_name}?\n\n"
                "Their assessment link and note are removed (the consent history keeps "
                "a record of them).",
            )
        ):
            return
        try:
            view = marketing.set_lawful_basis(
                self._ctx,
                self._prospect.id,
                basis,
                li_assessment_id=self.assessment.currentData() if li else None,
                note=raw_text(self.note) if li else None,
            )
        except ValidationError as exc:
            self._errors.show(with_labels(exc.errors, LABELS))
            return
        except CrmError as exc:
            messages.show_error(self, exc, "Could not set the lawful basis")
            return
        self.view = view
        super().accept()
