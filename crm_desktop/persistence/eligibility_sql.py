"""The eligibility rule in SQL, for exports over many people.

``domain.eligibility.exclusion_reasons`` is the rule; this is the same rule
as one SQL expression per channel, :func:`reason_mask`, which gives each
person's exclusion reasons as a set of bits (``eligibility.REASON_BIT``) on
SQLite and on PostgreSQL alike, so an export reads its decision with its
rows instead of working it out in Python per person. A property-based test
holds the two equal on random populations
(tests/services/test_eligibility_sql.py), on both databases.

What SQL does not decide, and how the caller (services.exports) does:

* The suppression list holds keyed hashes (HMAC) of addresses, which
  neither database computes: the mask never has the ``SUPPRESSED`` bit; the
  caller hashes each candidate's addresses and adds it.
* Email syntax is email-validator's verdict. The mask takes the email to be
  in the plain form ``eligibility.PLAIN_EMAIL`` describes (valid, its own
  canonical form lower-cased, its domain after its one "@"); the caller
  checks that with that regular expression (one C call per address: SQLite's
  GLOB took ten times as long) and gives a row whose email is not plain to
  ``exclusion_reasons`` itself, on the channels where the email matters
  (email, online, and SMS for the subscriber type).
* Phone validity is phonenumbers' verdict. SQL decides a phone of "+44" and
  ten digits not starting 0 (possible, and its own canonical form; a mobile
  for SMS when it starts 07 but not 070 or 076); any other phone on a
  channel that uses phones gives ``UNDECIDED`` (-1), for the rule itself.

In real data the rows left to the rule are a handful. Whether an email
domain is personal (an individual subscriber) is decided in SQL from
``domain.subscribers.PERSONAL_MAIL_DOMAINS``, bound as a list.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Table, and_, bindparam, case, func, literal, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from ..domain.eligibility import CONSENT_ONLY_FOR_INDIVIDUALS, REASON_BIT, Exclusion
from ..domain.enums import Channel, LawfulBasis, SubscriberType
from ..domain.models import ChannelPermission, Prospect
from ..domain.subscribers import PERSONAL_MAIL_DOMAINS

UNDECIDED = -1  # the mask of a row the Python rule must decide

_PG_UK_PHONE = r"^\+44[1-9][0-9]{9}$"
_PG_UK_MOBILE = r"^\+447[1-57-9][0-9]{8}$"
_GLOB_UK_PHONE = "+44[1-9]" + "[0-9]" * 9
_GLOB_UK_MOBILE = "+447[1-57-9]" + "[0-9]" * 8
# Every character str.strip() removes (the rule asks for a note that is not
# blank); tests check it against str.isspace over all of Unicode.
PYTHON_WHITESPACE = "\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _glob(value, pattern: str) -> ColumnElement[bool]:
    return value.op("GLOB", is_comparison=True)(literal(pattern))


def _regex(value, pattern: str) -> ColumnElement[bool]:
    return value.op("~", is_comparison=True)(literal(pattern))


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
    """Each person's exclusion reasons for ``channel`` as bits, or ``UNDECIDED``,
    for a person whose email, if any, is plain (``eligibility.PLAIN_EMAIL``).

    ``permission`` is ``channel_permission`` (or an alias of it) outer-joined
    on the prospect's id AND ``channel``; its columns are NULL for someone
    with no row for the channel. The ``SUPPRESSED`` bit is never set (see the
    module's doc). Equal to ``mask_of(exclusion_reasons(...))`` wherever it
    is not ``UNDECIDED``.
    """
    p = prospect if prospect is not None else Prospect.__table__
    cp = permission if permission is not None else ChannelPermission.__table__
    email, phone = p.c.email, p.c.phone
    # The email, if any, is taken to be plain (see above).
    if channel is Channel.EMAIL:
        decided = literal(True)
        address = _bit(email.is_(None), Exclusion.NO_ADDRESS)
    elif channel is Channel.SMS:
        decided = or_(phone.is_(None), uk_mobile(dialect, phone))
        address = _bit(phone.is_(None), Exclusion.NO_ADDRESS)
    else:  # phone; online (the email if there is one, else the phone; both are hashed)
        decided = or_(phone.is_(None), uk_phone(dialect, phone))
        no_address = (
            phone.is_(None) if channel is Channel.PHONE else and_(email.is_(None), phone.is_(None))
        )
        address = _bit(no_address, Exclusion.NO_ADDRESS)

    trim = func.btrim if dialect == "postgresql" else func.trim
    has_note = or_(
        p.c.li_assessment_id.is_not(None),
        func.coalesce(
            func.length(trim(p.c.li_note, bindparam("python_whitespace", PYTHON_WHITESPACE))), 0
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


def stream_rows(connection, stmt, batch: int) -> Iterator[list[tuple]]:
    """``stmt``'s rows in lists of up to ``batch`` plain tuples, read as they are needed.

    On SQLite straight from the driver's cursor (none of the export's columns
    needs a conversion either way), which saves SQLAlchemy's per-row work over a million
    rows; elsewhere SQLAlchemy's streamed result (a server-side cursor on
    PostgreSQL). The caller closes the generator (or reads it to the end).
    """
    dialect = connection.dialect
    if dialect.name != "sqlite":
        result = connection.execute(stmt.execution_options(yield_per=batch))
        try:
            for rows in result.partitions(batch):
                yield [tuple(r) for r in rows]
        finally:
            result.close()
        return
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    # Text, integers and True: the driver binds them as SQLAlchemy would.
    values = [params[name] for name in compiled.positiontup]
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(compiled.string, values)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()
