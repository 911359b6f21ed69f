"""Users and passwords: an admin's user list, and anyone's own password."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_datetime
from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import CrmError
from crm_desktop.services import users
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader, give_current_row


def _password_field(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(users.MAX_PASSWORD)
    return edit


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(messages.field_message(f, m) for f, m in exc.errors.items())
    return str(exc)


class _FormDialog(QDialog):
    """A small form with an error line that keeps the input on failure."""

    def __init__(self, title: str, parent: QWidget | None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setProperty("formError", True)
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def fail(self, text: str, focus: QWidget | None = None) -> None:
        self.error.setText(text)
        self.error.show()
        if focus is not None:
            focus.setFocus()


class ChangePasswordDialog(_FormDialog):
    """Change your own password (the current one is asked once there is one)."""

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__("Change my password", parent)
        self._ctx = ctx
        self.needs_old = users.has_password(ctx)
        self.old = _password_field("oldPassword")
        self.new = _password_field("newPassword")
        self.again = _password_field("againPassword")
        if self.needs_old:
            self.form.addRow("&Current password:", self.old)
        else:
            note = QLabel(
                "You have no password yet. Set one before adding other users: "
                "from then on everyone signs in."
            )
            note.setWordWrap(True)
            self.layout().insertWidget(0, note)
        self.form.addRow("&New password:", self.new)
        self.form.addRow("&Again:", self.again)
        hint = QLabel(f"At least {users.MIN_PASSWORD} characters; a phrase of a few words works.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.form.addRow("", hint)
        (self.old if self.needs_old else self.new).setFocus()

    def accept(self) -> None:
        if self.new.text() != self.again.text():
            self.again.clear()
            self.fail("The two new passwords differ.", self.again)
            return
        try:
            users.change_password(
                self._ctx, self.new.text(), old_password=self.old.text() if self.needs_old else None
            )
        except (CrmError, ValidationError) as exc:
            self.fail(_error_text(exc), self.old if self.needs_old else self.new)
            return
        super().accept()


class AddUserDialog(_FormDialog):
    """Name, role and first password of a new user."""

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__("Add user", parent)
        self._ctx = ctx
        self.added: users.UserView | None = None
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setPlaceholderText("e.g. sam.taylor")
        self.display_name = QLineEdit()
        self.display_name.setPlaceholderText("e.g. Sam Taylor")
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.label, role.value)
        self.password = _password_field("password")
        self.again = _password_field("again")
        self.form.addRow("&User name:", self.username)
        self.form.addRow("&Full name:", self.display_name)
        self.form.addRow("&Role:", self.role)
        self.form.addRow("First &password:", self.password)
        self.form.addRow("&Again:", self.again)
        self.username.setFocus()

    def accept(self) -> None:
        if self.password.text() != self.again.text():
            self.again.clear()
            self.fail("The two passwords differ.", self.again)
            return
        try:
            self.added = users.add_user(
                self._ctx,
                self.username.text(),
                self.role.currentData(),
                self.password.text(),
                display_name=self.display_name.text() or None,
            )
        except (CrmError, ValidationError) as exc:
            self.fail(_error_text(exc), self.username)
            return
        super().accept()


class UsersDialog(QDialog):
    """Admins: everyone who uses this database; add, reset, change role, deactivate.

    A user added or changed is said as ``Change(USERS)`` on the bus (the
    first added user turns on signing in, and with it Sign out).
    """

    def __init__(
        self, ctx: Context, parent: QWidget | None = None, *, bus: ChangeBus | None = None
    ):
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.add_dialog: AddUserDialog | None = None  # the last Add user dialog opened
        self.setWindowTitle("Users")
        self.setMinimumSize(640, 360)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["User name", "Name", "Role", "State", "Last sign-in"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for column in (0, 2, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton("&Add user…")
        self.add_button.clicked.connect(self.add_user)
        self.role_box = QComboBox()
        for role in Role:
            self.role_box.addItem(role.label, role.value)
        self.role_button = QPushButton("Set &role")
        self.role_button.clicked.connect(self.set_role)
        self.reset_button = QPushButton("&Reset password…")
        self.reset_button.clicked.connect(self.reset_password)
        self.deactivate_button = QPushButton("&Deactivate…")
        self.deactivate_button.clicked.connect(self.deactivate)
        self.error = QLabel()
        self.error.setProperty("formError", True)
        self.error.setWordWrap(True)
        self.error.hide()
        side = QVBoxLayout()
        for widget in (self.add_button, self.role_box, self.role_button, self.reset_button,
                       self.deactivate_button):  # fmt: skip
            side.addWidget(widget)
        side.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.tree, 1)
        middle.addLayout(side)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Everyone who uses this database. Deactivated users cannot sign in; "
            "their history stays."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(middle)
        layout.addWidget(self.error)
        layout.addWidget(close)
        # Read on a worker; "Loading…" covers the list meanwhile.
        self._reader = Reader(self, cover=self.tree, error_title="Users")
        self.refresh()

    def refresh(self) -> None:
        """Read the users on a worker; then list them, keeping the selection."""
        ctx = self._ctx
        self._reader.read(lambda: users.list_users(ctx), self._show_users)

    def _show_users(self, rows: list[users.UserView]) -> None:
        keep = self.selected() if self.tree.topLevelItemCount() else None
        self.tree.clear()
        for u in rows:
            state = "active" if u.active else "deactivated"
            if u.active and not u.has_password:
                state = "active (no password)"
            if u.record_only:
                state = "demo staff (cannot sign in)"
            last = format_datetime(u.last_sign_in_at) if u.last_sign_in_at else "—"
            item = QTreeWidgetItem([u.username, u.display_name, Role(u.role).label, state, last])
            item.setData(0, Qt.ItemDataRole.UserRole, u.username)
            item.setData(2, Qt.ItemDataRole.UserRole, u.role)
            item.setData(3, Qt.ItemDataRole.UserRole, u.record_only)
            if not u.active:
                for col in range(5):
                    item.setForeground(col, self.palette().placeholderText())
            self.tree.addTopLevelItem(item)
        if keep:
            self.select(keep)
        else:
            give_current_row(self.tree)
        self._update_buttons()

    def selected(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def select(self, username: str) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item.data(0, Qt.ItemDataRole.UserRole) == username:
                self.tree.setCurrentItem(item)

    def _update_buttons(self) -> None:
        name = self.selected()
        if name:  # the role box starts at the selected user's role
            role = self.tree.selectedItems()[0].data(2, Qt.ItemDataRole.UserRole)
            self.role_box.setCurrentIndex(max(self.role_box.findData(role), 0))
        for button in (self.role_button, self.reset_button, self.deactivate_button):
            button.setEnabled(name is not None)
        if name and self.tree.selectedItems()[0].data(3, Qt.ItemDataRole.UserRole):
            self.reset_button.setEnabled(False)  # demo staff never sign in
        self.role_box.setEnabled(name is not None)

    def _run(self, action) -> bool:
        self.error.hide()
        try:
            action()
        except (CrmError, ValidationError) as exc:
            self.error.setText(_error_text(exc))
            self.error.show()
            return False
        self._changed()
        return True

    def add_user(self) -> AddUserDialog | ChangePasswordDialog | None:
        """Add user…; an owner without a password is first offered File > Change my password.

        Returns the dialog opened (the password one first, if needed), or None.
        """
        try:
            has_password = users.has_password(self._ctx)
        except CrmError:
            has_password = True  # the service refuses with its own reason
        if not has_password:
            question = (
                "Once a second user exists, everyone signs in, you included, so you "
                "need a password first.\n\nSet your password now? Then add the user."
            )
            if not messages.ask(self, "Set your password first", question):
                return None
            change = ChangePasswordDialog(self._ctx, self)
            change.accepted.connect(self._open_add_user)
            change.open()
            return change
        return self._open_add_user()

    def _open_add_user(self) -> AddUserDialog:
        dialog = AddUserDialog(self._ctx, self)
        dialog.accepted.connect(self._changed)
        dialog.open()
        self.add_dialog = dialog
        return dialog

    def _changed(self) -> None:
        self.refresh()
        self.bus.publish(Change.of(Kind.USERS))

    def set_role(self) -> bool:
        name = self.selected()
        return bool(name) and self._run(
            lambda: users.set_role(self._ctx, name, self.role_box.currentData())
        )

    def reset_password(self) -> _FormDialog | None:
        name = self.selected()
        if not name:
            return None
        dialog = _FormDialog(f"Reset the password of {name}", self)
        new = _password_field("newPassword")
        again = _password_field("againPassword")
        dialog.form.addRow("&New password:", new)
        dialog.form.addRow("&Again:", again)

        def accept() -> None:
            if new.text() != again.text():
                dialog.fail("The two passwords differ.", again)
                return
            try:
                users.reset_password(self._ctx, name, new.text())
            except (CrmError, ValidationError) as exc:
                dialog.fail(_error_text(exc), new)
                return
            QDialog.accept(dialog)
            self.refresh()

        dialog.accept = accept  # type: ignore[method-assign]
        dialog.open()
        return dialog

    def deactivate(self) -> bool:
        name = self.selected()
        if not name or not messages.ask(
            self, "Deactivate user", f"Stop {name} signing in? Their history stays."
        ):
            return False
        return self._run(lambda: users.deactivate_user(self._ctx, name))
