"""Who is signed in: the window title and status bar say it; File > Sign out changes it."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtWidgets import QDialog

from crm_desktop import APP_NAME
from crm_desktop.errors import CrmError
from crm_desktop.services import users
from crm_desktop.ui.common import messages, workers


def show_identity(window) -> None:
    """The window title and status bar say which database, and who is signed in."""
    ctx = window.ctx
    name = ctx.db.display_name
    window.db_label.setText(f"Database: {name}")
    window.db_label.setToolTip(name)
    title = f"{Path(name).name} — {APP_NAME}" if ctx.db.path else APP_NAME
    if window.signed_out:
        window.setWindowTitle(f"{title} — signed out")
        window.user_label.setText("Signed out")
        window.user_label.setToolTip("")
        return
    try:
        person = users.display_name(ctx)
    except CrmError:  # the database went away; the user name still says who
        person = ctx.user
    role = ctx.role.label
    window.setWindowTitle(f"{title} — {person} ({role.lower()})")
    window.user_label.setText(f"{person} · {role}")
    window.user_label.setToolTip(f"Signed in as {ctx.user} ({role.lower()})")


def update_sign_out(window) -> None:
    """Sign out only means something once people sign in (team mode)."""
    try:
        team = users.sign_in_required(window.ctx.db)
    except CrmError:
        team = False
    action = window.action("sign_out")
    action.setEnabled(team)
    tip = (
        "Sign out so that someone else can sign in; your open windows close"
        if team
        else "Only you use this database, so nobody signs in or out. "
        "Add a user (File > Users) to share it."
    )
    action.setToolTip(tip)
    action.setStatusTip(tip)


def sign_out(window) -> bool:
    """File > Sign out: close the user's windows, hide their data, ask who signs in.

    Signing in again (as anyone) shows what that user's role may see.
    Cancelling the sign-in closes the window, as cancelling it at start
    does, so nobody's data is left on screen. Returns True when someone
    signed in.
    """
    ctx = window.ctx
    if not users.sign_in_required(ctx.db):
        return False
    if workers.active_tasks():
        if not messages.ask(window, "Sign out", "A task is still running. Cancel it and sign out?"):
            return False
        workers.cancel_all_and_wait()
    for dialog in window.findChildren(QDialog):
        if dialog.isVisible():
            dialog.reject()
    # A read-only or unreachable database cannot record it; sign out all the same.
    with contextlib.suppress(CrmError):
        users.sign_out(ctx)
    window.signed_out = True
    hide_pages(window)
    show_identity(window)
    try:
        acting = messages.acting_context(window, ctx.db)
    except CrmError as exc:
        messages.show_error(window, exc, "Could not sign in")
        acting = None
    if acting is None:
        window.close()
        return False
    ctx.user, ctx.role = acting.user, acting.role
    window.signed_out = False
    window.apply_role()
    window.menuBar().setEnabled(True)
    window.tabs.setCurrentIndex(0)
    window.tabs.show()
    window.focus_page()
    window.refresh_all()
    window.status(f"Signed in as {ctx.user}.")
    return True


def hide_pages(window) -> None:
    """Signed out: nothing of the last user's stays on screen or in reach."""
    for spec in window.page_specs:
        if spec.forget is not None:
            spec.forget(window.pages[spec.name])
    window.tabs.hide()
    window.menuBar().setEnabled(False)
    window.statusBar().clearMessage()
