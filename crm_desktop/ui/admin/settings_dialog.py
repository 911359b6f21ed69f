"""File > Settings: the details an admin sets once for everyone on this database.

The data controller's company name, address, contact email and data
protection officer, which every subject access pack names (no pack is made
until they are set), and the admin's own name as colleagues and packs show
it. Saved through ``services.settings``, which checks the role, validates
every field and audits each change.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.models import MAX_TEXT
from crm_desktop.domain.validation import ValidationError, clean_text
from crm_desktop.errors import CrmError
from crm_desktop.services import settings, users
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import LOADING_TEXT, Reader

FIELDS = ("name", "address", "email", "dpo_name", "dpo_email", "display_name")


class SettingsDialog(QDialog):
    """The controller's details and the signed-in admin's own name.

    Saving says ``Change(SETTINGS)`` on the bus, then the dialog closes.
    """

    def __init__(
        self, ctx: Context, parent: QWidget | None = None, *, bus: ChangeBus | None = None
    ):
        """``bus``: where saving says the settings changed (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)

        intro = QLabel(
            "<b>The data controller</b>: who holds the personal data in this database. "
            "Every subject access pack names them, and none is made until the starred "
            "details are set."
        )
        intro.setWordWrap(True)
        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._general_error = QLabel(self)
        self._errors = messages.FormErrors(self._form, FIELDS, self._general_error)

        self.name = self._line("name", "&Company name *", "e.g. Acme Learning Ltd")
        self.address = QPlainTextEdit(self)
        self.address.setObjectName("address")
        self.address.setTabChangesFocus(True)
        self.address.setPlaceholderText("Registered or postal address, one line each")
        self.address.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self._add("address", "Company &address *", self.address)
        self.email = self._line("email", "Contact &email *", "where people write about their data")
        self.dpo_name = self._line(
            "dpo_name",
            "&Data protection officer *",
            "their name (or your privacy lead's)",
        )
        self.dpo_email = self._line("dpo_email", "DPO e&mail", "optional; else the contact email")
        you = QLabel("<b>You</b>: how colleagues and the packs you make name you.")
        you.setWordWrap(True)
        self._form.addRow(you)
        self._display_name = ""
        self.display_name = self._line("display_name", "Your &name *", "e.g. Sam Taylor")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self._general_error)
        layout.addWidget(intro)
        layout.addLayout(self._form)
        layout.addWidget(self.buttons)

        # What is stored is read on a worker; the form waits for it (disabled,
        # Save too), since saving before it arrived would blank what is there.
        self.loaded = False
        self._fields = (self.name, self.address, self.email, self.dpo_name, self.dpo_email,
                        self.display_name)  # fmt: skip
        self._set_editable(False)
        # Meanwhile the focus falls on Cancel: Enter must not mean Cancel.
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self._reader = Reader(self, cover=None, error_title="Could not read the settings")
        self._reader.read(
            lambda: (settings.get_controller(ctx), users.display_name(ctx)), self._fill
        )

    def _set_editable(self, on: bool) -> None:
        # Meanwhile each field says it is loading, not what to type in it.
        if not on:
            self._placeholders = [field.placeholderText() for field in self._fields]
        for field, hint in zip(self._fields, self._placeholders, strict=True):
            field.setEnabled(on)
            field.setPlaceholderText(hint if on else LOADING_TEXT)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(on)

    def _fill(self, read: tuple) -> None:
        current, display_name = read
        self.name.setText(current.name or "")
        self.address.setPlainText(current.address or "")
        self.email.setText(current.email or "")
        self.dpo_name.setText(current.dpo_name or "")
        self.dpo_email.setText(current.dpo_email or "")
        self._display_name = display_name
        self.display_name.setText(display_name or "")
        self.loaded = True
        self._set_editable(True)
        self.name.setFocus()

    def _add(self, name: str, label: str, field: QWidget) -> None:
        self._form.addRow(label, field)
        self._errors.add(name, field)

    def _line(self, name: str, label: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        self._add(name, label, edit)
        return edit

    def errors(self) -> dict[str, str]:
        """The field messages on show (field name -> text)."""
        return self._errors.shown()

    def accept(self) -> None:
        """Save all or nothing: a missing required detail or a bad address keeps it open."""
        if not self.loaded:  # Enter before what is stored has been read
            return
        self._errors.clear()
        values = {
            "name": self.name.text(),
            "address": self.address.toPlainText(),
            "email": self.email.text(),
            "dpo_name": self.dpo_name.text(),
            "dpo_email": self.dpo_email.text(),
        }
        problems = {
            f: f"Give the {settings.FIELDS[f][0].lower()}: every subject access pack names it"
            for f in settings.REQUIRED
            if not values[f].strip()
        }
        try:
            clean_text(self.display_name.text(), max_len=MAX_TEXT, required=True)
        except ValueError as exc:
            problems["display_name"] = f"Your name {exc}"
        if problems:
            self._errors.show(problems)
            return
        try:
            settings.set_controller(self._ctx, **values)
            if self.display_name.text().strip() != self._display_name:
                settings.set_display_name(self._ctx, self.display_name.text())
        except ValidationError as exc:
            self._errors.show(exc.errors)
            return
        except CrmError as exc:
            messages.show_error(self, exc, "Settings not saved")
            return
        self.bus.publish(Change.of(Kind.SETTINGS))
        super().accept()
