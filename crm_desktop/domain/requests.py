"""Data-subject requests: the deadlines and rules of the UK GDPR, as pure functions.

A request must be answered within one calendar month of receipt: by the
same date of the next month, or that month's last day when it has no such
date (31 January -> 28 February, or 29 February in a leap year). The
deadline may be extended once, by up to two further months, for a recorded
reason; the new deadline is counted from receipt by the same rule (so 31
January extended by two months is due 30 April, not 28 April).

We keep the strict calendar date even when it falls on a weekend or bank
holiday (the ICO would allow the next working day): answering a day early
is always lawful, answering late never is.

Nothing here touches the database: the service layer (``services.requests``)
calls these rules, and the GUI, the CLI and the tests all get the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import dates
from .enums import Labelled
from .models import MAX_NOTE, MAX_SUMMARY, MAX_TEXT
from .validation import (
    ErrorCollector,
    ValidationError,
    clean_text,
    normalise_email,
    normalise_phone,
    parse_choice,
    parse_date,
)

RESPONSE_MONTHS = 1
MAX_EXTENSION_MONTHS = 2
DUE_SOON_DAYS = 7
# How long a closed request keeps who asked (name, contact details, notes):
# six years, the limitation period for a claim about how it was handled
# (Limitation Act 1980). The request itself (kind, dates, outcome) stays.
# Erasing the person does not shorten it: the erasure blanks the prospect,
# and the register must still show who asked and that we answered.
REQUEST_RETENTION_YEARS = 6


class RequestKind(Labelled):
    """The rights a person can exercise (UK GDPR Articles 15-21)."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"  # to direct marketing
    PORTABILITY = "portability"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    RequestKind.ACCESS: "Subject access",
    RequestKind.RECTIFICATION: "Rectification",
    RequestKind.ERASURE: "Erasure",
    RequestKind.RESTRICTION: "Restriction of processing",
    RequestKind.OBJECTION: "Objection to marketing",
    RequestKind.PORTABILITY: "Portability",
}


class RequestStatus(Labelled):
    """Where a request stands.

    An extension is not a status: a request can be extended while open or
    in progress, and the register must still say which. It is recorded
    beside the status (when, by how much, why).
    """

    OPEN = "open"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    REFUSED = "refused"

    @property
    def closed(self) -> bool:
        return self in (RequestStatus.COMPLETED, RequestStatus.REFUSED)


class Urgency(Labelled):
    """How close an open request is to its deadline (the list's highlighting)."""

    OVERDUE = "overdue"
    DUE_SOON = "due-soon"  # due within DUE_SOON_DAYS days (today included)
    OK = "ok"
    CLOSED = "closed"


# Kinds that may be completed before the requester's identity is verified:
# acting on an objection to marketing stops processing, so it discloses and
# destroys nothing (and an objection is never refused; see the README).
NO_VERIFICATION_NEEDED = frozenset({RequestKind.OBJECTION})

# Labels for the fields the request rules name in a ValidationError
# (``validation.field_label`` knows the prospect form's fields only).
FIELD_LABELS = {
    "kind": "Kind",
    "prospect": "Prospect",
    "requester": "Requester",
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "received": "Date received",
    "notes": "Notes",
    "months": "Extension",
    "reason": "Reason",
    "outcome": "Outcome",
    "status": "Status",
    "identity_verified": "Identity",
}

MAX_REQUEST_NOTES = MAX_SUMMARY


# ------------------------------------------------------------ deadlines


def add_months(start: date, months: int) -> date:
    """The same day ``months`` calendar months later, or that month's last day.

    30 November + 1 -> 30 December; 31 December + 1 -> 31 January of the next
    year; 31 January + 1 -> 28 February (29 in a leap year).
    """
    if months < 0:
        raise ValueError("months must not be negative")
    return dates.add_months(start, months)


def due_date(received: date) -> date:
    """The deadline for answering a request received on ``received``."""
    return add_months(received, RESPONSE_MONTHS)


def extended_due_date(received: date, months: int = MAX_EXTENSION_MONTHS) -> date:
    """The deadline after extending by ``months`` (1 or 2), counted from receipt."""
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 1 or {MAX_EXTENSION_MONTHS} months (got {months})")
    return add_months(received, RESPONSE_MONTHS + months)


def days_left(due: date, today: date) -> int:
    """Whole days until ``due`` (0 on the day itself, negative once overdue)."""
    return (due - today).days


def urgency(due: date, today: date, *, closed: bool = False) -> Urgency:
    if closed:
        return Urgency.CLOSED
    left = days_left(due, today)
    if left < 0:
        return Urgency.OVERDUE
    if left <= DUE_SOON_DAYS:
        return Urgency.DUE_SOON
    return Urgency.OK


# ---------------------------------------------------------------- input


@dataclass
class RequestInput:
    """What a person entered for a new request; strings as typed.

    ``prospect`` names a known prospect (an id or email address, resolved by
    the service); otherwise name, email and phone describe a requester we
    have not matched yet (at least one is needed).
    """

    kind: str | None = None
    prospect: int | str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    received: str | date | None = None  # default: today
    identity_verified: bool = False
    notes: str | None = None


@dataclass(frozen=True)
class RequestData:
    kind: RequestKind
    prospect: str | None  # as typed: "12", "#12" or an email address
    name: str | None
    email: str | None
    phone: str | None  # E.164
    received: date
    identity_verified: bool
    notes: str | None


def check_received(received: date, today: date) -> None:
    """A request cannot arrive in the future (its deadline would be too late)."""
    if received > today:
        raise ValueError(f"cannot be in the future (today is {dates.format_date(today)})")


def validate_request(data: RequestInput, *, today: date) -> RequestData:
    """Clean a new request, collecting every field's error at once."""
    c = ErrorCollector()
    kind = c.run("kind", parse_choice, RequestKind, data.kind, required=True)
    prospect = c.run("prospect", lambda: clean_text(_text(data.prospect), max_len=MAX_TEXT))
    name = c.run("name", lambda: clean_text(data.name, max_len=MAX_TEXT))
    email = c.run("email", normalise_email, data.email)
    phone = c.run("phone", normalise_phone, data.phone)
    received = c.run("received", parse_date, data.received) or today
    if "received" not in c.errors:
        c.run("received", check_received, received, today)
    notes = c.run("notes", _notes, data.notes)
    unclear = c.errors.keys() & {"prospect", "name", "email", "phone"}
    if not unclear and not (prospect or name or email or phone):
        c.errors["requester"] = (
            "give the prospect, or the requester's name, email address or phone number"
        )
    c.raise_if_any()
    return RequestData(
        kind=kind,
        prospect=prospect,
        name=name,
        email=email,
        phone=phone.e164 if phone else None,
        received=received,
        identity_verified=bool(data.identity_verified),
        notes=notes,
    )


def _text(value: int | str | None) -> str | None:
    return None if value is None else str(value)


def _notes(value: str | None) -> str | None:
    return clean_text(value, max_len=MAX_REQUEST_NOTES, multiline=True)


def clean_notes(value: str | None) -> str | None:
    """Notes as stored (multi-line, trimmed); raises ValidationError on "notes"."""
    try:
        return _notes(value)
    except ValueError as exc:
        raise ValidationError({"notes": str(exc)}) from None


def clean_requester(
    name: str | None, email: str | None, phone: str | None
) -> tuple[str | None, str | None, str | None]:
    """An unmatched requester's details as stored (phone in E.164)."""
    c = ErrorCollector()
    clean_name = c.run("name", lambda: clean_text(name, max_len=MAX_TEXT))
    clean_email = c.run("email", normalise_email, email)
    clean_phone = c.run("phone", normalise_phone, phone)
    c.raise_if_any()
    return clean_name, clean_email, clean_phone.e164 if clean_phone else None


# ------------------------------------------------------------ changes


def check_open(status: RequestStatus, closed_on: date | None = None) -> None:
    """Closed requests are the record of what we did: they never change."""
    if status.closed:
        when = f" on {dates.format_date(closed_on)}" if closed_on else ""
        raise ValidationError(
            {"status": f"the request was {status.label.lower()}{when}; it cannot be changed"}
        )


def check_extension(
    *,
    status: RequestStatus,
    received: date,
    already_extended: bool,
    months: int,
    reason: str | None,
    today: date,
) -> tuple[date, str]:
    """The new deadline and the cleaned reason, or ValidationError saying why not.

    Once only, by one or two months, with a reason, and before the original
    one-month deadline has passed: the requester must be told of an
    extension within that month, so a late "extension" would only hide a
    missed deadline.
    """
    check_open(status)
    errors: dict[str, str] = {}
    if already_extended:
        errors["months"] = "this request was already extended; the law allows one extension"
    elif months not in range(1, MAX_EXTENSION_MONTHS + 1):
        errors["months"] = f"must be 1 or {MAX_EXTENSION_MONTHS} months"
    elif today > due_date(received):
        errors["months"] = (
            f"the one-month deadline ({dates.format_date(due_date(received))}) has passed: an "
            "extension must be made, and the requester told, within that month"
        )
    clean_reason = None
    try:
        clean_reason = clean_text(reason, max_len=MAX_NOTE, required=True, multiline=True)
    except ValueError as exc:
        errors["reason"] = (
            "is required: why the request needs longer (e.g. complex, or many requests)"
            if str(exc) == "is required"
            else str(exc)
        )
    if errors:
        raise ValidationError(errors)
    return extended_due_date(received, months), clean_reason  # type: ignore[return-value]


def check_close(
    *,
    kind: RequestKind,
    status: RequestStatus,
    identity_verified: bool,
    refused: bool,
    outcome: str | None,
) -> str:
    """The cleaned outcome of closing a request, or ValidationError saying why not.

    A request is completed only once the requester's identity is verified
    (we must not disclose, hand over or erase someone's data on an
    unverified say-so); an objection to marketing is the exception. It may
    always be refused (for one, because the identity could not be verified).
    """
    check_open(status)
    errors: dict[str, str] = {}
    try:
        clean_outcome = clean_text(outcome, max_len=MAX_NOTE, required=True, multiline=True)
    except ValueError as exc:
        clean_outcome = None
        errors["outcome"] = (
            "is required: what was done, or why the request was refused"
            if str(exc) == "is required"
            else str(exc)
        )
    if not refused and not identity_verified and kind not in NO_VERIFICATION_NEEDED:
        errors["identity_verified"] = (
            "must be verified before the request is completed (or refuse it if it cannot be)"
        )
    if errors:
        raise ValidationError(errors)
    return clean_outcome  # type: ignore[return-value]
