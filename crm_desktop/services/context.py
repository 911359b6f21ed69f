"""Who is acting, on which database."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from ..domain.roles import Action, Role, may
from ..errors import NotPermittedError
from ..persistence.db import Database


def os_user() -> str:
    try:
        return getpass.getuser() or "owner"
    except (KeyError, OSError):  # no passwd entry (containers) or no env
        return "owner"


@dataclass
class Context:
    """Passed to every service function: the database and the acting user.

    ``role`` is what the user may do (see domain.roles); a context made
    without signing in (single-user mode, scripts, tests) acts as admin.
    """

    db: Database
    user: str = field(default_factory=os_user)
    role: Role = Role.ADMIN

    def may(self, action: Action) -> bool:
        return may(self.role, action)

    def require(self, action: Action) -> None:
        """Refuse with a clear message unless this user's role allows ``action``."""
        if not may(self.role, action):
            raise NotPermittedError(
                f"Not permitted: {self.user} ({self.role.label.lower()}) may not {action.value}."
            )
