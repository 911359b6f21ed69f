"""Errors a person can act on. Each message is one clear sentence or two.

Bugs are not wrapped: they raise as themselves and fail loudly in tests.
"""

from __future__ import annotations


class CrmError(Exception):
    """Base for every error shown to a user as a message (not a traceback)."""


class NotFoundError(CrmError):
    pass


class DuplicateError(CrmError):
    pass


class ConflictError(CrmError):
    """Someone else saved the record since it was loaded."""


class DatabaseError(CrmError):
    """The database cannot be opened, read or written."""


class SchemaTooNewError(DatabaseError):
    pass


class NotACrmDatabaseError(DatabaseError):
    pass


class DatabaseMissingError(DatabaseError):
    """There is no database where one was named; nothing was created.

    ``location`` is the path or (password-free) URL, as a person would type it.
    """

    def __init__(self, message: str, location: str):
        super().__init__(message)
        self.location = location


class ReadOnlyDatabaseError(DatabaseError):
    """The database was opened read-only: nothing may be changed or recorded."""


class PasswordRequiredError(DatabaseError):
    """The database server wants a password that was not given (or was refused).

    ``refused`` is true when a password was given and the server said no.
    """

    def __init__(self, message: str, *, refused: bool = False):
        super().__init__(message)
        self.refused = refused


class Cancelled(CrmError):
    """A long operation was cancelled by the user; nothing was saved."""


class NotPermittedError(CrmError):
    """The signed-in user's role may not do this."""


class SignInError(CrmError):
    """Wrong user name or password, a locked account, or too many attempts."""
