"""Add or edit a school (establishment).

Validation lives in ``domain.validation``; this form only shows its verdict:
each message beside the field it is about, focus on the first bad field,
and what the user typed left as it was, so fixing one typo is one edit.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.enums import SchoolPhase
from crm_desktop.domain.validation import SchoolInput, ValidationError, field_label
from crm_desktop.errors import CrmError
from crm_desktop.services import schools
from crm_desktop.services.context import Context
from crm_desktop.services.results import SchoolView

# Validator messages that read as the end of a sentence starting with the
# field's label: "is required" -> "Name is required".
_PREDICATES = ("is ", "are ", "cannot ", "must ", "contains ", "has ", "needs ")

# Form order: also the order errors are looked at for focus.
FIELDS = ("name", "urn", "phase", "local_authority", "postcode", "phone", "website")


def error_text(field: str, message: str) -> str:
    """A validator message as a sentence a person reads beside the field."""
    if message.startswith(_PREDICATES):
        return f"{field_label(field)} {message}."
    return message[:1].upper() + message[1:]


def _message(parent: QWidget, level: str, title: str, text: str) -> None:
    icon = QMessageBox.Icon.Warning if level == "error" else QMessageBox.Icon.Information
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.exec()


class SchoolDialog(QDialog):
    """The school form. After ``accept()``, ``saved`` is the stored school.

    Nothing is written unless the whole form is valid; on a conflict or a
    duplicate URN the dialog stays open with the input intact.
    """

    # Seam for tests: ``message(parent, level, title, text)`` with level
    # "error" or "info" shows a message box.
    message = staticmethod(_message)

    def __init__(
        self, ctx: Context, school: SchoolView | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._school = school
        self.saved: SchoolView | None = None
        self.setWindowTitle(f"Edit school — {school.name}" if school else "Add school")
        self.setMinimumWidth(460)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Required, e.g. Oakfield Primary School")
        self.urn_edit = QLineEdit()
        self.urn_edit.setPlaceholderText("Optional: six digits, e.g. 100000")
        self.urn_edit.setMaxLength(20)
        self.phase_combo = QComboBox()
        self.phase_combo.addItem("Not set", None)
        for phase in SchoolPhase:
            self.phase_combo.addItem(phase.label, phase.value)
        self.local_authority_edit = QLineEdit()
        self.local_authority_edit.setPlaceholderText("e.g. Kent")
        self.postcode_edit = QLineEdit()
        self.postcode_edit.setPlaceholderText("e.g. CT1 2AB")
        self.phone_edit = QLineEdit()
        self.phone_edit.setPlaceholderText("e.g. 01632 960000")
        self.website_edit = QLineEdit()
        self.website_edit.setPlaceholderText("e.g. www.oakfield.kent.sch.uk")

        self.editors: dict[str, QWidget] = {
            "name": self.name_edit,
            "urn": self.urn_edit,
            "phase": self.phase_combo,
            "local_authority": self.local_authority_edit,
            "postcode": self.postcode_edit,
            "phone": self.phone_edit,
            "website": self.website_edit,
        }
        self.error_labels: dict[str, QLabel] = {}

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for field in FIELDS:
            form.addRow(self._field_label(field), self._field_with_error(field))

        # Errors about no particular field (or one the form does not show).
        self.general_error = QLabel()
        self._style_error(self.general_error)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        chain = [self.editors[f] for f in FIELDS] + [
            self.save_button,
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel),
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

        if school is not None:
            self._load(school)
        self.name_edit.setFocus()

    # ------------------------------------------------------------ public

    def school_input(self) -> SchoolInput:
        """What the user typed, as the validator takes it."""
        return SchoolInput(
            name=self.name_edit.text(),
            urn=self.urn_edit.text(),
            phase=self.phase_combo.currentData(),
            local_authority=self.local_authority_edit.text(),
            postcode=self.postcode_edit.text(),
            phone=self.phone_edit.text(),
            website=self.website_edit.text(),
        )

    def field_error(self, field: str) -> str:
        """The message shown beside ``field`` ("" when none; for tests and a11y)."""
        label = self.error_labels.get(field)
        return label.text() if label is not None and not label.isHidden() else ""

    @Slot()
    def save(self) -> None:
        """Validate and store; accept on success, otherwise show why and stay."""
        self._clear_errors()
        data = self.school_input()
        try:
            if self._school is None:
                result = schools.create_school(self._ctx, data)
            else:
                result = schools.update_school(
                    self._ctx, self._school.id, data, expected_version=self._school.version
                )
        except ValidationError as exc:
            self._show_errors(exc.errors)
            return
        except CrmError as exc:
            self.message(self, "error", "School not saved", str(exc))
            return
        self.saved = result.record
        if result.warnings:
            self.message(self, "info", "School saved", "\n".join(result.warnings))
        self.accept()

    # ----------------------------------------------------------- private

    def _field_label(self, field: str) -> QLabel:
        label = QLabel(f"{field_label(field)}:")
        label.setBuddy(self.editors[field])
        return label

    def _field_with_error(self, field: str) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        editor = self.editors[field]
        editor.setAccessibleName(field_label(field))
        column.addWidget(editor)
        error = QLabel()
        self._style_error(error)
        column.addWidget(error)
        self.error_labels[field] = error
        if isinstance(editor, QLineEdit):
            editor.textEdited.connect(lambda _text, f=field: self._clear_error(f))
        elif isinstance(editor, QComboBox):
            editor.currentIndexChanged.connect(lambda _i, f=field: self._clear_error(f))
        return box

    @staticmethod
    def _style_error(label: QLabel) -> None:
        label.setProperty("fieldError", True)  # coloured by the style sheet
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.hide()

    def _load(self, school: SchoolView) -> None:
        self.name_edit.setText(school.name)
        self.urn_edit.setText(school.urn or "")
        index = self.phase_combo.findData(school.phase) if school.phase else 0
        self.phase_combo.setCurrentIndex(max(index, 0))
        self.local_authority_edit.setText(school.local_authority or "")
        self.postcode_edit.setText(school.postcode or "")
        self.phone_edit.setText(school.phone_display)
        self.website_edit.setText(school.website or "")

    def _clear_error(self, field: str) -> None:
        label = self.error_labels[field]
        label.clear()
        label.hide()
        self.editors[field].setAccessibleDescription("")

    def _clear_errors(self) -> None:
        for field in FIELDS:
            self._clear_error(field)
        self.general_error.clear()
        self.general_error.hide()

    def _show_errors(self, errors: dict[str, str]) -> None:
        general = []
        for field, message in errors.items():
            text = error_text(field, message)
            if field in self.error_labels:
                self.error_labels[field].setText(text)
                self.error_labels[field].show()
                self.editors[field].setAccessibleDescription(text)
            else:
                general.append(f"{field_label(field)}: {message}")
        if general:
            self.general_error.setText("\n".join(general))
            self.general_error.show()
        # Word-wrapped messages need height the dialog did not have when shown.
        needed = self.layout().totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)
        first = next((f for f in FIELDS if f in errors), None)
        if first is not None:
            editor = self.editors[first]
            editor.setFocus(Qt.FocusReason.OtherFocusReason)
            if isinstance(editor, QLineEdit):
                editor.selectAll()
