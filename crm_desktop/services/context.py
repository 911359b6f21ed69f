"""Who is acting, on which database."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from ..persistence.db import Database


def os_user() -> str:
    try:
        return getpass.getuser() or "owner"
    except (KeyError, OSError):  # no passwd entry (containers) or no env
        return "owner"


@dataclass
class Context:
    """Passed to every service function: the database and the acting user."""

    db: Database
    user: str = field(default_factory=os_user)
