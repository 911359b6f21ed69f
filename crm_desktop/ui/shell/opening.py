"""Opening a database from the GUI: ask before creating one, ask for a server password.

``open_database`` refuses a database that is not there and a server that
wants a password it was not given; here the app turns those refusals into
the questions a person can answer (through :mod:`messages`, so tests can
answer them too).
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QWidget

from crm_desktop.errors import DatabaseMissingError, PasswordRequiredError
from crm_desktop.persistence import Database, open_database, resolve_database_url, safe_url
from crm_desktop.ui.common import messages

PASSWORD_TRIES = 3


def open_or_ask(
    parent: QWidget | None,
    spec: str | os.PathLike | None,
    *,
    create: bool = False,
    offer_create: bool = False,
) -> Database | None:
    """Open ``spec``; None when the person declines (to create it, or to give a password).

    ``create``: make it without asking (File > New). ``offer_create``: if it
    is not there, ask before making it (a path given on the command line);
    otherwise a missing database is refused with :class:`DatabaseMissingError`.
    Other failures raise :class:`CrmError` for the caller to show.
    """
    password: str | None = None
    for _attempt in range(PASSWORD_TRIES + 1):
        try:
            return open_database(spec, create=create, password=password)
        except DatabaseMissingError as exc:
            if create or not offer_create:
                raise
            question = (
                f"There is no database at {exc.location}.\n\n"
                "Create a new, empty database there? (If you mistyped the name, "
                "choose No and check it.)"
            )
            if not messages.ask(parent, "Create a new database?", question):
                return None
            create = True
        except PasswordRequiredError as exc:
            if _attempt == PASSWORD_TRIES:
                raise
            where = safe_url(resolve_database_url(spec))
            text = f"{exc}\n\nPassword for {where}:" if exc.refused else f"Password for {where}:"
            password = messages.ask_password(parent, "Database password", text)
            if password is None:
                return None
    raise AssertionError("unreachable")
