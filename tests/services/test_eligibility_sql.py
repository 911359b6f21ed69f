"""The export's SQL form of the eligibility rule equals the rule itself.

``persistence.eligibility_sql.reason_mask`` decides who may be exported in
SQL; ``domain.eligibility.exclusion_reasons`` is the rule. On random
populations (opt-outs, suppression entries, restriction, erasure, consent or
legitimate interest with and without a note, personal and school domains,
invalid, unusual and missing addresses) the export gives every person exactly
the reasons the rule gives, for every channel, personalised or not; and the
SQL decides every person whose addresses are plain (so the rule is not
simply being called for everyone). Runs on PostgreSQL too when the test
server is set up (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, delete, insert, select

from crm_desktop.domain import eligibility
from crm_desktop.domain.eligibility import PLAIN_EMAIL, Exclusion, exclusion_reasons, mask_of
from crm_desktop.domain.enums import Channel
from crm_desktop.domain.models import (
    ChannelPermission,
    ExportMember,
    ExportRun,
    LIAssessment,
    Prospect,
    Suppression,
)
from crm_desktop.domain.suppression import canonical_address, digest
from crm_desktop.persistence.eligibility_sql import PYTHON_WHITESPACE, UNDECIDED, reason_mask
from crm_desktop.services import exports as E
from crm_desktop.services import suppression as S
from crm_desktop.services.marketing import facts_for

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# Plain addresses (SQL must decide people who have only these) ...
PLAIN_EMAILS = [
    "ann.lee@oakfield.sch.uk",
    "Bob.Ray@Oakfield.SCH.UK",
    "carol99@gmail.com",
    "dan@GMAIL.com",
    "eve+news@hotmail.co.uk",
    "f_o'x@btinternet.com",
    "g-h@my-school.org",
    "x" * 64 + "@a.io",
    "i@" + "b" * 59 + ".com",
    "j@sub.domain.example.com",
]
PLAIN_PHONES = ["+447700900123", "+447911123456", "+441632960001", "+442079460000"]
# ... and everything else, which the rule itself must decide the same way.
ODD_EMAILS = [
    "",
    "   ",
    "a..b@school.org",
    ".a@school.org",
    "a.@school.org",
    "a@school",
    "a@-school.org",
    "a@school-.org",
    "a@sch--ool.org",
    "a@school.test",
    "a@school.c0m",
    "A@X.INVALID",
    "a b@school.org",
    "a@gmail.com.",
    "ü@school.org",
    "a@bücher.de",
    "a@b@gmail.com",
    '"quoted"@school.org',
    "a@[192.0.2.1]",
    "x" * 65 + "@a.io",
    "i@" + "b" * 64 + ".com",
    "k@s\u212ay.com",  # a Kelvin sign: lower() gives "sky.com", a personal domain
    "+441632960000",  # no "@": the rule reads it as a phone number
    " ann@gmail.com ",
]
ODD_PHONES = [
    "",
    "+447000000000",
    "+447624123456",
    "+4412345",
    "+12025550123",
    "07700900123",
    "garbage",
    "+440123456789",
]
NOTES = [None, "", "  ", "\u00a0", "\u2003", "Schools we sell to", " x "]
OVERRIDES = [None, "", "corporate", "individual"]
BASES = ["none", "consent", "legitimate-interest"]
CHANNELS = [c.value for c in Channel]

person_st = st.fixed_dictionaries(
    {
        "email": st.one_of(st.none(), st.sampled_from(PLAIN_EMAILS), st.sampled_from(ODD_EMAILS)),
        "phone": st.one_of(st.none(), st.sampled_from(PLAIN_PHONES), st.sampled_from(ODD_PHONES)),
        "basis": st.sampled_from(BASES),
        "assessment": st.booleans(),
        "note": st.sampled_from(NOTES),
        "override": st.sampled_from(OVERRIDES),
        "refused": st.booleans(),
        "erased": st.booleans(),
        "restricted": st.booleans(),
        # channel -> (consent, opted out); a channel left out has no row
        "perms": st.dictionaries(
            st.sampled_from(CHANNELS), st.tuples(st.booleans(), st.booleans())
        ),
        # (email or phone, channel or "all")
        "suppressed": st.lists(
            st.tuples(st.sampled_from(["email", "phone"]), st.sampled_from([*CHANNELS, "all"])),
            max_size=3,
        ),
    }
)


_LI_WITHOUT_NOTE = {
    "email": None, "phone": None, "basis": "legitimate-interest", "assessment": False,
    "note": None, "override": None, "refused": False, "erased": False, "restricted": False,
    "perms": {}, "suppressed": [],
}  # fmt: skip


def _populate(ctx, people) -> dict[int, dict]:
    with ctx.db.transaction() as session:
        for table in (ExportMember, ExportRun, ChannelPermission, Suppression, Prospect):
            session.execute(delete(table))
        session.execute(delete(LIAssessment))
        assessment = session.execute(
            insert(LIAssessment.__table__).returning(LIAssessment.id),
            {"name": "LIA", "name_key": "lia", "purpose": "p", "necessity": "n",
             "balancing": "b", "created_by": "alice", "created_at": NOW},
        ).scalar_one()  # fmt: skip
        keys: set[str] = set()
        added = {}
        for person in people:
            email = person["email"]
            if email is not None and email.lower() in keys:
                email = None  # the email key is unique
            if email is not None:
                keys.add(email.lower())
            pid = session.execute(
                insert(Prospect.__table__).returning(Prospect.id),
                {
                    "first_name": "P",
                    "last_name": "Q",
                    "email": email,
                    "email_key": email.lower() if email is not None else None,
                    "phone": person["phone"],
                    "stage": "lead",
                    "lawful_basis": person["basis"],
                    "li_assessment_id": assessment if person["assessment"] else None,
                    "li_note": person["note"],
                    "subscriber_type_override": person["override"],
                    "personalisation_refused": person["refused"],
                    "erased_at": NOW if person["erased"] else None,
                    "restricted_at": NOW if person["restricted"] else None,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "version": 1,
                },  # fmt: skip
            ).scalar_one()
            for channel, (consent, opted_out) in person["perms"].items():
                session.execute(
                    insert(ChannelPermission.__table__),
                    {"prospect_id": pid, "channel": channel, "consent": consent,
                     "opted_out_at": NOW if opted_out else None},
                )  # fmt: skip
            for kind, channel in person["suppressed"]:
                address = email if kind == "email" else person["phone"]
                if address and address.strip():
                    # Neither an email nor a phone (ValueError): cannot be suppressed.
                    with contextlib.suppress(ValueError):
                        S.add_entry(session, ctx, address, channel, "manual", "test")
            added[pid] = {**person, "email": email}
    return added


def _expected(ctx, channel: Channel, personalised: bool) -> dict[int, list[str]]:
    with ctx.db.read() as session:
        return {
            p.id: [r.value for r in exclusion_reasons(facts_for(session, p), channel,
                                                      personalised=personalised)]
            for p in session.scalars(select(Prospect).order_by(Prospect.id))
        }  # fmt: skip


def _sql_masks(ctx, channel: Channel, personalised: bool) -> dict[int, int]:
    p = Prospect.__table__
    cp = ChannelPermission.__table__.alias("cp")
    with ctx.db.read() as session:
        dialect = session.get_bind().dialect.name
        mask = reason_mask(dialect, channel, personalised=personalised, prospect=p, permission=cp)
        stmt = select(p.c.id, mask).outerjoin(
            cp, and_(cp.c.prospect_id == p.c.id, cp.c.channel == channel.value)
        )
        return dict(session.execute(stmt).all())


def _plain(person, channel: Channel) -> bool:
    email_plain = person["email"] is None or person["email"] in PLAIN_EMAILS
    phone_plain = person["phone"] is None or person["phone"] in PLAIN_PHONES
    mobile_plain = person["phone"] is None or person["phone"] in PLAIN_PHONES[:2]
    return {
        Channel.EMAIL: email_plain,
        Channel.PHONE: phone_plain,
        Channel.SMS: email_plain and mobile_plain,
        Channel.ONLINE: email_plain and phone_plain,
    }[channel]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(person_st, min_size=1, max_size=12))
@example(people=[_LI_WITHOUT_NOTE])  # a NULL note is no note (found on PostgreSQL)
def test_the_sql_rule_gives_everyone_the_rules_reasons(ctx, people):
    added = _populate(ctx, people)
    for channel in Channel:
        for personalised in (False, True):
            expected = _expected(ctx, channel, personalised)
            preview = E.preview_export(
                ctx, E.ExportRequest(channel.value, "Prop", personalised=personalised)
            )
            got = {c.prospect_id: c.reasons for c in preview.included + preview.excluded}
            assert got == expected, (channel, personalised)
            assert sorted(c.prospect_id for c in preview.included) == sorted(
                pid for pid, reasons in expected.items() if not reasons
            )
            # SQL alone (without the suppression list, which it cannot hash)
            # decides every person whose addresses are plain, and rightly.
            suppressed = mask_of([Exclusion.SUPPRESSED])
            for pid, mask in _sql_masks(ctx, channel, personalised).items():
                if _plain(added[pid], channel):
                    assert mask != UNDECIDED, (added[pid], channel)
                email = added[pid]["email"]
                if (
                    email is not None
                    and channel is not Channel.PHONE
                    and not PLAIN_EMAIL.fullmatch(email)
                ):
                    continue  # the rule decides this one (as the export does)
                if mask != UNDECIDED:
                    reference = mask_of(Exclusion(r) for r in expected[pid])
                    assert mask == reference & ~suppressed, (added[pid], channel)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(person_st, min_size=1, max_size=8))
def test_an_export_file_holds_exactly_the_people_the_rule_includes(ctx, tmp_path, people):
    _populate(ctx, people)
    for n, channel in enumerate(Channel):
        expected = _expected(ctx, channel, False)
        out = tmp_path / f"{channel.value}-{n}-{id(people)}.csv"
        record = E.run_export(ctx, E.ExportRequest(channel.value, "Prop"), out)
        included = sorted(pid for pid, reasons in expected.items() if not reasons)
        assert E.export_members(ctx, record.id) == included
        lines = out.read_text(encoding="utf-8-sig").splitlines()[1:]
        assert [int(line.split(",", 1)[0]) for line in lines] == included
        counts: dict[str, int] = {}
        for reasons in expected.values():
            for r in reasons:
                counts[r] = counts.get(r, 0) + 1
        assert record.exclusions == counts
        assert record.excluded == sum(1 for r in expected.values() if r)


def test_plain_people_are_decided_without_the_python_rule(ctx, monkeypatch):
    """The export calls exclusion_reasons only for rows SQL cannot decide."""
    _populate(
        ctx,
        [
            {"email": e, "phone": p, "basis": b, "assessment": False, "note": "LI note",
             "override": None, "refused": False, "erased": False, "restricted": False,
             "perms": {"email": (True, False)}, "suppressed": [("email", "all")] if i % 3 else []}
            for i, (e, p, b) in enumerate(zip(PLAIN_EMAILS, PLAIN_PHONES * 3, BASES * 4, strict=False))
        ],
    )  # fmt: skip

    def must_not_run(*args, **kwargs):
        raise AssertionError("the Python rule ran for a plain row")

    monkeypatch.setattr(E, "exclusion_reasons", must_not_run)
    preview = E.preview_export(ctx, E.ExportRequest("email", "Plain"))
    assert preview.total == len(PLAIN_EMAILS)
    assert preview.counts["suppressed"] == sum(1 for i in range(len(PLAIN_EMAILS)) if i % 3)


def test_an_odd_address_goes_to_the_python_rule(ctx, monkeypatch):
    _populate(
        ctx,
        [{"email": "a@sch--ool.org", "phone": None, "basis": "consent", "assessment": False,
          "note": None, "override": None, "refused": False, "erased": False,
          "restricted": False, "perms": {"email": (True, False)}, "suppressed": []}],
    )  # fmt: skip
    calls = []
    real = E.exclusion_reasons

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(E, "exclusion_reasons", counted)
    preview = E.preview_export(ctx, E.ExportRequest("email", "Odd"))
    assert len(calls) == 1 and [c.reasons for c in preview.included] == [[]]


@pytest.mark.parametrize("address", ["ann@oakfield.sch.uk", "+447700900123", "é@x.org", ""])
def test_the_exports_suppression_digest_is_the_suppression_lists(ctx, address):
    with ctx.db.read() as session:
        fast = E._Suppressed(session, Channel.EMAIL)
        key = S.hmac_key(session)
    assert fast.digest(address).hex() == digest(key, address)


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.sampled_from(PLAIN_EMAILS + ODD_EMAILS),
        st.from_regex(
            r"[a-zA-Z0-9.'+_-]{1,70}@[a-zA-Z0-9.-]{1,70}\.[a-zA-Z0-9-]{1,5}", fullmatch=True
        ),
        st.text(alphabet="ab.@-_+Z9 \u212a\u00fc", max_size=20),
    )
)
def test_a_plain_email_is_valid_and_its_own_canonical_form(email):
    """What the export relies on for a plain email, checked against the rule's own parts."""
    if PLAIN_EMAIL.fullmatch(email):
        assert eligibility.email_is_valid(email)
        assert canonical_address(email) == email.lower()
        # SQL takes the domain as the text after the first "@", lower-cased;
        # the rule takes it after the last, lower-cased, without trailing dots.
        assert email.count("@") == 1 and not email.endswith(".")


def test_the_whitespace_sql_strips_is_pythons():
    assert set(PYTHON_WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}


def test_reason_bits_round_trip():
    for n in range(1 << len(Exclusion)):
        assert mask_of(eligibility.reasons_from_mask(n)) == n
    with pytest.raises(ValueError):
        eligibility.reasons_from_mask(1 << len(Exclusion))
