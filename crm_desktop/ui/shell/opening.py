"""Opening a database from the GUI: ask before creating one, ask for a server password, sign in.

The sequence itself is :mod:`crm_desktop.services.session` (the CLI uses it
too); here its questions become dialogs (through :mod:`messages`, so tests
can answer them too).
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QWidget

from crm_desktop.errors import DatabaseMissingError, PasswordRequiredError
from crm_desktop.persistence import Database
from crm_desktop.services import session
from crm_desktop.services.context import Context
from crm_desktop.services.session import Stopped
from crm_desktop.ui.common import messages

__all__ = ["Stopped", "open_and_sign_in", "open_or_ask"]


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
    return session.open_asking(spec, create=create, **_questions(parent, offer_create))


def open_and_sign_in(
    parent: QWidget | None,
    spec: str | os.PathLike | None,
    *,
    create: bool = False,
    offer_create: bool = False,
) -> Context | Stopped:
    """:func:`open_or_ask`, then sign in with the sign-in dialog if the database has several users.

    :class:`Stopped` says where the person stopped; nothing is left open then.
    """
    return session.open_and_sign_in(
        spec,
        create=create,
        sign_in=lambda db: messages.ask_sign_in(parent, db),
        **_questions(parent, offer_create),
    )


def _questions(parent: QWidget | None, offer_create: bool) -> dict:
    def confirm_create(missing: DatabaseMissingError) -> bool:
        question = (
            f"There is no database at {missing.location}.\n\n"
            "Create a new, empty database there? (If you mistyped the name, "
            "choose No and check it.)"
        )
        return messages.ask(parent, "Create a new database?", question)

    def ask_password(refusal: PasswordRequiredError, where: str) -> str | None:
        text = (
            f"{refusal}\n\nPassword for {where}:" if refusal.refused else f"Password for {where}:"
        )
        return messages.ask_password(parent, "Database password", text)

    return {
        "confirm_create": confirm_create if offer_create else None,
        "ask_password": ask_password,
    }
