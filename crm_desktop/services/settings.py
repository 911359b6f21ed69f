"""Per-database settings an admin sets once: who the data controller is.

A subject access pack must say who holds the person's data and how to reach
them (UK GDPR article 15 and the ICO's guidance: the controller's identity
and contact details, and the data protection officer's). Those details are
the company's, not the app's, so an admin enters them once (File >
Settings, or ``crm settings set``) and every pack uses them; until they are
set, no pack is made (``require_controller``), rather than one that names
nobody.

They live in the ``setting`` table as ``controller.*`` keys, so everyone on
a shared database sees the same. Every change is audited
(``setting.changed``, old -> new).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlmodel import Session

from ..domain.models import MAX_TEXT, Setting, User
from ..domain.roles import Action
from ..domain.validation import ErrorCollector, ValidationError, clean_text, normalise_email
from ..errors import CrmError
from . import audit
from .context import Context
from .results import Jsonable

PREFIX = "controller."
MAX_ADDRESS = 500


@dataclass(frozen=True)
class Controller(Jsonable):
    """The data controller's details as the access pack shows them."""

    name: str | None = None  # the company's legal name
    address: str | None = None  # postal address, one or more lines
    email: str | None = None  # where people send requests about their data
    dpo_name: str | None = None  # data protection officer (or privacy lead)
    dpo_email: str | None = None  # optional: the DPO's own address, else ``email``

    def missing(self) -> list[str]:
        """The labels of the required details not set yet (empty when complete)."""
        return [FIELDS[f][0] for f in REQUIRED if not getattr(self, f)]


# field -> (label, CLI option)
FIELDS = {
    "name": ("Company name", "--controller-name"),
    "address": ("Company address", "--controller-address"),
    "email": ("Contact email", "--controller-email"),
    "dpo_name": ("Data protection officer", "--dpo-name"),
    "dpo_email": ("DPO email", "--dpo-email"),
}
REQUIRED = ("name", "address", "email", "dpo_name")


class ControllerNotSetError(CrmError):
    """The controller's details are incomplete, so no access pack can be made."""


def _read(session: Session) -> Controller:
    keys = [PREFIX + f.name for f in fields(Controller)]
    stored = {
        row.key.removeprefix(PREFIX): row.value
        for row in session.scalars(select(Setting).where(Setting.key.in_(keys)))
    }
    return Controller(**{k: (v or None) for k, v in stored.items()})


def missing_message(missing: list[str]) -> str:
    """Why a pack cannot be made yet, and exactly how to fix it."""
    options = " ".join(f'{option} "…"' for f, (label, option) in FIELDS.items() if label in missing)
    return (
        "A subject access pack must name the data controller, and these details are not "
        f"set yet: {', '.join(missing)}. An admin sets them once in File > Settings, or "
        f"with: crm settings set {options}"
    )


def require_controller(session: Session) -> Controller:
    """The controller's details, or :class:`ControllerNotSetError` naming what is missing."""
    controller = _read(session)
    missing = controller.missing()
    if missing:
        raise ControllerNotSetError(missing_message(missing))
    return controller


def get_controller(ctx: Context) -> Controller:
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return _read(session)


def _clean(field: str, value: str | None) -> str | None:
    if field in ("email", "dpo_email"):
        return normalise_email(value)
    if field == "address":
        return clean_text(value, max_len=MAX_ADDRESS, multiline=True)
    return clean_text(value, max_len=MAX_TEXT)


def set_controller(ctx: Context, **changes: str | None) -> Controller:
    """Change some of the controller's details (admins); ``None`` or "" clears one.

    Only the fields given change. Each field's error is reported at once
    (:class:`ValidationError`, keyed by field); nothing is stored unless all
    are valid. Changes are audited, old -> new.
    """
    ctx.require(Action.MANAGE_SETTINGS)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown controller setting(s): {', '.join(sorted(unknown))}")
    c = ErrorCollector()
    cleaned = {f: c.run(f, _clean, f, v) for f, v in changes.items()}
    c.raise_if_any()
    with ctx.db.transaction() as session:
        before = _read(session)
        for field, value in cleaned.items():
            key = PREFIX + field
            row = session.get(Setting, key)
            if value is None:
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(Setting(key=key, value=value))
            else:
                row.value = value
        session.flush()
        after = _read(session)
        for field in cleaned:
            old, new = getattr(before, field), getattr(after, field)
            if old != new:
                audit.record(
                    session, ctx.user, "setting.changed", "setting", PREFIX + field,
                    {"value": {"old": old, "new": new}},
                )  # fmt: skip
        return after


# --------------------------------------------------------- staff names


def staff_names(session: Session) -> dict[str, str]:
    """User name -> the name people know them by (for documents sent outside)."""
    return {
        u.username: (u.display_name or u.username)
        for u in session.scalars(select(User).where(User.display_name.is_not(None)))
    }


def set_display_name(ctx: Context, name: str | None) -> str:
    """Change the signed-in user's own name as shown to others (and on access packs)."""
    try:
        clean = clean_text(name, max_len=MAX_TEXT, required=True)
    except ValueError as exc:
        raise ValidationError({"display_name": str(exc)}) from None
    with ctx.db.transaction() as session:
        user = session.scalars(select(User).where(User.username == ctx.user)).first()
        if user is None:
            raise CrmError(f"{ctx.user} is not a user of this database.")
        if user.display_name != clean:
            old = user.display_name
            user.display_name = clean
            user.version += 1
            audit.record(
                session, ctx.user, "user.renamed", "user", user.username,
                {"display_name": {"old": old, "new": clean}},
            )  # fmt: skip
        return clean
