"""Questions, messages and file choosers, behind one replaceable seam.

Every modal question the app asks goes through the module-level
:class:`Prompter`. The default one shows real Qt dialogs; tests install a
scripted one with :func:`set_prompter` so they can answer "Load demo data?"
or pick a file without a nested event loop waiting for a click that never
comes. Widgets call the module functions (``messages.ask(...)``), never
``QMessageBox`` directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QFormLayout, QLabel, QMessageBox, QWidget

from ..domain.validation import ValidationError, field_label
from ..errors import CrmError

# Messages from the validators that read as the end of a sentence starting
# with the field's label ("Email is required").
_PREDICATES = ("is ", "are ", "cannot ", "must ", "contains ", "has ", "needs ")


class Prompter:
    """Shows real dialogs. Subclass and install with :func:`set_prompter`."""

    def question(self, parent: QWidget | None, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            parent,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def message(self, parent: QWidget | None, level: str, title: str, text: str) -> None:
        """``level`` is "info", "warning" or "error"."""
        show = {
            "info": QMessageBox.information,
            "warning": QMessageBox.warning,
            "error": QMessageBox.critical,
        }[level]
        show(parent, title, text)

    def open_file(self, parent: QWidget | None, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, title, "", filters)
        return path or None

    def sign_in(self, parent: QWidget | None, db) -> object | None:
        """Ask for a user name and password; the signed-in Context, or None."""
        from .sign_in_dialog import SignInDialog

        dialog = SignInDialog(db, parent)
        return dialog.ctx if dialog.exec() == SignInDialog.DialogCode.Accepted else None

    def password(self, parent: QWidget | None, title: str, text: str) -> str | None:
        """Ask for a password (shown as dots); None if cancelled."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        value, ok = QInputDialog.getText(parent, title, text, QLineEdit.EchoMode.Password)
        return value if ok else None

    def save_file(self, parent: QWidget | None, title: str, filters: str) -> str | None:
        # No overwrite prompt: callers refuse existing files themselves, so a
        # "Replace?" answer can never destroy someone's data.
        path, _ = QFileDialog.getSaveFileName(
            parent, title, "", filters, options=QFileDialog.Option.DontConfirmOverwrite
        )
        return path or None


_prompter: Prompter = Prompter()


def set_prompter(prompter: Prompter) -> Prompter:
    """Install ``prompter``; returns the previous one so it can be restored."""
    global _prompter
    previous, _prompter = _prompter, prompter
    return previous


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    """A yes/no question; True for yes."""
    return _prompter.question(parent, title, text)


def inform(parent: QWidget | None, title: str, text: str) -> None:
    _prompter.message(parent, "info", title, text)


def warn(parent: QWidget | None, title: str, text: str) -> None:
    _prompter.message(parent, "warning", title, text)


def show_error(parent: QWidget | None, error: BaseException | str, title: str = "") -> None:
    """Show a :class:`CrmError` or :class:`ValidationError` as a message, not a traceback."""
    if isinstance(error, ValidationError):
        text = "\n".join(field_message(k, v) for k, v in error.errors.items())
    else:
        text = str(error)
    _prompter.message(parent, "error", title or _title_for(error), text)


def open_file(parent: QWidget | None, title: str, filters: str) -> str | None:
    return _prompter.open_file(parent, title, filters)


def acting_context(parent: QWidget | None, db):
    """Who uses ``db``: its owner in single-user mode, else whoever signs in.

    Returns None when the person cancels signing in.
    """
    from ..services import users

    if users.sign_in_required(db):
        return _prompter.sign_in(parent, db)
    return users.single_user_context(db)


def save_file(parent: QWidget | None, title: str, filters: str) -> str | None:
    return _prompter.save_file(parent, title, filters)


def ask_password(parent: QWidget | None, title: str, text: str) -> str | None:
    """A password (e.g. for the database server); None if the person cancels."""
    return _prompter.password(parent, title, text)


def field_message(field: str, message: str) -> str:
    """One validator message as a sentence a person reads under the field.

    ``("email", "is required")`` -> "Email is required."; messages that are
    already a sentence ("give an email address or a phone number") are
    capitalised instead of prefixed.
    """
    text = message.strip()
    if text.startswith(_PREDICATES):
        text = f"{field_label(field)} {text}"
    elif text:
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?" and not text.endswith((".)", "!)", "?)")):
        text += "."
    return text


class FormErrors:
    """Error messages shown under the fields of a :class:`QFormLayout`.

    Call :meth:`add` right after adding a field's row: it adds a hidden row
    beneath for that field's message. :meth:`show` fills them from a
    ``ValidationError.errors`` dict and focuses the first bad field in
    ``order``; messages for fields the form does not have go to ``general``.
    """

    def __init__(self, form: QFormLayout, order: Sequence[str], general: QLabel):
        self._form = form
        self._order = tuple(order)
        self._general = general
        self._general.setProperty("formError", True)
        self._general.setWordWrap(True)
        self._general.setTextFormat(Qt.TextFormat.PlainText)
        self._general.hide()
        self._labels: dict[str, QLabel] = {}
        self._rows: dict[str, int] = {}
        self._focus: dict[str, QWidget] = {}

    def add(self, name: str, focus: QWidget) -> None:
        # The form may not be installed yet; the general label's parent is the form's.
        error = QLabel(self._general.parentWidget())
        error.setObjectName(f"error_{name}")
        error.setProperty("fieldError", True)
        error.setWordWrap(True)
        error.setTextFormat(Qt.TextFormat.PlainText)
        self._form.addRow("", error)
        row = self._form.rowCount() - 1
        self._form.setRowVisible(row, False)
        self._labels[name] = error
        self._rows[name] = row
        self._focus[name] = focus

    def show(self, errors: dict[str, str]) -> None:
        others = []
        for name, message in errors.items():
            text = field_message(name, message)
            label = self._labels.get(name)
            if label is None:
                others.append(text)
                continue
            label.setText(text)
            self._form.setRowVisible(self._rows[name], True)
        if others:
            self._general.setText("\n".join(others))
            self._general.show()
        first = next((name for name in self._order if name in errors and name in self._focus), None)
        if first is not None:
            self._focus[first].setFocus(Qt.FocusReason.OtherFocusReason)

    def clear(self) -> None:
        for name, label in self._labels.items():
            label.clear()
            self._form.setRowVisible(self._rows[name], False)
        self._general.clear()
        self._general.hide()

    def shown(self) -> dict[str, str]:
        """The messages on show (field name -> text; "_form" for the general one)."""
        result = {name: label.text() for name, label in self._labels.items() if label.text()}
        if self._general.text():
            result["_form"] = self._general.text()
        return result


def _title_for(error: BaseException | str) -> str:
    if isinstance(error, ValidationError):
        return "Please check the details"
    if isinstance(error, CrmError):
        return "Could not complete that"
    return "Something went wrong"
