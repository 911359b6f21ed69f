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


class Cancelled(CrmError):
    """A long operation was cancelled by the user; nothing was saved."""


class NotPermittedError(CrmError):
    """The signed-in user's role may not do this."""


class SignInError(CrmError):
    """Wrong user name or password, a locked account, or too many attempts."""
