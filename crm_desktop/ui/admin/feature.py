"""The Admin feature: settings, users, your password and the audit trail (File menu).

Declared once here; the shell builds the menu items from :data:`FEATURE`.
"""

from __future__ import annotations

from crm_desktop.domain.roles import Action
from crm_desktop.errors import CrmError
from crm_desktop.ui.admin.audit_dialog import AuditTrailDialog
from crm_desktop.ui.admin.settings_dialog import SettingsDialog
from crm_desktop.ui.admin.users_dialog import ChangePasswordDialog, UsersDialog
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.registry import ActionSpec, Feature, Shell


def show_settings(shell: Shell) -> SettingsDialog:
    """File > Settings (admins): the controller's details and your own name."""
    dialog = SettingsDialog(shell.ctx, shell.window(), bus=shell.bus)
    dialog.accepted.connect(lambda: shell.status("Settings saved."))
    return shell.open_dialog(dialog)


def manage_users(shell: Shell) -> UsersDialog | None:
    try:
        dialog = UsersDialog(shell.ctx, shell.window(), bus=shell.bus)
    except CrmError as exc:
        messages.show_error(shell.window(), exc, "Cannot show the users")
        return None
    return shell.open_dialog(dialog)


def change_password(shell: Shell) -> ChangePasswordDialog | None:
    try:
        dialog = ChangePasswordDialog(shell.ctx, shell.window())
    except CrmError as exc:
        messages.show_error(shell.window(), exc, "Cannot change the password")
        return None
    dialog.accepted.connect(lambda: shell.status("Your password was changed."))
    return shell.open_dialog(dialog)


def audit_trail(shell: Shell) -> AuditTrailDialog:
    """File > Audit trail (managers, admins): verify it; export or import its key."""
    return shell.open_dialog(AuditTrailDialog(shell.ctx, shell.window()))


FEATURE = Feature(
    name="admin",
    actions=(
        ActionSpec(
            "settings",
            "&Settings…",
            "file",
            50,
            show_settings,
            tip="The data controller's details that access packs name, and your own name",
            permission=Action.MANAGE_SETTINGS,
        ),
        ActionSpec(
            "manage_users",
            "&Users…",
            "file",
            60,
            manage_users,
            tip="Who may use this database, and their roles",
            separator_before=True,
            permission=Action.MANAGE_USERS,
            edits=True,
        ),
        ActionSpec(
            "change_password", "&Change my password…", "file", 70, change_password, edits=True
        ),
        ActionSpec(
            "audit_trail",
            "&Audit trail…",
            "file",
            110,
            audit_trail,
            tip="Check that no audit entry was altered or removed; move the audit key",
            permission=Action.VIEW_AUDIT,
        ),
    ),
)
