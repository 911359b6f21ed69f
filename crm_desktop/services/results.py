"""Plain results returned by services (no ORM objects leak to callers).

Frozen dataclasses a caller can keep, compare and turn into JSON; the
widgets that show them are the ``ui`` packages' pages and dialogs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from ..domain.validation import format_phone


def _jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class Jsonable:
    """Base of the result dataclasses: ``to_dict`` gives plain JSON values (dates as ISO 8601)."""

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))  # type: ignore[arg-type]


@dataclass(frozen=True)
class SchoolView(Jsonable):
    id: int
    name: str
    urn: str | None
    phase: str | None
    local_authority: str | None
    postcode: str | None
    phone: str | None
    website: str | None
    version: int
    prospect_count: int = 0

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)


@dataclass(frozen=True)
class OriginView(Jsonable):
    """An import that created or updated a prospect: where their details came from."""

    import_id: int
    file_name: str
    source: str
    format: str
    outcome: str  # created | updated | opted-out
    row_number: int
    lawful_basis: str
    consent_wording: str | None
    consent_policy_version: str | None
    li_note: str | None
    li_assessment_id: int | None
    li_assessment_name: str | None
    imported_by: str
    imported_at: datetime


@dataclass(frozen=True)
class ProspectView(Jsonable):
    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    school_id: int | None
    school_name: str | None
    role: str | None
    stage: str
    owner: str | None
    source: str | None
    source_detail: str | None
    source_date: date | None
    interests: list[str]
    last_contact_at: datetime | None
    next_follow_up: date | None
    created_at: datetime
    updated_at: datetime
    version: int
    restricted_at: datetime | None = None
    restriction_reason: str | None = None
    erased_at: datetime | None = None
    # Addresses beyond the primary ones (an import keeps them), in order;
    # phones in E.164 like ``phone``.
    other_emails: list[str] = field(default_factory=list)
    other_phones: list[str] = field(default_factory=list)
    # Each import that created or updated them, oldest first.
    origins: list[OriginView] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    @property
    def other_phones_display(self) -> list[str]:
        return [format_phone(p) for p in self.other_phones]


@dataclass(frozen=True)
class ProspectRow:
    """One row of the prospect table: only what the table shows."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    school_name: str | None
    role: str | None
    stage: str
    owner: str | None
    last_contact_at: datetime | None
    next_follow_up: date | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class ContactView(Jsonable):
    id: int
    prospect_id: int
    kind: str
    occurred_at: datetime
    subject: str | None
    summary: str
    logged_by: str
    follow_up_on: date | None
    follow_up_done_at: datetime | None


@dataclass(frozen=True)
class FollowUpView(Jsonable):
    contact_id: int
    prospect_id: int
    prospect_name: str
    school_name: str | None
    due: date
    status: str  # overdue | today | upcoming
    kind: str
    subject: str | None
    summary: str
    assigned_to: str


@dataclass
class Saved(Jsonable):
    """A saved record and any warnings worth showing (accepted anyway)."""

    record: object
    warnings: list[str] = field(default_factory=list)
