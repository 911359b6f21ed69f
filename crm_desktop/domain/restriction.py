"""Restriction of processing: a restricted or erased person's data is kept, not changed or used.

The rule every action that would change or use someone's data checks first
(prospects, correspondence, marketing); ``services.rights`` restricts,
lifts and erases.
"""

from __future__ import annotations

from ..errors import CrmError
from .models import Prospect


class RestrictedError(CrmError):
    """The person's data is restricted: it may be kept, not changed or used."""


def refuse_if_restricted(p: Prospect) -> None:
    """Called by every action that would change or use a restricted person's data."""
    if p.erased_at is not None:
        raise RestrictedError(f"Prospect #{p.id} was erased; there is nothing left to change.")
    if p.restricted_at is not None:
        raise RestrictedError(
            f"{p.first_name} {p.last_name}'s data is restricted "
            f"({p.restriction_reason or 'no reason given'}): it is kept but cannot be changed "
            "or used until a manager lifts the restriction."
        )
