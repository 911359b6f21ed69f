import json

import pytest

from crm_desktop.domain.validation import ProspectInput, ValidationError
from crm_desktop.errors import NotFoundError
from crm_desktop.persistence import open_database
from crm_desktop.services import Context
from crm_desktop.services import assessments as A
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import suppression as S

EVIDENCE = M.ConsentEvidence("web-form", "Ticked 'Send me news about your products'", "v3")


def add(ctx, email="jane@oak.sch.uk", phone="07700 900123", **kw):
    return P.create_prospect(
        ctx, ProspectInput(first_name="Jane", last_name="Smith", email=email, phone=phone, **kw)
    ).record.id


def channel(view, name):
    return next(c for c in view.channels if c.channel == name)


def test_new_prospect_has_no_basis_and_is_not_marketable(ctx):
    view = M.marketing_view(ctx, add(ctx))
    assert view.lawful_basis == "none"
    assert view.subscriber_type == "corporate" and view.subscriber_type_inferred
    assert all(c.exclusions == ["no-lawful-basis"] for c in view.channels)


def test_consent_records_evidence_and_ledger(ctx):
    pid = add(ctx)
    view = M.grant_consent(ctx, pid, ["email", "sms"], EVIDENCE)
    email = channel(view, "email")
    assert email.consent and email.consent_method == "web-form"
    assert email.consent_policy_version == "v3"
    assert email.consent_given_by == "Jane Smith" and email.consent_recorded_by == "alice"
    assert email.exclusions == [] and channel(view, "phone").exclusions == ["no-lawful-basis"]
    history = M.consent_history(ctx, pid)
    assert [(e.action, e.channel) for e in history] == [
        ("consent-granted", "sms"),
        ("consent-granted", "email"),
    ]
    assert history[0].details["wording"] == EVIDENCE.wording


@pytest.mark.parametrize(
    ("evidence", "field"),
    [
        (M.ConsentEvidence("web-form", "   "), "evidence"),
        (M.ConsentEvidence("telepathy", "yes"), "method"),
        (M.ConsentEvidence("web-form", "yes", given_at="2999-01-01T00:00"), "given_at"),
    ],
)
def test_consent_without_proper_evidence_is_refused_and_stores_nothing(ctx, evidence, field):
    pid = add(ctx)
    with pytest.raises(ValidationError) as exc:
        M.grant_consent(ctx, pid, "email", evidence)
    assert field in exc.value.errors
    assert M.consent_history(ctx, pid) == []


def test_opt_out_all_is_immediate_sticky_and_suppresses(ctx):
    pid = add(ctx)
    M.set_lawful_basis(ctx, pid, "legitimate-interest", note="Schools buy our MIS tools")
    M.grant_consent(ctx, pid, "all", EVIDENCE)
    view = M.opt_out(ctx, pid, "all", source="phone", reason="Too many emails")
    assert all(c.opted_out and "opted-out" in c.exclusions for c in view.channels)
    assert view.suppressed == ["all"]
    assert [e.reason for e in S.lookup(ctx, "JANE@oak.sch.uk")] == ["opt-out"]
    assert [e.kind for e in S.lookup(ctx, "+447700900123")] == ["phone"]
    # Changing the basis or the personalisation setting does not lift it.
    M.set_lawful_basis(ctx, pid, "legitimate-interest", note="Another reason")
    M.set_personalisation(ctx, pid, refused=False)
    assert all(c.opted_out for c in M.marketing_view(ctx, pid).channels)
    # Nor does a consent without evidence.
    with pytest.raises(ValidationError):
        M.grant_consent(ctx, pid, "email", M.ConsentEvidence("email-reply", ""))
    assert channel(M.marketing_view(ctx, pid), "email").opted_out


def test_explicit_opt_in_with_evidence_lifts_only_that_channel(ctx):
    pid = add(ctx)
    M.set_lawful_basis(ctx, pid, "consent")
    M.opt_out(ctx, pid, "all")
    view = M.grant_consent(ctx, pid, "email", EVIDENCE)
    assert channel(view, "email").exclusions == []
    assert channel(view, "sms").opted_out
    # The all-channel entry became per-channel entries for what is still opted out.
    # Email stays suppressed only for online audiences (which match on email).
    assert [e.channel for e in S.lookup(ctx, "jane@oak.sch.uk")] == ["online"]
    assert sorted(e.channel for e in S.lookup(ctx, "07700 900123")) == ["online", "phone", "sms"]
    actions = [e.action for e in M.consent_history(ctx, pid)]
    assert actions[:2] == ["consent-granted", "opt-out-lifted"]


def test_channel_opt_out_suppresses_only_the_address_that_channel_uses(ctx):
    pid = add(ctx)
    M.opt_out(ctx, pid, "email", source="email-reply")
    assert [e.channel for e in S.lookup(ctx, "jane@oak.sch.uk")] == ["email"]
    assert S.lookup(ctx, "07700 900123") == []  # a shared switchboard stays usable


def test_objection_opts_out_everything_and_suppresses(ctx):
    pid = add(ctx)
    view = M.object_to_marketing(ctx, pid, source="in-person")
    assert all(c.opted_out for c in view.channels)
    assert [e.reason for e in S.lookup(ctx, "jane@oak.sch.uk")] == ["objection"]
    assert M.consent_history(ctx, pid)[-1].action == "objected"


def test_opt_out_is_never_refused_even_with_odd_input(ctx):
    pid = add(ctx, email=None)
    view = M.opt_out(ctx, pid, ["SMS", "Online audiences"], reason="x" * 4000)
    assert channel(view, "sms").opted_out and channel(view, "online").opted_out
    with pytest.raises(ValueError):
        M.opt_out(ctx, pid, "carrier pigeon")


def test_lawful_basis_li_needs_a_note_or_assessment(ctx):
    pid = add(ctx)
    with pytest.raises(ValidationError, match="needs a written note"):
        M.set_lawful_basis(ctx, pid, "legitimate-interest")
    assessment = A.create_assessment(
        ctx,
        "School leaders",
        purpose="Tell school leaders about our MIS tools",
        necessity="Email is how schools expect to hear from suppliers",
        balancing="Work addresses, job-relevant, easy opt-out",
    )
    view = M.set_lawful_basis(ctx, pid, "legitimate-interest", li_assessment_id=assessment.id)
    assert view.li_assessment_name == "School leaders"
    assert channel(view, "email").exclusions == []
    assert A.get_assessment(ctx, "school LEADERS").prospect_count == 1
    view = M.set_lawful_basis(ctx, pid, "none")
    assert view.li_assessment_id is None and channel(view, "email").exclusions == [
        "no-lawful-basis"
    ]
    event = M.consent_history(ctx, pid)[0]
    assert event.action == "basis-set" and event.details["old"] == "legitimate-interest"


def test_subscriber_type_is_inferred_and_can_be_overridden(ctx):
    pid = add(ctx, email="jane.smith@gmail.com")
    M.set_lawful_basis(ctx, pid, "legitimate-interest", note="x")
    view = M.marketing_view(ctx, pid)
    assert view.subscriber_type == "individual"
    assert channel(view, "email").exclusions == ["individual-without-consent"]
    view = M.set_subscriber_type(ctx, pid, "corporate")
    assert not view.subscriber_type_inferred and channel(view, "email").exclusions == []
    view = M.set_subscriber_type(ctx, pid, None)
    assert view.subscriber_type == "individual" and view.subscriber_type_inferred


def test_personalisation_refusal(ctx):
    pid = add(ctx)
    M.set_lawful_basis(ctx, pid, "legitimate-interest", note="x")
    M.set_personalisation(ctx, pid, refused=True)
    assert M.exclusions_for(ctx, pid, "email") == []
    assert [e.value for e in M.exclusions_for(ctx, pid, "email", personalised=True)] == [
        "personalisation-refused"
    ]


def test_every_change_bumps_version_and_unknown_prospect_is_not_found(ctx):
    pid = add(ctx)
    before = P.get_prospect(ctx, pid).version
    M.opt_out(ctx, pid, "sms")
    assert P.get_prospect(ctx, pid).version == before + 1
    with pytest.raises(NotFoundError):
        M.opt_out(ctx, 999)


def test_suppression_survives_deletion_and_a_re_added_person_stays_excluded(ctx):
    pid = add(ctx)
    M.opt_out(ctx, pid, "all")
    P.delete_prospect(ctx, pid)
    assert S.lookup(ctx, "Jane@Oak.sch.uk")
    again = add(ctx)
    M.set_lawful_basis(ctx, again, "legitimate-interest", note="x")
    assert all("suppressed" in c.exclusions for c in M.marketing_view(ctx, again).channels)


def test_suppression_list_stores_no_address(ctx, db_path):
    S.suppress(ctx, "secret.person@example.org")
    S.suppress(ctx, "020 7946 0999")
    ctx.db.dispose()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob("crm.db*"))
    assert b"secret.person" not in raw and b"79460999" not in raw


def test_suppress_many_and_lookup(ctx):
    result = S.suppress_many(ctx, ["a@x.org", "A@X.org", "", "not-an-address", "07700 900001"])
    assert (result.added, result.already, result.invalid) == (2, 1, ["not-an-address"])
    assert S.lookup(ctx, "a@x.org")[0].reason == "manual"
    assert S.lookup(ctx, "b@x.org") == []
    assert S.suppress(ctx, "a@x.org") is False
    with pytest.raises(ValidationError):
        S.lookup(ctx, "hello")


def test_hash_key_is_per_database(tmp_path):
    a = Context(open_database(tmp_path / "a.db", create=True), "x")
    b = Context(open_database(tmp_path / "b.db", create=True), "x")
    S.suppress(a, "same@x.org")
    S.suppress(b, "same@x.org")
    digests = []
    for ctx in (a, b):
        with ctx.db.read() as session:
            digests.append(
                session.exec(__import__("sqlmodel").text("SELECT digest FROM suppression")).one()[0]
            )
    assert digests[0] != digests[1] and len(digests[0]) == 64


def test_ledger_details_are_json(ctx):
    pid = add(ctx)
    M.opt_out(ctx, pid, "email", reason='He said "stop" — 停止')
    with ctx.db.read() as session:
        raw = session.exec(__import__("sqlmodel").text("SELECT details FROM consent_event")).one()[
            0
        ]
    assert json.loads(raw)["reason"] == 'He said "stop" — 停止'


def test_manual_suppression_outlives_a_later_opt_in(ctx):
    """Found by the export property test: the stronger reason must win."""
    pid = add(ctx)
    M.opt_out(ctx, pid, "all")
    assert S.suppress(ctx, "jane@oak.sch.uk") is False  # already (as an opt-out)
    M.grant_consent(ctx, pid, "email", EVIDENCE)
    entries = [(e.channel, e.reason) for e in S.lookup(ctx, "jane@oak.sch.uk")]
    assert entries == [("all", "manual"), ("online", "opt-out")]
    assert "suppressed" in [e.value for e in M.exclusions_for(ctx, pid, "email")]
