"""Questions, messages and file choosers, behind one replaceable seam.

Every modal question the app asks goes through the module-level
:class:`Prompter`. The default one shows real Qt dialogs; tests install a
scripted one with :func:`set_prompter` so they can answer "Load demo data?"
or pick a file without a nested event loop waiting for a click that never
comes. Widgets call the module functions (``messages.ask(...)``), never
``QMessageBox`` directly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QFormLayout, QLabel, QMessageBox, QWidget

from crm_desktop.domain.validation import PREDICATES, ValidationError, field_label
from crm_desktop.errors import CrmError


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

    def open_file(
        self, parent: QWidget | None, title: str, filters: str, start: str = ""
    ) -> str | None:
        """``start``: the folder (or file) the dialog opens at."""
        path, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
        return path or None

    def offer_open(self, parent: QWidget | None, title: str, text: str, path: str) -> str | None:
        """Say a file was written and offer to open it: "file", "folder" or None (Close)."""
        box = QMessageBox(
            QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Close, parent
        )
        open_file = box.addButton("Open &file", QMessageBox.ButtonRole.ActionRole)
        open_folder = box.addButton("Open f&older", QMessageBox.ButtonRole.ActionRole)
        box.setDefaultButton(open_file)
        box.exec()
        clicked = box.clickedButton()
        return "file" if clicked is open_file else "folder" if clicked is open_folder else None

    def sign_in(self, parent: QWidget | None, db) -> object | None:
        """Ask for a user name and password; the signed-in Context, or None."""
        from crm_desktop.ui.common.sign_in_dialog import SignInDialog

        dialog = SignInDialog(db, parent)
        return dialog.ctx if dialog.exec() == SignInDialog.DialogCode.Accepted else None

    def password(self, parent: QWidget | None, title: str, text: str) -> str | None:
        """Ask for a password (shown as dots); None if cancelled."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        value, ok = QInputDialog.getText(parent, title, text, QLineEdit.EchoMode.Password)
        return value if ok else None

    def save_file(
        self, parent: QWidget | None, title: str, filters: str, start: str = ""
    ) -> str | None:
        """``start``: the folder, or the suggested file in it, the dialog opens at."""
        # No overwrite prompt: callers refuse existing files themselves, so a
        # "Replace?" answer can never destroy someone's data.
        path, _ = QFileDialog.getSaveFileName(
            parent, title, start, filters, options=QFileDialog.Option.DontConfirmOverwrite
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


def open_file(
    parent: QWidget | None, title: str, filters: str, *, purpose: str | None = None
) -> str | None:
    """Choose a file to read, starting in the folder last used for ``purpose``.

    ``purpose`` (default: the title) names what the file is for; each
    purpose remembers its own folder. The first time, Documents.
    """
    key = purpose or title
    chosen = _prompter.open_file(parent, title, filters, str(start_folder(key)))
    if chosen:
        remember_folder(key, Path(chosen).parent)
    return chosen


def acting_context(parent: QWidget | None, db):
    """Who uses ``db``: its owner in single-user mode, else whoever signs in.

    Returns None when the person cancels signing in.
    """
    from crm_desktop.services import session

    return session.acting_context(db, lambda db: ask_sign_in(parent, db))


def ask_sign_in(parent: QWidget | None, db):
    """The sign-in dialog: the signed-in context, or None when the person cancels."""
    return _prompter.sign_in(parent, db)


def save_file(
    parent: QWidget | None,
    title: str,
    filters: str,
    *,
    purpose: str | None = None,
    name: str = "",
    start: str | Path | None = None,
) -> str | None:
    """Choose where to save, offering ``name`` in the folder last used for ``purpose``.

    ``start`` (a full path) overrides both, e.g. the path already typed in a
    form. Never the process's working folder: the first time, Documents.
    """
    key = purpose or title
    if start:
        begin = Path(start)
    else:
        folder = start_folder(key)
        begin = folder / safe_file_name(name) if name else folder
    chosen = _prompter.save_file(parent, title, filters, str(begin))
    if chosen:
        remember_folder(key, Path(chosen).parent)
    return chosen


# ------------------------------------------------------- folders and files

FOLDER_KEY = "fileDialogs/{}"
_settings: QSettings | None = None
# Characters no file name may hold on Windows, macOS or Linux.
_NOT_IN_NAMES = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def set_settings(settings: QSettings | None) -> QSettings | None:
    """Remember folders in ``settings`` (None: the application's); returns the previous."""
    global _settings
    previous, _settings = _settings, settings
    return previous


def _store() -> QSettings:
    return _settings if _settings is not None else QSettings()


def documents_folder() -> Path:
    """The user's Documents folder, else their home folder."""
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    path = Path(docs) if docs else Path.home()
    return path if path.is_dir() else Path.home()


def start_folder(purpose: str) -> Path:
    """Where a file dialog for ``purpose`` opens: the folder last used, else Documents."""
    key = FOLDER_KEY.format(_key(purpose))
    remembered = _store().value(key, "", type=str)
    if remembered and Path(remembered).is_dir():
        return Path(remembered)
    return documents_folder()


def remember_folder(purpose: str, folder: str | Path) -> None:
    _store().setValue(FOLDER_KEY.format(_key(purpose)), str(folder))


def _key(purpose: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", purpose.lower()).strip("-") or "files"


def safe_file_name(name: str, max_len: int = 120) -> str:
    """``name`` with what no file name may hold replaced: "A/B: c" -> "A B c"."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    clean = " ".join(_NOT_IN_NAMES.sub(" ", stem).split()).strip(" .")[:max_len].strip(" .")
    return f"{clean or 'file'}.{suffix}" if suffix else clean or "file"


def open_location(parent: QWidget | None, path: str | Path, *, folder: bool = False) -> bool:
    """Open ``path`` (or, with ``folder``, the folder holding it) in the system's app."""
    target = Path(path).parent if folder else Path(path)
    if not target.exists():
        show_error(parent, f"{target} is no longer there.", "Could not open it")
        return False
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))):
        what = "file manager" if folder else "application for this kind of file"
        show_error(parent, f"No {what} could open {target}.", "Could not open it")
        return False
    return True


def offer_open(parent: QWidget | None, title: str, text: str, path: str | Path) -> str | None:
    """Say a file was written, with Open file and Open folder; returns what was opened."""
    choice = _prompter.offer_open(parent, title, text, str(path))
    if choice in ("file", "folder"):
        open_location(parent, path, folder=choice == "folder")
    return choice


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
    if text.startswith(PREDICATES):
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
