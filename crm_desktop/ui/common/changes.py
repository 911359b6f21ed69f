"""One change signal: what changed, as a typed record, published on one bus per window.

Whoever finished the work (a dialog's handler, a page, a worker's callback)
publishes a :class:`Change` on the window's :class:`ChangeBus`; every page
that cares about one of its kinds refreshes itself from it. Nobody refreshes
a page by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from PySide6.QtCore import QObject, Signal


class Kind(Enum):
    """The kinds of things a change can touch."""

    PROSPECTS = "prospects"  # added, edited, deleted, restricted or erased
    CONTACTS = "contacts"  # correspondence logged, follow-ups done
    MARKETING = "marketing"  # opt-outs, consent, lawful basis of prospects
    SUPPRESSION = "suppression"  # the suppression list
    ASSESSMENTS = "assessments"  # legitimate-interest assessments
    SCHOOLS = "schools"
    INTERESTS = "interests"
    REQUESTS = "requests"  # data-subject requests
    EXPORTS = "exports"  # campaign lists exported
    USERS = "users"  # who may sign in, and their roles
    SETTINGS = "settings"
    SIGN_IN = "sign in"  # someone else signed in: what their role may see changes
    DATABASE = "database"  # another database, or its contents replaced wholesale
    APPEARANCE = "appearance"  # colours: panes that drew in them draw again


EVERYTHING = frozenset(Kind) - {Kind.APPEARANCE}


@dataclass(frozen=True)
class Change:
    """What changed.

    ``kinds``: what was touched. ``ids``: the records touched, where known
    (prospect ids for PROSPECTS, CONTACTS, MARKETING; the request id for
    REQUESTS; the export id for EXPORTS). ``select``: the record to show
    after refreshing (the one just saved), if any. ``by``: the name of the
    page that made the change and already shows it (it is not refreshed again).
    """

    kinds: frozenset[Kind]
    ids: frozenset[int] = field(default_factory=frozenset)
    select: int | None = None
    by: str = ""

    @classmethod
    def of(cls, *kinds: Kind, ids=(), select: int | None = None, by: str = "") -> Change:
        """``Change.of(Kind.PROSPECTS, select=7)``: the short way to write one."""
        return cls(frozenset(kinds), frozenset(ids), select, by)

    def touches(self, kinds: frozenset[Kind] | set[Kind]) -> bool:
        return bool(self.kinds & kinds)


class ChangeBus(QObject):
    """The one change signal of a window: ``changed(Change)``.

    Signals:
        changed(Change): something changed; subscribers refresh what shows it.
    """

    changed = Signal(object)

    def publish(self, change: Change) -> None:
        if not change.kinds:
            raise ValueError("a change must say what kind of thing changed")
        self.changed.emit(change)


def bus_for(owner: QObject, bus: ChangeBus | None) -> ChangeBus:
    """The bus a dialog or page says its changes on: the window's, given when it
    is built, or (built on its own, as tests and tools do) one of its own."""
    return bus if bus is not None else ChangeBus(owner)
