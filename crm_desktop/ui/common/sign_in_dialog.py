"""Signing in to a database that has more than one user."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.errors import CrmError
from crm_desktop.persistence.db import Database
from crm_desktop.services import users
from crm_desktop.services.context import Context, os_user


class SignInDialog(QDialog):
    """User name and password; on success ``ctx`` holds the signed-in context.

    A wrong password keeps the dialog open with the service's message (which
    never says whether the user name exists) and clears the password.
    """

    def __init__(self, db: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.db = db
        self.ctx: Context | None = None
        self.setWindowTitle("Sign in")
        self.setMinimumWidth(380)
        intro = QLabel(f"Sign in to <b>{_escape(db.display_name)}</b>")
        intro.setWordWrap(True)
        self.username = QLineEdit(os_user().lower())
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setProperty("formError", True)
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        form = QFormLayout()
        form.addRow("&User name:", self.username)
        form.addRow("&Password:", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setTabOrder(self.username, self.password)
        (self.password if self.username.text() else self.username).setFocus()

    def try_sign_in(self) -> None:
        try:
            self.ctx = users.sign_in(self.db, self.username.text(), self.password.text())
        except CrmError as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.password.clear()
            self.password.setFocus()
            return
        self.accept()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
