"""Restriction and erasure of one person's data."""

import pytest

from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ContactInput, ProspectInput, ValidationError
from crm_desktop.errors import NotPermittedError
from crm_desktop.services import Context, audit
from crm_desktop.services import correspondence as C
from crm_desktop.services import exports as E
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import rights as R
from crm_desktop.services import suppression as S

NAME, EMAIL, PHONE = "Zebedee Quinlan-Farthing", "zebedee.quinlan@oakfield.sch.uk", "07700 900777"


@pytest.fixture
def person(ctx):
    first, last = NAME.split(" ", 1)
    pid = P.create_prospect(
        ctx,
        ProspectInput(first_name=first, last_name=last, email=EMAIL, phone=PHONE,
                      school="Oakfield Primary", role="SENCo", interests=["SEND support"],
                      source="event", source_detail="Met Zebedee at BETT"),
    ).record.id  # fmt: skip
    M.set_lawful_basis(ctx, pid, "legitimate-interest", note="Zebedee runs SEND at Oakfield")
    M.grant_consent(ctx, pid, "email", M.ConsentEvidence("web-form", "Zebedee ticked the box"))
    C.log_contact(ctx, pid, ContactInput(kind="call", subject="Zebedee call",
                                         summary="Spoke to Zebedee Quinlan-Farthing"))  # fmt: skip
    return pid


def test_restriction_blocks_use_and_change_but_not_opt_outs(ctx, person, tmp_path):
    R.restrict(ctx, person, "Accuracy contested by the person")
    view = P.get_prospect(ctx, person)
    with pytest.raises(R.RestrictedError, match="restricted \\(Accuracy contested"):
        P.update_prospect(ctx, person, P.as_input(view))
    with pytest.raises(R.RestrictedError):
        C.log_contact(ctx, person, ContactInput(kind="note", summary="x"))
    with pytest.raises(R.RestrictedError):
        M.grant_consent(ctx, person, "sms", M.ConsentEvidence("web-form", "yes"))
    with pytest.raises(R.RestrictedError):
        P.delete_prospect(ctx, person)
    preview = E.preview_export(ctx, E.ExportRequest("email", "x"))
    assert preview.included == [] and preview.counts["restricted"] == 1
    M.opt_out(ctx, person, "sms")  # an opt-out is always honoured
    R.unrestrict(ctx, person, "Accuracy confirmed")
    P.update_prospect(ctx, person, P.as_input(P.get_prospect(ctx, person)))
    actions = [e.action for e in audit.entries(ctx, entity="prospect", entity_id=person)]
    assert "prospect.restricted" in actions and "prospect.unrestricted" in actions
    with pytest.raises(ValidationError):
        R.restrict(ctx, person, "  ")


def test_erasure_needs_the_name_and_the_role(ctx, person):
    with pytest.raises(ValidationError, match="type the person's full name"):
        R.erase(ctx, person, confirm="Zeb")
    # Exactly as shown: a near miss in case or spacing is not a confirmation.
    for near_miss in (NAME.lower(), NAME.upper(), f" {NAME}", NAME.replace(" ", "  ")):
        with pytest.raises(ValidationError, match="exactly as shown"):
            R.erase(ctx, person, confirm=near_miss)
    with pytest.raises(NotPermittedError):
        R.erase(Context(ctx.db, "mo", Role.MARKETING), person, confirm=NAME)
    assert P.get_prospect(ctx, person).first_name == "Zebedee"


def test_erasure_leaves_a_suppressed_tombstone_and_a_valid_chain(ctx, person):
    view = R.erase(ctx, person, confirm=NAME).view
    assert (view.first_name, view.email, view.phone, view.school_name) == (
        "Erased", None, None, None)  # fmt: skip
    assert P.count_prospects(ctx) == 1  # the tombstone keeps counts whole
    assert P.list_prospects(ctx, P.ProspectQuery(search="zebedee")) == []
    assert [e.reason for e in S.lookup(ctx, EMAIL) if e.channel == "all"] == ["erasure"]
    assert S.lookup(ctx, PHONE)
    assert [c.summary for c in C.list_correspondence(ctx, person)] == ["(erased)"]
    assert audit.verify(ctx).ok
    # Re-adding them makes a new record that can never be marketed to, and
    # says so: the warning names the channels, and the record is opted out.
    saved = P.create_prospect(ctx, ProspectInput(first_name="Zebedee", last_name="Q", email=EMAIL))
    again = saved.record.id
    assert saved.warnings == [
        f"{EMAIL} is on the suppression list for Email and Online audiences: saved, and "
        "recorded as opted out of those channels."
    ]
    opted = {c.channel for c in M.marketing_view(ctx, again).channels if c.opted_out}
    assert opted == {"email", "online"}
    M.set_lawful_basis(ctx, again, "legitimate-interest", note="x")
    assert "suppressed" in [e.value for e in M.exclusions_for(ctx, again, "email")]


@pytest.mark.sqlite_only
def test_erasure_leaves_no_trace_in_the_database_files(ctx, person):
    R.restrict(ctx, person, "Zebedee asked us to hold his data")  # a reason naming him
    R.erase(ctx, person, confirm=NAME)
    path = ctx.db.path
    # Read the files while the app still has the database open: the
    # write-ahead log must not hold the old pages either.
    raw = b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*") if f.is_file())
    assert audit.verify(ctx).ok
    for secret in ("Zebedee", "Quinlan", "zebedee.quinlan", "900777", "Met Zebedee at BETT"):
        assert secret.encode() not in raw, secret
        assert secret.encode("utf-16-le") not in raw, secret


def test_a_suppressed_address_given_in_an_edit_is_honoured_and_named(ctx):
    """Issue 10 item 13: an edit that brings in a suppressed address opts out too."""
    S.suppress(ctx, "07911 123456", channel="sms", source="Texted STOP")
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Ann", last_name="Lee", email="ann@lee.org")
    ).record.id
    assert P.check_suppressed(ctx, "ann@lee.org", "07911 123456") == [
        "07911 123456 is on the suppression list for SMS: saving records this person as "
        "opted out of that channel."
    ]
    data = P.as_input(P.get_prospect(ctx, pid))
    data.phone = "07911 123456"
    saved = P.update_prospect(ctx, pid, data)
    assert saved.warnings == [
        "07911 123456 is on the suppression list for SMS: saved, and recorded as opted out "
        "of that channel."
    ]
    opted = {c.channel for c in M.marketing_view(ctx, pid).channels if c.opted_out}
    assert opted == {"sms"}
    history = [e.action for e in M.consent_history(ctx, pid)]
    assert history == ["opted-out"]  # through the consent ledger
    # Saving again with the same address neither warns nor records it twice.
    assert P.update_prospect(ctx, pid, P.as_input(P.get_prospect(ctx, pid))).warnings == []
    assert [e.action for e in M.consent_history(ctx, pid)] == ["opted-out"]
    # An address on no list, and one that is not an address, say nothing.
    assert P.check_suppressed(ctx, "someone@else.org", "not a phone") == []
