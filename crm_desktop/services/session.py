"""Open a database and sign in: the one sequence the app, File > Open and ``crm`` share.

Opening can stop on questions only a person can answer: create a database
that is not there? what is the server's password? who is signing in? Each
caller answers them its own way (dialogs in the GUI, a terminal prompt and
command-line options in ``crm``) through the callables passed here; the
order of the steps, the password retries and closing the database again when
a later step fails or is cancelled are written once, here, without Qt.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable

from crm_desktop.errors import DatabaseMissingError, PasswordRequiredError
from crm_desktop.persistence import Database, open_database, resolve_database_url, safe_url
from crm_desktop.services import users
from crm_desktop.services.context import Context

PASSWORD_TRIES = 3
"""Passwords asked for before the server's last refusal is raised."""

AskPassword = Callable[[PasswordRequiredError, str], "str | None"]
"""``(refusal, where)``: the password for ``where`` (secrets masked), or None to give up.

``refusal.refused`` says whether a password was given and turned down.
"""
ConfirmCreate = Callable[[DatabaseMissingError], bool]
"""``(missing)``: True to create the database ``missing.location`` names."""
SignIn = Callable[[Database], "Context | None"]
"""``(db)``: the signed-in context for a database with several users, or None if cancelled."""
CheckOwner = Callable[[Context], None]
"""``(owner)``: raises to refuse a single-user database's owner (``crm --user`` naming another)."""


class Stopped(enum.Enum):
    """Why :func:`open_and_sign_in` returned no context (nothing is left open)."""

    AT_OPENING = "opening"
    """The person declined to create the database, or gave no password."""
    AT_SIGN_IN = "signing in"
    """The database opened, but nobody signed in."""


def open_asking(
    spec: str | os.PathLike | None,
    *,
    create: bool = False,
    confirm_create: ConfirmCreate | None = None,
    ask_password: AskPassword | None = None,
) -> Database | None:
    """Open ``spec``; None when the person declines to create it or to give a password.

    ``create``: make a missing database without asking (``crm init``, File >
    New). ``confirm_create``: ask before making a missing one; without it, a
    missing database is refused with :class:`DatabaseMissingError`.
    ``ask_password``: asked when the server wants a password, up to
    :data:`PASSWORD_TRIES` times; without it the refusal is raised. Other
    failures raise :class:`CrmError`.
    """
    password: str | None = None
    for attempt in range(PASSWORD_TRIES + 1):
        try:
            return open_database(spec, create=create, password=password)
        except DatabaseMissingError as exc:
            if create or confirm_create is None:
                raise
            if not confirm_create(exc):
                return None
            create = True
        except PasswordRequiredError as exc:
            if ask_password is None:
                raise
            if attempt == PASSWORD_TRIES:
                raise
            password = ask_password(exc, safe_url(resolve_database_url(spec)))
            if password is None:
                return None
    raise AssertionError("unreachable")


def acting_context(
    db: Database, sign_in: SignIn, check_owner: CheckOwner | None = None
) -> Context | None:
    """Who uses ``db``: its owner in single-user mode, else whoever ``sign_in`` signs in.

    ``check_owner`` sees the owner's context first and may refuse it by raising.
    """
    if users.sign_in_required(db):
        return sign_in(db)
    owner = users.single_user_context(db)
    if check_owner is not None:
        check_owner(owner)
    return owner


def open_and_sign_in(
    spec: str | os.PathLike | None,
    *,
    sign_in: SignIn,
    create: bool = False,
    confirm_create: ConfirmCreate | None = None,
    ask_password: AskPassword | None = None,
    check_owner: CheckOwner | None = None,
) -> Context | Stopped:
    """Open ``spec`` (see :func:`open_asking`) and sign in (see :func:`acting_context`).

    Returns the context, whose ``db`` the caller now owns and must dispose
    of, or :class:`Stopped` when the person stopped at either step. Errors
    raise (:class:`CrmError` for the ones a person can act on); the database
    is closed again whenever no context is returned.
    """
    db = open_asking(spec, create=create, confirm_create=confirm_create, ask_password=ask_password)
    if db is None:
        return Stopped.AT_OPENING
    try:
        ctx = acting_context(db, sign_in, check_owner)
    except BaseException:
        db.dispose()
        raise
    if ctx is None:
        db.dispose()
        return Stopped.AT_SIGN_IN
    return ctx
