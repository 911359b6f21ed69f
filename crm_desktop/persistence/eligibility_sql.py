"""The eligibility rule in SQL, for exports over many people.

``domain.eligibility.exclusion_reasons`` is the rule; this is the same rule
as one SQL expression per channel, :func:`reason_mask`, which gives each
person's exclusion reasons as a set of bits (``eligibility.REASON_BIT``) on
SQLite and on PostgreSQL alike, so an export reads its decision with its
rows instead of calling Python per person. A property-based test holds the
two equal on random populations (tests/persistence/test_eligibility_sql.py).

Two things SQL cannot decide exactly, and how they are left to Python:

* the suppression list holds keyed hashes (HMAC) of addresses, which neither
  database computes: the mask never has the ``SUPPRESSED`` bit, and the
  caller adds it by hashing the addresses (a decided row's addresses are
  plain, so their canonical forms are the addresses themselves, an email
  lower-cased: no parsing per person);
* address validity in full is email-validator's and phonenumbers' verdict.
  SQL recognises the plain forms they accept (the pattern of validation's
  own fast path for email; "+44" and ten digits for a phone, a mobile when
  they start 07 but not 070 or 076) and decides those rows; a row with
  anything else in an address the channel uses (or, for email and SMS,
  whose subscriber type comes from its email domain) gets ``UNDECIDED``
  (-1), for ``exclusion_reasons`` itself to decide. In real data that is a
  handful of rows.

Whether an email domain is personal (an individual subscriber) is decided
in SQL from ``domain.subscribers.PERSONAL_MAIL_DOMAINS``, bound as a list.
"""

from __future__ import annotations

import string
import sys
from functools import cache

import email_validator
from sqlalchemy import Table, and_, bindparam, case, func, literal, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from ..domain.eligibility import CONSENT_ONLY_FOR_INDIVIDUALS, REASON_BIT, Exclusion
from ..domain.enums import Channel, LawfulBasis, SubscriberType
from ..domain.models import MAX_EMAIL, ChannelPermission, Prospect
from ..domain.subscribers import PERSONAL_MAIL_DOMAINS

UNDECIDED = -1  # the mask of a row the Python rule must decide

# validation's fast path: atoms of these characters joined by single dots,
# "@", labels of letters, digits and inner hyphens, a final label of letters.
_ATOM_CHARS = "A-Za-z0-9!#$%&'*+/=?^_`{|}~"  # and "-", last in a bracket
_PG_EMAIL = (
    rf"^[{_ATOM_CHARS}-]+(\.[{_ATOM_CHARS}-]+)*@"
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_PG_UK_PHONE = r"^\+44[1-9][0-9]{9}$"
_PG_UK_MOBILE = r"^\+447[1-57-9][0-9]{8}$"
_GLOB_UK_PHONE = "+44[1-9]" + "[0-9]" * 9
_GLOB_UK_MOBILE = "+447[1-57-9]" + "[0-9]" * 8
# A top-level domain the fast path leaves to email-validator.
_SPECIAL_USE = sorted(d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES if "." not in d)


@cache
def python_whitespace() -> str:
    """Every character ``str.strip()`` removes (the rule asks for a note "that is not blank")."""
    return "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


def _glob(value, pattern: str) -> ColumnElement[bool]:
    return value.op("GLOB", is_comparison=True)(literal(pattern))


def _regex(value, pattern: str) -> ColumnElement[bool]:
    return value.op("~", is_comparison=True)(literal(pattern))


def plain_email(dialect: str, email) -> ColumnElement[bool]:
    """True for an email that validation's fast path accepts as it is (so it is valid).

    Plain ASCII, one "@", dot-separated atoms before it, hyphenated labels
    after it ending in a top-level domain of 2-63 letters that is not a
    special-use one, within the length limits; no "--" in the domain (those
    go to email-validator). False (or NULL) means "not sure", not "invalid".
    """
    special = bindparam("special_use_tlds", _SPECIAL_USE, expanding=True)
    if dialect == "postgresql":
        at = func.strpos(email, "@")
        tld = func.substring(email, literal(r"\.([^.]*)$"))
        return and_(
            _regex(email, _PG_EMAIL),
            func.length(email) <= MAX_EMAIL,
            at <= 65,
            func.length(email) - at <= 253,
            not_(_regex(email, "@.*--")),
            func.lower(tld).not_in(special),
        )
    at = func.instr(email, "@")
    # What is left with the letters at the end stripped; the top-level domain
    # is those letters, after a dot.
    stem = func.rtrim(email, string.ascii_letters)
    tld = func.substr(email, func.length(stem) + 1)
    return and_(
        at.between(2, 65),
        func.length(email) <= MAX_EMAIL,
        # Domain at most 63 characters, so no label is longer (longer ones: not sure).
        func.length(email) - at <= 63,
        func.substr(stem, -1) == ".",
        (func.length(email) - func.length(stem)).between(2, 63),
        not_(_glob(email, "*@*@*")),
        # (The commonest characters first in a class: SQLite tries them in order.)
        not_(_glob(email, f"*[^a-z.@0-9{_ATOM_CHARS}-]*")),
        not_(_glob(email, "*@*[^a-z.0-9A-Z-]*")),
        not_(_glob(email, ".*")),
        not_(_glob(email, "*.@*")),
        not_(_glob(email, "*..*")),
        not_(_glob(email, "*@[.-]*")),
        not_(_glob(email, "*@*.-*")),
        not_(_glob(email, "*@*-.*")),
        not_(_glob(email, "*@*--*")),
        func.lower(tld).not_in(special),
    )


def uk_phone(dialect: str, phone) -> ColumnElement[bool]:
    """ "+44" and ten digits, not starting 0: possible, and its own canonical form."""
    return _regex(phone, _PG_UK_PHONE) if dialect == "postgresql" else _glob(phone, _GLOB_UK_PHONE)


def uk_mobile(dialect: str, phone) -> ColumnElement[bool]:
    """A UK phone starting 07, not 070 or 076: a mobile (``eligibility.is_mobile``)."""
    if dialect == "postgresql":
        return _regex(phone, _PG_UK_MOBILE)
    return _glob(phone, _GLOB_UK_MOBILE)


def _email_domain(dialect: str, email):
    if dialect == "postgresql":
        return func.lower(func.split_part(email, "@", 2))
    return func.lower(func.substr(email, func.instr(email, "@") + 1))


def _bit(condition, reason: Exclusion):
    return case((condition, REASON_BIT[reason]), else_=0)


def reason_mask(
    dialect: str,
    channel: Channel,
    *,
    personalised: bool = False,
    prospect: Table | None = None,
    permission=None,
) -> ColumnElement[int]:
    """Each person's exclusion reasons for ``channel`` as bits, or ``UNDECIDED``.

    ``permission`` is ``channel_permission`` (or an alias of it) outer-joined
    on the prospect's id AND ``channel``; its columns are NULL for someone
    with no row for the channel. The ``SUPPRESSED`` bit is never set (see the
    module's doc). Equal to ``mask_of(exclusion_reasons(...))`` wherever it
    is not ``UNDECIDED``.
    """
    p = prospect if prospect is not None else Prospect.__table__
    cp = permission if permission is not None else ChannelPermission.__table__
    email, phone = p.c.email, p.c.phone
    email_plain = plain_email(dialect, email)
    email_decided = or_(email.is_(None), email_plain)
    if channel is Channel.EMAIL:
        decided = email_decided
        address = _bit(email.is_(None), Exclusion.NO_ADDRESS)
    elif channel is Channel.PHONE:
        decided = or_(phone.is_(None), uk_phone(dialect, phone))
        address = _bit(phone.is_(None), Exclusion.NO_ADDRESS)
    elif channel is Channel.SMS:
        decided = and_(email_decided, or_(phone.is_(None), uk_mobile(dialect, phone)))
        address = _bit(phone.is_(None), Exclusion.NO_ADDRESS)
    else:  # online: the email if there is one, else the phone
        # Both addresses are hashed for the suppression list: both must be plain.
        decided = and_(
            or_(email.is_(None), email_plain), or_(phone.is_(None), uk_phone(dialect, phone))
        )
        address = _bit(and_(email.is_(None), phone.is_(None)), Exclusion.NO_ADDRESS)

    trim = func.btrim if dialect == "postgresql" else func.trim
    has_note = or_(
        p.c.li_assessment_id.is_not(None),
        func.coalesce(
            func.length(trim(p.c.li_note, bindparam("python_whitespace", python_whitespace()))), 0
        )
        > 0,
    )
    li = _bit(not_(has_note), Exclusion.LI_WITHOUT_NOTE)
    if channel in CONSENT_ONLY_FOR_INDIVIDUALS:
        override = p.c.subscriber_type_override
        individual = case(
            (func.coalesce(override, "") != "", override == SubscriberType.INDIVIDUAL.value),
            else_=and_(
                email.is_not(None),
                _email_domain(dialect, email).in_(
                    bindparam("personal_domains", sorted(PERSONAL_MAIL_DOMAINS), expanding=True)
                ),
            ),
        )
        li = li + _bit(individual, Exclusion.INDIVIDUAL_WITHOUT_CONSENT)
    basis = case(
        (cp.c.consent.is_(True), 0),
        (p.c.lawful_basis == LawfulBasis.LEGITIMATE_INTEREST.value, li),
        else_=REASON_BIT[Exclusion.NO_BASIS],
    )
    mask = (
        _bit(p.c.erased_at.is_not(None), Exclusion.ERASED)
        + _bit(p.c.restricted_at.is_not(None), Exclusion.RESTRICTED)
        + _bit(cp.c.opted_out_at.is_not(None), Exclusion.OPTED_OUT)
        + address
        + basis
    )
    if personalised:
        mask = mask + _bit(p.c.personalisation_refused.is_(True), Exclusion.PERSONALISATION_REFUSED)
    return case((decided, mask), else_=UNDECIDED)
