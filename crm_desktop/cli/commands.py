"""What every ``crm`` command shares: opening the database and signing in, errors.

The commands themselves live in one module per command group
(``*_commands.py``). Each handler takes the parsed arguments and returns the
exit status; errors a person can act on are raised (service errors,
:class:`ValidationError` or :class:`CliError`) and turned into one line by
``main``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import PasswordRequiredError
from .output import err

if TYPE_CHECKING:
    from ..persistence import Database
    from ..services.context import Context

# The database stack (SQLAlchemy, the services) is imported by ``opened``, not
# here: ``crm --version``, ``crm --help`` and usage errors load this module
# (for CliError) and must not pay for it.

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A refusal found by the CLI itself, reported like a service error."""

    def __init__(self, message: str, code: int = EXIT_ERROR):
        super().__init__(message)
        self.code = code


def _ask_password(refusal: PasswordRequiredError, where: str) -> str:
    """A server that asks for a password gets it from a prompt on a terminal.

    libpq has already tried ``PGPASSFILE``/``~/.pgpass``, so nobody has to put
    it on the command line.
    """
    if not sys.stdin.isatty():
        raise CliError(
            f"{refusal} Put it in ~/.pgpass (or the file PGPASSFILE names), or run "
            "crm in a terminal to be asked for it."
        )
    if refusal.refused:
        err(f"crm: {refusal}")
    return getpass.getpass(f"Password for {where}: ")


@contextmanager
def opened(args: argparse.Namespace, *, create: bool = False) -> Iterator[Context]:
    """The database named by --db (else CRM_DATABASE_URL, else the default),
    as its single user, or as whoever signs in with --user/CRM_USER.

    A missing database is refused (see open_database) unless ``create``.
    """
    from sqlalchemy.exc import ArgumentError

    from ..persistence import mask_secrets
    from ..services import recovery, session
    from ..services.context import Context

    name = getattr(args, "user", None) or os.environ.get("CRM_USER")
    try:
        ctx = session.open_and_sign_in(
            args.db,
            create=create,
            ask_password=_ask_password,
            sign_in=lambda db: _sign_in(db, name),
            check_owner=lambda owner: _check_owner(owner, name),
        )
    except ArgumentError as exc:
        # A URL SQLAlchemy cannot parse or has no dialect for; persistence
        # passes these through, so they would otherwise be a traceback.
        raise CliError(f"Cannot open the database: {mask_secrets(str(exc))}.") from None
    # The questions above are answered or refused with an error, never declined.
    assert isinstance(ctx, Context), ctx
    try:
        # Work a killed or failed run left unfinished is finished first.
        for sentence in recovery.recover(ctx):
            err(f"crm: {sentence}")
        yield ctx
    finally:
        ctx.db.dispose()


def _check_owner(owner: Context, name: str | None) -> None:
    if name and name.strip().lower() != owner.user:
        raise CliError(f"This database has one user, {owner.user}; there is no '{name}'.")


def _sign_in(db: Database, name: str | None) -> Context:
    if not name:
        raise CliError(
            "This database has several users: sign in with --user NAME (or CRM_USER) and "
            "the password in CRM_PASSWORD or at the prompt."
        )
    password = os.environ.get("CRM_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CliError("Give the password in CRM_PASSWORD (no terminal to ask at).")
        password = getpass.getpass(f"Password for {name}: ")
    from ..services import users

    return users.sign_in(db, name, password)
