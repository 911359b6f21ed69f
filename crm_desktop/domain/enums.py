"""Enumerations shared by the domain, services, CLI and UI.

Values are the stable strings stored in the database and accepted on the
command line; ``label`` gives the text a person reads.
"""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """An enum whose members have a label for people and parse from a value or a label."""

    @property
    def label(self) -> str:
        return _LABELS.get(self, self.value.replace("-", " ").replace("_", " ").capitalize())

    @classmethod
    def parse(cls, text: str) -> Labelled:
        """Accept a value or a label, case-insensitively, with - _ or space."""
        key = _norm(text)
        for member in cls:
            if key in (_norm(member.value), _norm(member.label)):
                return member
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"'{text}' is not one of: {allowed}")


def _norm(text: str) -> str:
    return "".join(ch for ch in text.strip().lower() if ch.isalnum())


class Stage(Labelled):
    LEAD = "lead"
    CONTACTED = "contacted"
    DEMO_BOOKED = "demo-booked"
    TRIAL = "trial"
    CUSTOMER = "customer"
    LOST = "lost"


class SchoolPhase(Labelled):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all-through"
    SPECIAL = "special"
    COLLEGE = "college"
    MAT = "multi-academy-trust"
    INDEPENDENT = "independent"


class ContactKind(Labelled):
    EMAIL_IN = "email-in"
    EMAIL_OUT = "email-out"
    CALL = "call"
    MEETING = "meeting"
    VIDEO = "video"
    CHAT = "chat"
    EVENT = "event"
    SURVEY = "survey"
    NOTE = "note"


class DataSource(Labelled):
    WEB_FORM = "web-form"
    EVENT = "event"
    REFERRAL = "referral"
    INBOUND_EMAIL = "inbound-email"
    PHONE = "phone"
    IMPORT = "import"
    PUBLIC_DIRECTORY = "public-directory"
    OTHER = "other"


_LABELS: dict[StrEnum, str] = {
    Stage.DEMO_BOOKED: "Demo booked",
    SchoolPhase.ALL_THROUGH: "All-through",
    SchoolPhase.MAT: "Multi-academy trust",
    ContactKind.EMAIL_IN: "Email (in)",
    ContactKind.EMAIL_OUT: "Email (out)",
    ContactKind.CALL: "Phone call",
    ContactKind.VIDEO: "Video call",
    ContactKind.SURVEY: "Survey / feedback",
    DataSource.WEB_FORM: "Web form",
    DataSource.INBOUND_EMAIL: "Inbound email",
    DataSource.PUBLIC_DIRECTORY: "Public directory (GIAS)",
}

# Suggested job roles; the field also takes free text.
JOB_ROLES: tuple[str, ...] = (
    "Headteacher",
    "Deputy head",
    "Assistant head",
    "School business manager",
    "SENCo",
    "Data manager",
    "IT lead",
    "Trust CEO",
    "Trust COO",
    "Head of department",
    "Teacher",
    "Office manager",
    "Governor",
)

# The services we sell; seeds the managed list of interests in a new database.
DEFAULT_INTERESTS: tuple[str, ...] = (
    "MIS integration",
    "Assessment tracking",
    "Parent communications",
    "Attendance analytics",
    "SEND support",
    "Safeguarding",
    "Curriculum planning",
    "Staff CPD",
    "Finance & budgeting",
    "Trust-wide reporting",
)


class Channel(Labelled):
    """Marketing channels. "All channels" is a shortcut, not a state."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    ONLINE = "online"  # social/ads audiences and retargeting


class LawfulBasis(Labelled):
    NONE = "none"
    CONSENT = "consent"
    LEGITIMATE_INTEREST = "legitimate-interest"


class SubscriberType(Labelled):
    """PECR: corporate (school, trust, company address) or individual."""

    CORPORATE = "corporate"
    INDIVIDUAL = "individual"


class ConsentMethod(Labelled):
    WEB_FORM = "web-form"
    EVENT_SIGN_UP = "event-sign-up"
    PHONE = "phone"
    EMAIL_REPLY = "email-reply"
    IN_PERSON = "in-person"
    PAPER_FORM = "paper-form"
    OTHER = "other"


class OptOutSource(Labelled):
    PHONE = "phone"
    EMAIL_REPLY = "email-reply"
    EMAIL_TOOL = "email-tool"  # unsubscribe link or bounce, synced from the email tool
    FORM = "form"
    IN_PERSON = "in-person"
    OTHER = "other"
    # Set by an import (an address already on the suppression list); never chosen by hand.
    IMPORT = "import"


_LABELS.update(
    {
        Channel.SMS: "SMS",
        Channel.ONLINE: "Online audiences",
        LawfulBasis.NONE: "None",
        LawfulBasis.LEGITIMATE_INTEREST: "Legitimate interest",
        ConsentMethod.WEB_FORM: "Web form",
        ConsentMethod.EVENT_SIGN_UP: "Event sign-up",
        ConsentMethod.EMAIL_REPLY: "Email reply",
        ConsentMethod.IN_PERSON: "In person",
        ConsentMethod.PAPER_FORM: "Paper form",
        OptOutSource.EMAIL_REPLY: "Email reply",
        OptOutSource.EMAIL_TOOL: "Email tool (unsubscribe/bounce)",
        OptOutSource.IN_PERSON: "In person",
    }
)
