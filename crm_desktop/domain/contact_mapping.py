"""Which column of a contact file holds what, and one row as a prospect-to-be.

Pure rules, no files and no database: ``formats.contact_files`` reads the
file, this module says what its columns mean.

- :func:`recognise_layout` knows the exports staff bring: Google Contacts
  (both the older "Given Name / E-mail 1 - Value" and the 2024+ "First Name /
  Organization Name" header sets), Outlook's contacts CSV, a Mailchimp
  audience export, and the fixed columns of a vCard file.
  :func:`layout_mapping` maps those without questions.
- Anything else gets :func:`suggest_mapping`, by header names and their
  common synonyms ("Surname", "E-mail", "Organisation", "Position"...), to
  confirm in a mapping step; :func:`mapping_signature` is the key a confirmed
  mapping is remembered by, for the next file with the same headers.
- :func:`map_row` turns one row into a :class:`ContactCandidate`: line breaks
  are folded to one space in single-line fields and kept in notes; Google's
  " ::: " multi-value cells are split; several email or phone columns append
  in column order; a full name is split (last word = last name) when the row
  has no first or last name. Nothing is validated here: that is the form's
  validation, applied to every row by the import.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

TARGETS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name",
    "email": "Email",
    "phone": "Phone",
    "school": "School",
    "role": "Job title",
    "notes": "Notes",
    "interests": "Interests",
    "owner": "Owner",
    "stage": "Stage",
}

Mapping = dict[int, str]

LAYOUTS: dict[str, str] = {
    "google": "Google Contacts",
    "outlook": "Outlook contacts",
    "mailchimp": "Mailchimp audience",
    "vcard": "vCard",
}

# The columns of a vCard file as formats.contact_files presents it (several
# emails or phones of one card are joined with MULTI_VALUE_SEPARATOR).
VCARD_HEADERS: tuple[str, ...] = (
    "Full name",
    "First name",
    "Last name",
    "Email",
    "Phone",
    "Organisation",
    "Title",
    "Note",
)

# How Google Contacts joins several values in one cell.
MULTI_VALUE_SEPARATOR = " ::: "

# Targets a file may map from several columns (each adds values); the others
# take one column in a suggestion (a mapping given by a person may still map
# several columns to one, e.g. first and middle name: they are joined).
MULTI_COLUMN_TARGETS = frozenset({"email", "phone", "notes", "interests"})
SINGLE_LINE_TARGETS = ("first_name", "last_name", "full_name", "school", "role", "owner", "stage")

_BREAK_CHARS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines splits on
_MULTI_VALUE = re.compile(r"\s*:::\s*")
_LIST_SEPARATORS = re.compile(r"\s*(?::::|;|,)\s*")
_HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "rev", "revd"}
)


def normal_header(text: str) -> str:
    """A header as compared: case, accents of compatibility forms, spaces and punctuation ignored.

    "E-mail Address", "email_address" and " EMAIL ADDRESS " are all "emailaddress".
    """
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"[\W_]+", "", text)


# ----------------------------------------------------------------- synonyms

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": (
        "firstname",
        "first",
        "forename",
        "forenames",
        "givenname",
        "given",
        "fname",
        "christianname",
        "preferredname",
        "preferredfirstname",
        "firstnames",
    ),
    "last_name": (
        "lastname",
        "last",
        "surname",
        "familyname",
        "family",
        "lname",
        "secondname",
    ),
    "full_name": (
        "name",
        "fullname",
        "contactname",
        "contact",
        "displayname",
        "yourname",
        "person",
        "nameofcontact",
        "delegatename",
        "attendeename",
    ),
    "email": (
        "email",
        "emailaddress",
        "mail",
        "emailaddr",
        "emails",
        "workemail",
        "schoolemail",
        "businessemail",
        "email1",
        "primaryemail",
        "contactemail",
        "emailid",
    ),
    "phone": (
        "phone",
        "phonenumber",
        "telephone",
        "telephonenumber",
        "tel",
        "telno",
        "phoneno",
        "mobile",
        "mobilenumber",
        "mobilephone",
        "mobileno",
        "cell",
        "cellphone",
        "workphone",
        "businessphone",
        "schoolphone",
        "directline",
        "contactnumber",
        "landline",
    ),
    "school": (
        "school",
        "schoolname",
        "organisation",
        "organization",
        "organisationname",
        "organizationname",
        "org",
        "company",
        "companyname",
        "institution",
        "establishment",
        "establishmentname",
        "academy",
        "college",
        "employer",
        "setting",
        "nameofschool",
    ),
    "role": (
        "jobtitle",
        "role",
        "jobrole",
        "position",
        "occupation",
        "designation",
        "job",
        "post",
        "roleatschool",
        "organizationtitle",
        "organisationtitle",
    ),
    "notes": ("notes", "note", "comments", "comment", "remarks", "description", "additionalinfo"),
    "interests": ("interests", "interest", "interestedin", "areasofinterest", "topics"),
    "owner": ("owner", "accountowner", "contactowner", "assignedto", "salesperson", "salesrep"),
    "stage": ("stage", "pipelinestage", "leadstage", "leadstatus", "salesstage"),
}
_BY_SYNONYM = {name: target for target, names in _SYNONYMS.items() for name in names}
# A header that is about an address or number without being one ("E-mail 1 -
# Type", "Email opt-in", "Phone label") is never suggested as one.
_NOT_A_VALUE = re.compile(
    r"type|label|optin|optout|consent|permission|status|verified|display|yomi|phonetic"
)


def _suggest_one(header: str) -> str | None:
    key = normal_header(header)
    if not key:
        return None
    if key in _BY_SYNONYM:
        return _BY_SYNONYM[key]
    if _NOT_A_VALUE.search(key):
        return None
    if "email" in key or key.startswith("mail"):
        return "email"
    if re.search(r"phone|mobile|telephone|^tel", key):
        return "phone"
    if key.endswith(("surname", "lastname", "familyname")):
        return "last_name"
    if key.endswith(("forename", "firstname", "givenname")):
        return "first_name"
    if key.endswith("jobtitle"):
        return "role"
    return None


def suggest_mapping(headers: Sequence[str]) -> Mapping:
    """The mapping a person most likely means, from the header names.

    Single-valued targets take the first column that suits them; email,
    phone, notes and interests take every column that does.
    """
    mapping: Mapping = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        target = _suggest_one(header)
        if target is None:
            continue
        if target in taken and target not in MULTI_COLUMN_TARGETS:
            continue
        mapping[index] = target
        taken.add(target)
    # A full name beside a first and a last name adds nothing.
    if {"first_name", "last_name"} <= taken and "full_name" in taken:
        mapping = {i: t for i, t in mapping.items() if t != "full_name"}
    return mapping


# ------------------------------------------------------------------ layouts

_GOOGLE_VALUE = re.compile(r"^(?:e-?mail|phone) \d+ - value$", re.IGNORECASE)

# Each layout's own headers (normalised) -> target. Columns not listed are
# ignored (an Outlook "Title" is Mr or Ms, not a job title; middle names have
# no field: a prospect has a first and a last name).
_GOOGLE = {
    # 2024+ export
    "firstname": "first_name",
    "lastname": "last_name",
    "organizationname": "school",
    "organizationtitle": "role",
    "notes": "notes",
    # older export
    "name": "full_name",
    "givenname": "first_name",
    "familyname": "last_name",
    "organization1name": "school",
    "organization1title": "role",
}
_OUTLOOK = {
    "firstname": "first_name",
    "lastname": "last_name",
    "emailaddress": "email",
    "email2address": "email",
    "email3address": "email",
    "primaryphone": "phone",
    "businessphone": "phone",
    "businessphone2": "phone",
    "mobilephone": "phone",
    "company": "school",
    "jobtitle": "role",
    "notes": "notes",
}
_MAILCHIMP = {
    "emailaddress": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "phonenumber": "phone",
    "notes": "notes",
}
# Mailchimp's own columns: never re-read as merge fields.
_MAILCHIMP_SYSTEM = frozenset(
    {
        "address",
        "birthday",
        "memberrating",
        "optintime",
        "optinip",
        "confirmtime",
        "confirmip",
        "latitude",
        "longitude",
        "gmtoff",
        "dstoff",
        "timezone",
        "cc",
        "region",
        "lastchanged",
        "leid",
        "euid",
        "tags",
        "unsubtime",
        "unsubcampaigntitle",
        "unsubcampaignid",
        "unsubreason",
        "unsubreasonother",
        "cleantime",
        "cleancampaigntitle",
        "cleancampaignid",
    }
)
_MAILCHIMP_MARKERS = frozenset({"memberrating", "optintime", "leid", "euid", "confirmtime"})
_OUTLOOK_MARKERS = frozenset(
    {"email2address", "businessphone", "mobilephone", "homephone", "primaryphone", "company"}
)
_VCARD = dict(
    zip(
        (normal_header(h) for h in VCARD_HEADERS),
        ("full_name", "first_name", "last_name", "email", "phone", "school", "role", "notes"),
        strict=True,
    )
)


def recognise_layout(headers: Sequence[str]) -> str | None:
    """The known export these headers come from ("google", "outlook", "mailchimp", "vcard"), or None."""
    keys = [normal_header(h) for h in headers]
    present = set(keys)
    if tuple(keys) == tuple(_VCARD):
        return "vcard"
    if any(_GOOGLE_VALUE.match(h.strip()) for h in headers) and (
        present & {"firstname", "givenname", "name", "lastname", "familyname"}
    ):
        return "google"
    if "emailaddress" in present and present & _MAILCHIMP_MARKERS:
        return "mailchimp"
    if "emailaddress" in present and "firstname" in present and present & _OUTLOOK_MARKERS:
        return "outlook"
    return None


def layout_mapping(layout: str, headers: Sequence[str]) -> Mapping:
    """The mapping of a known layout's columns (see :data:`LAYOUTS`)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    keys = [normal_header(h) for h in headers]
    mapping: Mapping = {}
    if layout == "vcard":
        table = _VCARD
    elif layout == "google":
        table = _GOOGLE
        for index, header in enumerate(headers):
            if _GOOGLE_VALUE.match(header.strip()):
                mapping[index] = "email" if header.strip().lower().startswith("e") else "phone"
    elif layout == "outlook":
        table = _OUTLOOK
    else:
        table = _MAILCHIMP
    for index, key in enumerate(keys):
        if key in table:
            mapping[index] = table[key]
    if layout == "mailchimp":
        # Merge fields an audience adds (School, Job Title...) by their names.
        taken = set(mapping.values())
        for index, header in enumerate(headers):
            if index in mapping or keys[index] in _MAILCHIMP_SYSTEM:
                continue
            target = _suggest_one(header)
            if target and (target not in taken or target in MULTI_COLUMN_TARGETS):
                mapping[index] = target
                taken.add(target)
    return dict(sorted(mapping.items()))


def mapping_signature(headers: Sequence[str]) -> str:
    """A stable key for these headers (order matters; case, spacing and punctuation do not)."""
    joined = "\x1f".join(normal_header(h) for h in headers)
    return hashlib.sha256(f"{len(headers)}\x1e{joined}".encode()).hexdigest()


# ------------------------------------------------------------------ mapping


@dataclass
class ContactCandidate:
    """One row as mapped, not yet validated."""

    first_name: str | None = None
    last_name: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    school: str | None = None
    role: str | None = None
    notes: str | None = None
    interests: list[str] = field(default_factory=list)
    owner: str | None = None
    stage: str | None = None


def fold_lines(text: str) -> str:
    """``text`` on one line: each run of line breaks (and the spaces around it) becomes one space.

    Line breaks are every one Unicode knows (``str.splitlines``'s): CR, LF,
    CRLF, VT, FF, NEL, U+2028, U+2029 and the separators 0x1C-0x1E; one at
    either end is dropped with the spaces beside it.
    """
    parts = text.splitlines()
    if not text or (len(parts) == 1 and len(parts[0]) == len(text)):
        return text  # no line break: the usual case, kept fast
    last = len(parts) - 1 if text[-1] not in _BREAK_CHARS else len(parts)
    kept = []
    for i, part in enumerate(parts):
        if i > 0:
            part = part.lstrip(" \t")
        if i < last:
            part = part.rstrip(" \t")
        if part:
            kept.append(part)
    return " ".join(kept)


def split_values(text: str) -> list[str]:
    """The non-blank values of a " ::: " multi-value cell, in order."""
    text = fold_lines(text)
    if ":::" not in text:
        text = text.strip()
        return [text] if text else []
    return [part.strip() for part in _MULTI_VALUE.split(text) if part.strip()]


def _emails(text: str) -> list[str]:
    values: list[str] = []
    for part in split_values(text):
        if ";" not in part and "," not in part:
            values.append(part)
            continue
        # "a@x.org; b@y.org" in one cell: two addresses (each piece must have an @).
        pieces = [p.strip() for p in re.split(r"[;,]", part) if p.strip()]
        if len(pieces) > 1 and all("@" in p for p in pieces):
            values.extend(pieces)
        else:
            values.append(part)
    return values


def split_full_name(text: str) -> tuple[str | None, str | None]:
    """(first, last) of a full name: "Surname, Forename", else the last word is the last name.

    A leading honorific (Mr, Dr, Prof...) is dropped; "Mrs Patel" is a last name alone.
    """
    text = fold_lines(text).strip()
    if not text:
        return None, None
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        if last and first:
            return first, last
    words = text.split()
    if len(words) > 1 and words[0].rstrip(".").casefold() in _HONORIFICS:
        if len(words) == 2:  # "Mrs Patel": a last name
            return None, words[1]
        words = words[1:]
    if len(words) == 1:
        return words[0], None
    return " ".join(words[:-1]), words[-1]


def _single_line(values: list[str] | None) -> str | None:
    if not values:
        return None
    if len(values) == 1:
        value = values[0]
        if value.isprintable() and ":::" not in value:
            # One cell with no line break (none is printable) and one value: the
            # usual case, which the loop below would give back trimmed.
            return value.strip() or None
    parts = []
    for value in values:
        folded = fold_lines(value).strip()
        if ":::" in folded:  # several values where one is wanted: the first
            firsts = split_values(folded)
            folded = firsts[0] if firsts else ""
        if folded:
            parts.append(folded)
    return " ".join(parts) or None


# Mappings already checked, in column order: a file's rows share one mapping,
# so it is sorted and checked once, not once a row.
_CHECKED: dict[tuple, tuple[tuple[int, str], ...]] = {}


def _columns(mapping: Mapping) -> tuple[tuple[int, str], ...]:
    key = tuple(mapping.items())
    found = _CHECKED.get(key)
    if found is None:
        found = tuple(sorted(key))
        for _index, target in found:
            if target not in TARGETS:
                raise ValueError(f"unknown target {target!r}; use one of {', '.join(TARGETS)}")
        if len(_CHECKED) >= 64:
            _CHECKED.clear()
        _CHECKED[key] = found
    return found


def map_row(cells: Sequence[str], mapping: Mapping) -> ContactCandidate:
    """One row as a :class:`ContactCandidate` (missing cells count as blank)."""
    collected: dict[str, list[str]] = {}
    width = len(cells)
    for index, target in _columns(mapping):
        value = cells[index] if 0 <= index < width else None
        if not value or value.isspace():
            continue
        if target in collected:
            collected[target].append(value)
        else:
            collected[target] = [value]

    get = collected.get
    first, last = _single_line(get("first_name")), _single_line(get("last_name"))
    if first is None and last is None and "full_name" in collected:
        full = _single_line(get("full_name"))
        if full:
            first, last = split_full_name(full)
    notes = get("notes", [])  # kept as they are, line breaks and all
    interests: list[str] = []
    for value in get("interests", []):
        for part in _LIST_SEPARATORS.split(fold_lines(value)):
            if part.strip() and part.strip() not in interests:
                interests.append(part.strip())
    return ContactCandidate(
        first_name=first,
        last_name=last,
        emails=[e for value in get("email", ()) for e in _emails(value)],
        phones=[p for value in get("phone", ()) for p in split_values(value)],
        school=_single_line(get("school")),
        role=_single_line(get("role")),
        notes="\n".join(notes) or None,
        interests=interests,
        owner=_single_line(get("owner")),
        stage=_single_line(get("stage")),
    )
