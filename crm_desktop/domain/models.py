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


class School(SQLModel, table=True):
    __tablename__ = "school"
    __table_args__ = (Index("ix_school_name_key", "name_key"),)

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
        Index("ix_prospect_last_name", "last_name", "first_name"),
        Index("ix_prospect_last_contact_at", "last_contact_at"),
        Index("ix_prospect_next_follow_up", "next_follow_up"),
        Index("ix_prospect_stage", "stage"),
        Index("ix_prospect_owner", "owner"),
        Index("ix_prospect_role", "role"),
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
        sa_column=Column(Integer, ForeignKey("school.id", ondelete="SET NULL"), index=True),
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
