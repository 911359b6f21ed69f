"""SQLModel tables.

Table models do not validate (sqlmodel#52): every write goes through
``crm_desktop.domain.validation`` first, then the service layer builds rows.
Times are aware UTC datetimes (see ``types.UTCDateTime``); dates (follow-ups) are calendar dates.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

MAX_NAME = 100
MAX_EMAIL = 254
MAX_TEXT = 200
MAX_SUMMARY = 20_000
MAX_NOTE = 5_000


class School(SQLModel, table=True):
    __tablename__ = "school"
    __table_args__ = (Index("ix_school_name_key", "name_key", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=MAX_TEXT)
    # Lower-cased name, for case-insensitive lookup on every database.
    name_key: str = Field(max_length=MAX_TEXT)
    urn: str | None = Field(default=None, max_length=6, unique=True)
    phase: str | None = Field(default=None, max_length=40)
    local_authority: str | None = Field(default=None, max_length=MAX_TEXT)
    postcode: str | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=20)
    website: str | None = Field(default=None, max_length=MAX_TEXT)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1)


class Interest(SQLModel, table=True):
    """One of the services we sell; a managed list."""

    __tablename__ = "interest"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=MAX_TEXT)
    name_key: str = Field(max_length=MAX_TEXT, unique=True)


class ProspectInterest(SQLModel, table=True):
    __tablename__ = "prospect_interest"

    prospect_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="CASCADE"), primary_key=True)
    )
    interest_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("interest.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class Prospect(SQLModel, table=True):
    __tablename__ = "prospect"
    __table_args__ = (
        UniqueConstraint("email_key", name="uq_prospect_email_key"),
        # Every sort of the prospect table walks one of these (the id is the
        # tie-breaker), see migration 0014.
        Index("ix_prospect_last_name", "last_name", "first_name", "id"),
        Index("ix_prospect_last_contact_at", "last_contact_at", "id"),
        Index("ix_prospect_next_follow_up", "next_follow_up", "id"),
        Index("ix_prospect_stage", "stage", "id"),
        Index("ix_prospect_owner", "owner", "id"),
        Index("ix_prospect_role", "role", "id"),
        Index("ix_prospect_school_id", "school_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(max_length=MAX_NAME)
    last_name: str = Field(max_length=MAX_NAME)
    # Normalised by email-validator; email_key is its lower-cased form and
    # carries the case-insensitive uniqueness.
    email: str | None = Field(default=None, max_length=MAX_EMAIL)
    email_key: str | None = Field(default=None, max_length=MAX_EMAIL)
    phone: str | None = Field(default=None, max_length=20)  # E.164
    school_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("school.id", ondelete="SET NULL")),
    )
    role: str | None = Field(default=None, max_length=MAX_TEXT)
    stage: str = Field(default="lead", max_length=20)
    owner: str | None = Field(default=None, max_length=MAX_NAME)
    source: str | None = Field(default=None, max_length=40)
    source_detail: str | None = Field(default=None, max_length=MAX_TEXT)
    source_date: date | None = None
    # Kept in step by the correspondence services, so the table sorts in SQL.
    last_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_follow_up: date | None = None
    # Marketing permissions (current state; the consent ledger holds history).
    lawful_basis: str = Field(default="none", max_length=30)
    li_assessment_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("li_assessment.id", ondelete="SET NULL")),
    )
    li_note: str | None = Field(default=None, max_length=MAX_NOTE)
    # None: inferred from the email domain; else set by a person.
    subscriber_type_override: str | None = Field(default=None, max_length=20)
    personalisation_refused: bool = Field(default=False)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    restricted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    restriction_reason: str | None = Field(default=None, max_length=MAX_NOTE)
    # When a retention reviewer last decided to keep them (restarts the clock).
    retention_kept_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1)


class Correspondence(SQLModel, table=True):
    __tablename__ = "correspondence"
    __table_args__ = (
        Index("ix_correspondence_prospect", "prospect_id", "occurred_at"),
        Index("ix_correspondence_follow_up", "follow_up_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=20)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    subject: str | None = Field(default=None, max_length=MAX_TEXT)
    summary: str = Field(max_length=MAX_SUMMARY)
    logged_by: str = Field(max_length=MAX_NAME)
    follow_up_on: date | None = None
    follow_up_done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Setting(SQLModel, table=True):
    """Per-database settings (shared by everyone using this database)."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(max_length=10_000)


class LIAssessment(SQLModel, table=True):
    """A reusable legitimate-interest assessment that many prospects point to."""

    __tablename__ = "li_assessment"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=MAX_TEXT)
    name_key: str = Field(max_length=MAX_TEXT, unique=True)
    purpose: str = Field(max_length=MAX_NOTE)
    necessity: str = Field(max_length=MAX_NOTE)
    balancing: str = Field(max_length=MAX_NOTE)
    created_by: str = Field(max_length=MAX_NAME)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ChannelPermission(SQLModel, table=True):
    """Current consent/opt-out state of one prospect on one channel.

    Kept in step with the consent ledger inside the same transaction.
    """

    __tablename__ = "channel_permission"

    prospect_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="CASCADE"), primary_key=True)
    )
    channel: str = Field(primary_key=True, max_length=20)
    consent: bool = Field(default=False)
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_method: str | None = Field(default=None, max_length=30)
    consent_wording: str | None = Field(default=None, max_length=MAX_NOTE)
    consent_policy_version: str | None = Field(default=None, max_length=50)
    consent_given_by: str | None = Field(default=None, max_length=MAX_TEXT)
    consent_recorded_by: str | None = Field(default=None, max_length=MAX_NAME)
    opted_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opt_out_source: str | None = Field(default=None, max_length=30)
    opt_out_reason: str | None = Field(default=None, max_length=MAX_NOTE)


class ConsentEvent(SQLModel, table=True):
    """Append-only ledger of every change to a prospect's marketing permissions."""

    __tablename__ = "consent_event"
    __table_args__ = (Index("ix_consent_event_prospect", "prospect_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="CASCADE"), nullable=False)
    )
    action: str = Field(max_length=40)
    channel: str | None = Field(default=None, max_length=20)
    # JSON object with the evidence / values of this change.
    details: str = Field(default="{}", max_length=20_000)
    recorded_by: str = Field(max_length=MAX_NAME)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class Suppression(SQLModel, table=True):
    """An address that must never be marketed to: a keyed hash, never the address."""

    __tablename__ = "suppression"
    __table_args__ = (UniqueConstraint("digest", "channel", name="uq_suppression_digest_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # email | phone
    digest: str = Field(max_length=64)  # HMAC-SHA256, hex
    channel: str = Field(max_length=20)  # a channel, or "all"
    reason: str = Field(max_length=40)
    source: str | None = Field(default=None, max_length=MAX_TEXT)
    created_by: str = Field(max_length=MAX_NAME)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ExportRun(SQLModel, table=True):
    """The record of one campaign export."""

    __tablename__ = "export_run"
    __table_args__ = (Index("ix_export_run_state", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    created_by: str = Field(max_length=MAX_NAME)
    created_at: datetime = Field(sa_type=UTCDateTime)
    channel: str = Field(max_length=20)
    campaign: str = Field(max_length=MAX_TEXT)
    purpose: str | None = Field(default=None, max_length=MAX_NOTE)
    personalised: bool = Field(default=False)
    format: str = Field(max_length=20)
    filters: str = Field(default="{}", max_length=10_000)  # JSON
    included: int = 0
    excluded: int = 0
    exclusions: str = Field(default="{}", max_length=10_000)  # JSON: reason -> count
    file_name: str = Field(max_length=1_000)
    sha256: str = Field(max_length=64)
    # True when the export was asked to replace a file that was already there
    # (``crm export --overwrite``); the SHA-256 is that of the new file.
    replaced_file: bool = Field(default=False)
    # "writing" from before the file is begun until it is in place, then
    # "complete"; "interrupted" when the run was killed before the file was in
    # place (its temporary file deleted, its list never sent). Only complete
    # exports are lists that were sent (see services.exports).
    state: str = Field(default="complete", max_length=20)
    # The hidden temporary file the list is written to before it is renamed
    # into place (chosen and recorded before it is created), and the computer
    # it is on: a later start there deletes it if the run was killed.
    part_file: str | None = Field(default=None, max_length=1_000)
    host: str | None = Field(default=None, max_length=255)


class ExportMember(SQLModel, table=True):
    """Who was in an export (so we can tell a person which lists they were on)."""

    __tablename__ = "export_member"
    __table_args__ = (Index("ix_export_member_prospect", "prospect_id"),)

    export_id: int = Field(
        sa_column=Column(Integer, ForeignKey("export_run.id", ondelete="CASCADE"), primary_key=True)
    )
    # No foreign key: the record of an export outlives a deleted prospect.
    prospect_id: int = Field(primary_key=True)


class BackupRun(SQLModel, table=True):
    """One backup copy being made or made (manual, daily or weekly).

    Committed in state "writing" before its temporary file exists, so that a
    killed run is found and tidied on the next start; "complete" once the
    file is in place (with its audit entry), "interrupted" if it never was.
    """

    __tablename__ = "backup_run"
    __table_args__ = (Index("ix_backup_run_state", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    started_by: str = Field(max_length=MAX_NAME)
    kind: str = Field(max_length=20)  # manual, daily, weekly
    file_name: str = Field(max_length=1_000)
    part_file: str = Field(max_length=1_000)
    host: str = Field(max_length=255)
    state: str = Field(default="writing", max_length=20)
    sha256: str = Field(default="", max_length=64)  # of the copy, once it is made
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    """Someone who uses this database. Never deleted: deactivated (history stays)."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=MAX_NAME, unique=True)  # lower-case
    display_name: str = Field(max_length=MAX_TEXT)
    role: str = Field(max_length=20)
    # argon2id (PHC string); None until the user sets a password.
    password_hash: str | None = Field(default=None, max_length=500)
    active: bool = Field(default=True)
    # A name on records only (the demo's sales staff): never signs in, and
    # does not make the database multi-user.
    record_only: bool = Field(default=False)
    failed_attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


class AuditEntry(SQLModel, table=True):
    """Append-only, hash-chained record of changes and sign-ins.

    ``hash`` covers the entry's fields, the hashes of its values
    (``value_hashes``) and the previous entry's hash. The values themselves
    (``values``) sit beside the chain, so erasure can redact them without
    breaking verification.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=MAX_NAME)
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=MAX_NOTE)
    values: str = Field(default="{}", max_length=1_000_000)  # JSON, redactable
    value_hashes: str = Field(default="{}", max_length=1_000_000)  # JSON, chained
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    # The fingerprint of the key whose HMAC ``hash`` is; NULL for the unkeyed
    # SHA-256 entries written before keys existed (see domain.audit).
    key_id: str | None = Field(default=None, max_length=64)


class DataSubjectRequest(SQLModel, table=True):
    """One entry in the register of data-subject requests (access, erasure, ...).

    The requester's name and contact details are kept on the request itself,
    also when it is linked to a prospect: the register must still show who
    asked, and that we answered, after that prospect is erased or deleted
    (the link is then cleared). ``due_on`` is stored, not derived, so the
    register sorts and counts overdue requests in SQL; the rules that set it
    live in ``domain.requests``.
    """

    __tablename__ = "data_subject_request"
    __table_args__ = (
        Index("ix_data_subject_request_status_due", "status", "due_on"),
        Index("ix_data_subject_request_prospect", "prospect_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    status: str = Field(default="open", max_length=20)
    prospect_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="SET NULL")),
    )
    requester_name: str | None = Field(default=None, max_length=MAX_TEXT)
    requester_email: str | None = Field(default=None, max_length=MAX_EMAIL)
    requester_phone: str | None = Field(default=None, max_length=20)  # E.164
    received_on: date
    due_on: date
    identity_verified: bool = Field(default=False)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_by: str | None = Field(default=None, max_length=MAX_NAME)
    extended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    extension_months: int | None = None
    extension_reason: str | None = Field(default=None, max_length=MAX_NOTE)
    outcome: str | None = Field(default=None, max_length=MAX_NOTE)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notes: str | None = Field(default=None, max_length=MAX_SUMMARY)
    created_by: str = Field(max_length=MAX_NAME)
    # The user who last acted on the request (recorded, verified, extended, closed).
    handled_by: str = Field(max_length=MAX_NAME)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1)


class ImportBatch(SQLModel, table=True):
    """One file of contacts brought in (``crm import`` or File > Import).

    Holds what the batch was told (source, lawful basis and its evidence),
    who ran it, and its counts; no personal data. Each prospect the batch
    created or updated is an :class:`ImportMember`, which is the prospect's
    origin (shown in its history and in the subject access pack).
    """

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=1_000)  # the name only, no folder
    sha256: str = Field(max_length=64)  # of the file as read
    format: str = Field(max_length=20)  # csv, xlsx, google, outlook, mailchimp, vcard
    source: str = Field(max_length=MAX_TEXT)  # e.g. "Bett 2026 stand sign-ups"
    lawful_basis: str = Field(default="none", max_length=30)
    consent_wording: str | None = Field(default=None, max_length=MAX_NOTE)
    consent_policy_version: str | None = Field(default=None, max_length=50)
    li_note: str | None = Field(default=None, max_length=MAX_NOTE)
    li_assessment_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("li_assessment.id", ondelete="SET NULL")),
    )
    on_duplicate: str = Field(max_length=20)  # keep, fill, overwrite
    on_suppressed: str = Field(default="opt-out", max_length=20)  # opt-out, skip
    counts: str = Field(default="{}", max_length=10_000)  # JSON: outcome -> count
    created_by: str = Field(max_length=MAX_NAME)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ImportMember(SQLModel, table=True):
    """A prospect an import created or updated, and from which row."""

    __tablename__ = "import_member"
    __table_args__ = (Index("ix_import_member_prospect", "prospect_id"),)

    import_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("import_batch.id", ondelete="CASCADE"), primary_key=True
        )
    )
    prospect_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="CASCADE"), primary_key=True)
    )
    outcome: str = Field(max_length=20)  # created, updated, opted-out
    row_number: int  # 1-based data row (or card) in the file


class ContactPoint(SQLModel, table=True):
    """An email address or phone number of a prospect beyond the primary one.

    The primary address and number stay on :class:`Prospect`; a contact that
    arrives with several keeps the others here, in their order. ``value_key``
    is the lower-cased email or the E.164 number, for lookups and duplicate
    detection.
    """

    __tablename__ = "contact_point"
    __table_args__ = (
        Index("ix_contact_point_prospect", "prospect_id"),
        Index("ix_contact_point_key", "kind", "value_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=10)  # email | phone
    value: str = Field(max_length=MAX_EMAIL)
    value_key: str = Field(max_length=MAX_EMAIL)
    position: int = Field(default=0)
    created_at: datetime = Field(sa_type=UTCDateTime)


class DuplicateDismissal(SQLModel, table=True):
    """Two prospects someone looked at and said are different people.

    Stored with the lower id first, so a pair is dismissed once whichever
    way round it was found.
    """

    __tablename__ = "duplicate_dismissal"

    low_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="CASCADE"), primary_key=True)
    )
    high_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prospect.id", ondelete="CASCADE"), primary_key=True)
    )
    dismissed_by: str = Field(max_length=MAX_NAME)
    dismissed_at: datetime = Field(sa_type=UTCDateTime)
