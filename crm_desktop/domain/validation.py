"""Validation shared by every entry path: the form, the CLI and imports.

Each validator takes what a person typed and returns the clean value to
store, or raises :class:`ValidationError` naming the field and saying what is
wrong in words a person can act on. Warnings (accepted, but worth a look) are
collected, never raised.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC as _UTC
from datetime import date, datetime
from urllib.parse import urlsplit

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from .enums import ContactKind, DataSource, SchoolPhase, Stage
from .models import MAX_EMAIL, MAX_NAME, MAX_SUMMARY, MAX_TEXT

DEFAULT_REGION = "GB"


# Messages that read as the rest of a sentence whose subject is the field:
# "is required" -> "First name is required".
PREDICATES = ("is ", "are ", "cannot ", "must ", "contains ", "has ", "needs ", "does ")


def error_sentence(subject: str, message: str) -> str:
    """``subject`` (a field's label or an option) and its message as one phrase.

    ``("First name", "is required")`` -> "First name is required"; a message
    that is not a predicate keeps a colon: "Email: 'x' is not a valid email
    address".
    """
    text = message.strip()
    return f"{subject} {text}" if text.startswith(PREDICATES) else f"{subject}: {text}"


class ValidationError(ValueError):
    """One or more fields are invalid. ``errors`` maps field -> message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__(
            "; ".join(error_sentence(_FIELD_LABELS.get(k, k), v) for k, v in errors.items())
        )


_FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "school": "School",
    "role": "Job role",
    "stage": "Stage",
    "owner": "Owner",
    "source": "Source",
    "source_detail": "Source detail",
    "source_date": "Source date",
    "interests": "Interests",
    "name": "Name",
    "urn": "URN",
    "phase": "Phase/type",
    "local_authority": "Local authority / region",
    "postcode": "Postcode",
    "website": "Website",
    "kind": "Kind",
    "occurred_at": "Date/time",
    "subject": "Subject",
    "summary": "Summary",
    "follow_up_on": "Follow-up date",
    "username": "User name",
    "reason": "Reason",
    "password": "Password",
}


def field_label(name: str) -> str:
    return _FIELD_LABELS.get(name, name)


class ErrorCollector:
    """Gathers per-field errors so a form can show all of them at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.warnings: list[str] = []

    def run(self, name: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            self.errors.update(exc.errors)
        except ValueError as exc:
            self.errors[name] = str(exc)
        return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


# ---------------------------------------------------------------- text rules

# C0 and C1 controls (tab/LF/CR are judged separately), line/paragraph
# separators, lone surrogates and the noncharacters U+FFFE/U+FFFF (not text
# at all; XML, and so XLSX, cannot hold them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")

# Characters that show nothing on their own: spaces, format characters
# (zero-width space and joiners, direction marks, the BOM, soft hyphen, tag
# characters), non-spacing and enclosing marks (variation selectors, the
# combining grapheme joiner, accents with no letter to sit on), the Hangul
# fillers and the blank Braille pattern. A value made only of these looks
# empty wherever it is shown, so it counts as empty. (The Arabic number
# signs and their kin are format characters with a glyph of their own.)
_NOTHING_TO_SEE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Mn", "Me"})
_NOTHING_TO_SEE = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_FORMAT_WITH_A_GLYPH = frozenset(
    "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
)


def _shows(ch: str) -> bool:
    if ch in _FORMAT_WITH_A_GLYPH:
        return True
    return ch not in _NOTHING_TO_SEE and unicodedata.category(ch) not in _NOTHING_TO_SEE_CATEGORIES


def has_visible_character(value: str) -> bool:
    """True if ``value`` shows at least one character when printed."""
    return any(_shows(ch) for ch in value)


def clean_text(
    value: str | None, *, max_len: int, required: bool = False, multiline: bool = False
) -> str | None:
    """Trim, NFC-normalise and bound a text value; reject control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    if value.isascii() and value.isprintable():
        # Plain printable ASCII (most values): already NFC, no line breaks or
        # control characters, and visible once trimmed if anything is left.
        # The same result as below, without the per-character checks.
        value = value.strip()
        if not value:
            if required:
                raise ValueError("is required")
            return None
        if len(value) > max_len:
            raise ValueError(f"is too long ({len(value):,} characters; at most {max_len:,})")
        return value
    value = unicodedata.normalize("NFC", value).strip()
    if not multiline and ("\n" in value or "\r" in value or "\t" in value):
        raise ValueError("must be a single line")
    if _CONTROL.search(value):
        raise ValueError("contains control characters that cannot be stored")
    if value and not has_visible_character(value):
        # Only zero-width or other invisible characters: empty to anyone
        # reading it, so it is treated as empty, never stored.
        if required:
            raise ValueError("needs at least one visible character")
        return None
    if not value:
        if required:
            raise ValueError("is required")
        return None
    if len(value) > max_len:
        raise ValueError(f"is too long ({len(value):,} characters; at most {max_len:,})")
    return value


def _required(name: str, value: str | None, max_len: int) -> str:
    return clean_text(value, max_len=max_len, required=True)  # type: ignore[return-value]


# ------------------------------------------------------------- email & phone


# Plain ASCII addresses (nearly all of them) take a fast path that gives
# exactly what email-validator gives (tested against it); anything else
# (quoted or internationalised parts, punycode, special-use domains, edge
# lengths) goes to email-validator itself. An export checks every address,
# so this matters at a million prospects.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_SPECIAL_USE = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)


def _fast_normalise(text: str) -> str | None:
    match = _PLAIN_EMAIL.fullmatch(text)
    if match is None or len(text) > MAX_EMAIL or len(match.group(1)) > 64:
        return None
    domain = match.group(2).lower()
    if "--" in domain or len(domain) > 253 or domain.rsplit(".", 1)[1] in _SPECIAL_USE:
        return None
    return f"{match.group(1)}@{domain}"


def normalise_email(value: str | None) -> str | None:
    """Return the normalised address, or None for blank; syntax only, no DNS."""
    text = clean_text(value, max_len=MAX_EMAIL)
    if text is None:
        return None
    fast = _fast_normalise(text)
    if fast is not None:
        return fast
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"'{_short(text)}' is not a valid email address ({exc})") from None
    return result.normalized


def email_key(email: str | None) -> str | None:
    return email.lower() if email else None


@dataclass(frozen=True)
class PhoneResult:
    e164: str
    warning: str | None = None


def normalise_phone(value: str | None, region: str = DEFAULT_REGION) -> PhoneResult | None:
    """Parse a phone number to E.164.

    Accepted when it is *possible* for its region; a possible number outside
    the known allocated ranges (such as Ofcom's drama ranges) gets a warning.
    """
    text = clean_text(value, max_len=40)
    if text is None:
        return None
    number, e164 = _parse_phone(text, region)
    warning = None
    if not phonenumbers.is_valid_number(number):
        warning = (
            f"Phone {format_phone(e164)} is not in a known allocated range; "
            "check it before calling."
        )
    return PhoneResult(e164, warning)


def _parse_phone(text: str, region: str) -> tuple[phonenumbers.PhoneNumber, str]:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"'{_short(text)}' is not a phone number") from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        why = {
            phonenumbers.ValidationResult.TOO_SHORT: "too short",
            phonenumbers.ValidationResult.TOO_LONG: "too long",
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "has an unknown country code",
            phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "needs its area code",
        }.get(reason, "has the wrong number of digits")
        raise ValueError(f"'{_short(text)}' is not a possible phone number ({why})")
    return number, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A UK number written plainly, "0161 496 0000" or "+44 7700 900123" (most of
# an import's numbers): ten digits after the 0 or +44, the first not 0, ASCII
# digits and single spaces only. phonenumbers would strip the 0 (an eleven-digit
# number cannot be a GB one, so the prefix always goes) and find ten digits a
# possible GB length, so its E.164 is +44 and the ten digits; the other prefix
# GB numbers are parsed with ("180020") is left to phonenumbers. Tested against
# phonenumbers on random input.
_PLAIN_UK_PHONE = re.compile(r"(?:\+44 ?|0)([1-9](?: ?[0-9]){9})")


def _fast_e164(text: str, region: str) -> str | None:
    if region != "GB":
        return None
    match = _PLAIN_UK_PHONE.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1).replace(" ", "")
    if digits.startswith("180020"):
        return None
    return "+44" + digits


def phone_e164(value: str | None, region: str = DEFAULT_REGION) -> str | None:
    """:func:`normalise_phone`'s E.164 (or its ValueError), without the allocated-range
    warning: for a bulk import, which does not show that warning per row."""
    text = clean_text(value, max_len=40)
    if text is None:
        return None
    return _fast_e164(text, region) or _parse_phone(text, region)[1]


def format_phone(e164: str | None, region: str = DEFAULT_REGION) -> str:
    """National format for home-region numbers, international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == phonenumbers.country_code_for_region(region)
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


# ----------------------------------------------------------------- schools

_URN = re.compile(r"^\d{6}$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")


def normalise_urn(value: str | None) -> str | None:
    text = clean_text(value, max_len=20)
    if text is None:
        return None
    if not _URN.match(text):
        raise ValueError(f"'{_short(text)}' is not a URN (six digits, e.g. 100000)")
    return text


def normalise_postcode(value: str | None) -> str | None:
    text = clean_text(value, max_len=20)
    if text is None:
        return None
    match = _POSTCODE.match(text.upper())
    if not match:
        raise ValueError(f"'{_short(text)}' is not a UK postcode (e.g. SW1A 1AA)")
    return f"{match.group(1)} {match.group(2)}"


def normalise_website(value: str | None) -> str | None:
    text = clean_text(value, max_len=MAX_TEXT)
    if text is None:
        return None
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "." not in host or " " in text:
        raise ValueError(f"'{_short(text)}' is not a web address (e.g. www.example.sch.uk)")
    return text


def parse_choice(enum_cls, value: str | None, *, required: bool = False):
    text = clean_text(value, max_len=MAX_TEXT)
    if text is None:
        if required:
            raise ValueError("is required")
        return None
    return enum_cls.parse(text)


DATE_FORMATS = "YYYY-MM-DD or DD/MM/YYYY"
"""The dates typed text is read as (the CLI's help says so for every date option)."""
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: str | date | None) -> date | None:
    """A date given as text: exactly :data:`DATE_FORMATS`, the day first in the second.

    Nothing else is guessed at (not "11-12-2026", not "next week"), and an
    impossible date says why ("February 2026 has 28 days").
    """
    if value is None or isinstance(value, date):
        return value
    text = clean_text(value, max_len=40)
    if text is None:
        return None
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _UK_DATE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(f"'{_short(text)}' is not a date (use {DATE_FORMATS})")
    if year < 1:
        raise ValueError(f"'{text}' is not a date: there is no year {year}")
    if not 1 <= month <= 12:
        raise ValueError(f"'{text}' is not a date: there is no month {month}")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValueError(
            f"'{text}' is not a date: {calendar.month_name[month]} {year} has {last} days"
        )
    return date(year, month, day)


def parse_datetime(value: str | datetime | None) -> datetime | None:
    """Parse ISO 8601; naive values are local time. Returns aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        text = clean_text(value, max_len=40)
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"'{_short(text)}' is not a date and time (use e.g. 2026-03-01T14:30)"
            ) from None
    if value.tzinfo is None:
        value = value.astimezone()  # interpret as local time
    return value.astimezone(_UTC)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------ input records


@dataclass
class ProspectInput:
    """What a person entered for a prospect; strings as typed."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    school: str | None = None  # a school name, linked or created
    school_id: int | None = None  # or an existing school
    role: str | None = None
    interests: Iterable[str] = ()
    stage: str | None = None
    owner: str | None = None
    source: str | None = None
    source_detail: str | None = None
    source_date: str | date | None = None


@dataclass
class ProspectData:
    """A validated prospect, ready for the service layer to store."""

    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    school: str | None
    school_id: int | None
    role: str | None
    interests: list[str]
    stage: Stage
    owner: str | None
    source: DataSource | None
    source_detail: str | None
    source_date: date | None
    warnings: list[str] = field(default_factory=list)


def validate_prospect(data: ProspectInput) -> ProspectData:
    c = ErrorCollector()
    first = c.run("first_name", _required, "first_name", data.first_name, MAX_NAME)
    last = c.run("last_name", _required, "last_name", data.last_name, MAX_NAME)
    # The fields below are optional: one not given at all (None) is None without
    # its check (each check gives None for None), as an import leaves most of them.
    email = c.run("email", normalise_email, data.email) if data.email is not None else None
    phone = c.run("phone", normalise_phone, data.phone) if data.phone is not None else None
    school = (
        c.run("school", clean_text, data.school, max_len=MAX_TEXT)
        if data.school is not None
        else None
    )
    role = c.run("role", clean_text, data.role, max_len=MAX_TEXT) if data.role is not None else None
    stage = (
        c.run("stage", parse_choice, Stage, data.stage) if data.stage is not None else None
    ) or Stage.LEAD
    owner = (
        c.run("owner", clean_text, data.owner, max_len=MAX_NAME) if data.owner is not None else None
    )
    source = (
        c.run("source", parse_choice, DataSource, data.source) if data.source is not None else None
    )
    source_detail = (
        c.run("source_detail", clean_text, data.source_detail, max_len=MAX_TEXT)
        if data.source_detail is not None
        else None
    )
    source_date = (
        c.run("source_date", parse_date, data.source_date) if data.source_date is not None else None
    )
    interests: list[str] = []
    seen: set[str] = set()
    for raw in data.interests or ():
        name = c.run("interests", clean_text, raw, max_len=MAX_TEXT)
        if name and name.lower() not in seen:
            seen.add(name.lower())
            interests.append(name)
    if source_date and source_date > date.today():
        c.errors["source_date"] = "cannot be in the future"
    if "email" not in c.errors and "phone" not in c.errors and not email and not phone:
        c.errors["email"] = "give an email address or a phone number"
    c.raise_if_any()
    if phone and phone.warning:
        c.warnings.append(phone.warning)
    return ProspectData(
        first_name=first,
        last_name=last,
        email=email,
        phone=phone.e164 if phone else None,
        school=school,
        school_id=data.school_id,
        role=role,
        interests=interests,
        stage=stage,
        owner=owner,
        source=source,
        source_detail=source_detail,
        source_date=source_date,
        warnings=c.warnings,
    )


@dataclass
class SchoolInput:
    name: str | None = None
    urn: str | None = None
    phase: str | None = None
    local_authority: str | None = None
    postcode: str | None = None
    phone: str | None = None
    website: str | None = None


@dataclass
class SchoolData:
    name: str
    urn: str | None
    phase: SchoolPhase | None
    local_authority: str | None
    postcode: str | None
    phone: str | None
    website: str | None
    warnings: list[str] = field(default_factory=list)


def validate_school(data: SchoolInput) -> SchoolData:
    c = ErrorCollector()
    name = c.run("name", _required, "name", data.name, MAX_TEXT)
    urn = c.run("urn", normalise_urn, data.urn)
    phase = c.run("phase", parse_choice, SchoolPhase, data.phase)
    la = c.run("local_authority", lambda: clean_text(data.local_authority, max_len=MAX_TEXT))
    postcode = c.run("postcode", normalise_postcode, data.postcode)
    phone = c.run("phone", normalise_phone, data.phone)
    website = c.run("website", normalise_website, data.website)
    c.raise_if_any()
    if phone and phone.warning:
        c.warnings.append(phone.warning)
    return SchoolData(
        name=name,
        urn=urn,
        phase=phase,
        local_authority=la,
        postcode=postcode,
        phone=phone.e164 if phone else None,
        website=website,
        warnings=c.warnings,
    )


@dataclass
class ContactInput:
    kind: str | None = None
    summary: str | None = None
    subject: str | None = None
    occurred_at: str | datetime | None = None  # default: now
    follow_up_on: str | date | None = None


@dataclass
class ContactData:
    kind: ContactKind
    summary: str
    subject: str | None
    occurred_at: datetime  # aware UTC
    follow_up_on: date | None


def validate_contact(data: ContactInput, *, now: datetime) -> ContactData:
    """``now`` is aware UTC; a contact may not be logged in the future."""
    c = ErrorCollector()
    kind = c.run("kind", parse_choice, ContactKind, data.kind, required=True)
    summary = c.run(
        "summary",
        lambda: clean_text(data.summary, max_len=MAX_SUMMARY, required=True, multiline=True),
    )
    subject = c.run("subject", lambda: clean_text(data.subject, max_len=MAX_TEXT))
    occurred = c.run("occurred_at", parse_datetime, data.occurred_at) or now
    follow = c.run("follow_up_on", parse_date, data.follow_up_on)
    if occurred and (occurred - now).total_seconds() > 300:
        c.errors["occurred_at"] = "cannot be in the future"
    c.raise_if_any()
    return ContactData(kind, summary, subject, occurred, follow)
