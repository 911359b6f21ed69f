"""File > New and File > Open: switch the window to another database.

Opening and signing in is :func:`crm_desktop.ui.shell.opening.open_and_sign_in`
(the one sequence the start-up and the CLI use too); here the window swaps
the database into its shared context and says so on the change bus, so
every page shows the new one.
"""

from __future__ import annotations

from pathlib import Path

from crm_desktop.errors import CrmError
from crm_desktop.ui.common import messages
from crm_desktop.ui.shell import housekeeping
from crm_desktop.ui.shell.opening import Stopped, open_and_sign_in

DB_FILTERS = "CRM databases (*.db *.sqlite *.sqlite3);;All files (*)"


def new_database(window) -> bool:
    path = messages.save_file(window, "New database", DB_FILTERS)
    if not path:
        return False
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(".db")
    if target.exists() and target.stat().st_size:
        messages.show_error(
            window,
            f"{target} already exists. Use File > Open database… to open it.",
            "Could not create the database",
        )
        return False
    if not switch_database(window, target, create=True):
        return False
    housekeeping.offer_demo_data(window)
    return True


def open_database(window) -> bool:
    path = messages.open_file(window, "Open database", DB_FILTERS)
    return bool(path) and switch_database(window, path)


def switch_database(window, spec: str | Path, *, create: bool = False) -> bool:
    """Open ``spec`` and show it everywhere; the current one stays on error.

    A database that is not there is refused unless ``create`` (File > New).
    """
    try:
        acting = open_and_sign_in(window, spec, create=create)
    except CrmError as exc:
        messages.show_error(window, exc, "Could not open the database")
        return False
    if isinstance(acting, Stopped):  # no password given, or signing in cancelled: stay
        return False
    database = acting.db
    # Pages share this context object: switch it in place.
    ctx = window.ctx
    ctx.user, ctx.role = acting.user, acting.role
    previous, ctx.db = ctx.db, database
    if previous is not database:
        previous.dispose()
    window.apply_role()
    window.refresh_all()
    window.databaseChanged.emit(database.display_name)
    window.status(f"Opened {database.display_name}.")
    return True
