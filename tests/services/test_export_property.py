"""Property: for any population and consent history, an export holds exactly
the people a plain model of the rules says may be contacted, in every format.

The model below is written independently of domain.eligibility: it replays
the same actions and applies the rules as the brief states them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from crm_desktop.domain.validation import ProspectInput, ValidationError
from crm_desktop.persistence import open_database
from crm_desktop.services import Context
from crm_desktop.services import exports as E
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import suppression as S

CHANNELS = ["email", "sms", "phone", "online"]
USES = {"email": {"email"}, "sms": {"phone"}, "phone": {"phone"}, "online": {"email", "phone"}}


@dataclass
class Person:
    email: str | None
    phone: str | None
    mobile: bool
    individual: bool
    basis: str = "none"
    consent: set = field(default_factory=set)
    opted_out: set = field(default_factory=set)
    suppressed: dict = field(default_factory=dict)  # kind -> set of channels/"all"
    refused_personal: bool = False

    def may(self, channel: str, personalised: bool) -> bool:
        if channel in self.opted_out:
            return False
        for kind in USES[channel]:
            marks = self.suppressed.get(kind, set())
            if "all" in marks or channel in marks:
                return False
        address = {
            "email": self.email,
            "sms": self.phone if self.mobile else None,
            "phone": self.phone,
            "online": self.email or self.phone,
        }[channel]
        if not address:
            return False
        if channel not in self.consent:
            if self.basis != "li":
                return False
            if self.individual and channel in ("email", "sms"):
                return False
        return not (personalised and self.refused_personal)


people_st = st.lists(
    st.tuples(
        st.booleans(),  # has email
        st.sampled_from(["none", "mobile", "landline"]),
        st.booleans(),  # personal (individual) email domain
        # A starting profile, so every rule is exercised often...
        st.sampled_from(["basis-none", "basis-li", "basis-consent"]),
        st.sets(st.sampled_from(CHANNELS)),  # consented channels
        st.sets(st.sampled_from(CHANNELS)),  # then opted-out channels
        st.booleans(),  # refuses personalised marketing
        st.booleans(),  # email suppressed by marketing
    ).filter(lambda t: t[0] or t[1] != "none"),
    min_size=1,
    max_size=5,
)
action_st = st.tuples(
    st.sampled_from(
        [
            "basis-li",
            "basis-none",
            "basis-consent",
            "consent",
            "consent-no-evidence",
            "opt-out",
            "opt-out-all",
            "object",
            "refuse-personal",
            "allow-personal",
            "suppress-email",
        ]
    ),  # fmt: skip
    st.integers(0, 3),
    st.sampled_from(CHANNELS),
)


def apply(ctx, pid, person: Person, action: str, channel: str) -> None:
    if action == "basis-li":
        M.set_lawful_basis(ctx, pid, "legitimate-interest", note="Schools we sell to")
        person.basis = "li"
    elif action == "basis-none":
        M.set_lawful_basis(ctx, pid, "none")
        person.basis = "none"
    elif action == "basis-consent":
        M.set_lawful_basis(ctx, pid, "consent")
        person.basis = "consent"
    elif action == "consent":
        M.grant_consent(ctx, pid, channel, M.ConsentEvidence("web-form", "Ticked: send me news"))
        person.consent.add(channel)
        person.opted_out.discard(channel)
        _resync(person)
    elif action == "consent-no-evidence":
        with pytest.raises(ValidationError):
            M.grant_consent(ctx, pid, channel, M.ConsentEvidence("web-form", "  "))
    elif action in ("opt-out", "opt-out-all", "object"):
        if action == "opt-out":
            M.opt_out(ctx, pid, channel, source="phone")
            person.opted_out.add(channel)
        elif action == "opt-out-all":
            M.opt_out(ctx, pid, "all", source="form")
            person.opted_out |= set(CHANNELS)
        else:
            M.object_to_marketing(ctx, pid)
            person.opted_out |= set(CHANNELS)
        _resync(person)
    elif action == "refuse-personal":
        M.set_personalisation(ctx, pid, refused=True)
        person.refused_personal = True
    elif action == "allow-personal":
        M.set_personalisation(ctx, pid, refused=False)
        person.refused_personal = False
    elif action == "suppress-email" and person.email:
        S.suppress(ctx, person.email)
        person.suppressed.setdefault("manual", set()).add("all")
        person.suppressed.setdefault("email", set()).add("all")


def _resync(person: Person) -> None:
    """Opt-out suppression mirrors opt-outs (manual entries stay)."""
    manual = person.suppressed.get("manual", set())
    marks = {"all"} if person.opted_out >= set(CHANNELS) else set(person.opted_out)
    person.suppressed["email"] = {c for c in marks if c == "all" or "email" in USES[c]} | manual
    person.suppressed["phone"] = {c for c in marks if c == "all" or "phone" in USES[c]}


def read_ids(path, fmt: str) -> list[str]:
    if fmt == "xlsx":
        rows = [[c.value for c in r] for r in load_workbook(path).active.iter_rows()]
    else:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    key = "Email Address" if fmt == "mailchimp" else "Prospect ID"
    return [str(r[header.index(key)]) for r in body]


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=people_st,
    actions=st.lists(action_st, max_size=12),
    channel=st.sampled_from(CHANNELS),
    personalised=st.booleans(),
    fmt=st.sampled_from(["csv", "xlsx", "mailchimp"]),
)
def test_export_contains_exactly_the_eligible(
    tmp_path_factory, people, actions, channel, personalised, fmt
):
    if fmt == "mailchimp" and channel != "email":
        fmt = "csv"
    tmp = tmp_path_factory.mktemp("prop")
    db = open_database(tmp / "crm.db", create=True)
    ctx = Context(db, "alice")
    model: dict[int, Person] = {}
    for i, (has_email, phone_kind, personal, *profile) in enumerate(people):
        email = (f"p{i}@gmail.com" if personal else f"p{i}@oak.sch.uk") if has_email else None
        phone = {"none": None, "mobile": f"07700 900{i:03d}", "landline": f"01632 960{i:03d}"}[
            phone_kind
        ]
        view = P.create_prospect(
            ctx, ProspectInput(first_name="P", last_name=str(i), email=email, phone=phone)
        ).record
        person = model[view.id] = Person(
            email, phone, phone_kind == "mobile", personal and has_email
        )
        basis, consents, opt_outs, refuses, suppressed = profile
        apply(ctx, view.id, person, basis, "email")
        for ch in sorted(consents):
            apply(ctx, view.id, person, "consent", ch)
        for ch in sorted(opt_outs):
            apply(ctx, view.id, person, "opt-out", ch)
        if refuses:
            apply(ctx, view.id, person, "refuse-personal", "email")
        if suppressed:
            apply(ctx, view.id, person, "suppress-email", "email")
    # ...then a random history on top (re-consent after opt-out, objections, ...).
    ids = list(model)
    for action, index, ch in actions:
        pid = ids[index % len(ids)]
        apply(ctx, pid, model[pid], action, ch)

    out = tmp / f"list.{fmt}"
    record = E.run_export(
        ctx, E.ExportRequest(channel, "Prop", format=fmt, personalised=personalised), out
    )
    expected = {pid for pid, person in model.items() if person.may(channel, personalised)}
    got = read_ids(out, fmt)
    if fmt == "mailchimp":
        assert sorted(got) == sorted(model[pid].email for pid in expected)
    else:
        assert sorted(got) == sorted(str(pid) for pid in expected)
    assert record.included == len(expected)
    assert record.excluded == len(model) - len(expected)
    assert sorted(E.export_members(ctx, record.id)) == sorted(expected)
    preview = E.preview_export(ctx, E.ExportRequest(channel, "Prop", personalised=personalised))
    assert {c.prospect_id for c in preview.included} == expected
    assert all(c.reasons for c in preview.excluded)
    db.dispose()
