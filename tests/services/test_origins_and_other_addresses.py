"""A prospect's extra addresses and import origin, honoured everywhere (issue 13).

The rows an import leaves (import batch and members, contact points) are
written directly (tests/support/import_support.py), so these tests hold
whatever the import itself does.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from import_support import add_address, add_batch
from sqlalchemy import func, select

from crm_desktop.domain.models import ContactPoint, ImportBatch, ImportMember
from crm_desktop.domain.restriction import RestrictedError
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.errors import NotFoundError
from crm_desktop.reports.sar_html import pack_html
from crm_desktop.services import audit, sar, settings
from crm_desktop.services import contact_points as CP
from crm_desktop.services import history as H
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import rights as R
from crm_desktop.services import suppression as S

PRIMARY, SECOND, THIRD = "ann.lee@oak.sch.uk", "Ann.Lee@Home-Mail.example", "ann@lee.example"
PHONE, SECOND_PHONE = "07700 900111", "07700 900222"


@pytest.fixture
def ann(ctx):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Ann", last_name="Lee", email=PRIMARY, phone=PHONE)
    ).record.id
    add_address(ctx, pid, SECOND, position=1)
    add_address(ctx, pid, THIRD, position=2)
    add_address(ctx, pid, SECOND_PHONE, position=1)
    return pid


def _count(ctx, model, **where) -> int:
    with ctx.db.read() as session:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return session.scalar(stmt)


def _suppressed_channels(ctx, address) -> set[str]:
    return {e.channel for e in S.lookup(ctx, address)}


def test_the_view_lists_other_addresses_and_origins(ctx, ann):
    when = datetime(2026, 1, 22, 10, 30, tzinfo=UTC)
    first = add_batch(ctx, {ann: ("created", 7)}, created_at=when)
    later = add_batch(ctx, {ann: ("updated", 2)}, file_name="google.csv", source="Google",
                      fmt="google", basis="none", consent_wording=None)  # fmt: skip
    view = P.get_prospect(ctx, ann)
    assert view.other_emails == [SECOND, THIRD]
    assert view.other_phones == ["+447700900222"]
    assert view.other_phones_display == ["07700 900222"]
    assert [(o.import_id, o.outcome, o.row_number) for o in view.origins] == [
        (first, "created", 7), (later, "updated", 2)]  # fmt: skip
    o = view.origins[0]
    assert (o.file_name, o.source, o.imported_by, o.imported_at) == (
        "bett-2026.csv", "Bett 2026 stand sign-ups", "alice", when)  # fmt: skip
    assert (o.lawful_basis, o.consent_wording, o.consent_policy_version) == (
        "consent", "Tick to hear about our SEND tools", "v3")  # fmt: skip
    as_json = view.to_dict()
    assert as_json["origins"][0]["imported_at"] == when.isoformat()
    assert as_json["other_emails"] == [SECOND, THIRD]
    # Someone typed in by hand has neither.
    plain = P.create_prospect(ctx, ProspectInput(first_name="Bo", last_name="Ng", email="b@x.org"))
    assert (plain.record.other_emails, plain.record.origins) == ([], [])


def test_opting_out_of_everything_suppresses_the_extra_addresses(ctx, ann):
    for address in (SECOND, THIRD, SECOND_PHONE):
        assert P.check_suppressed(ctx, address if "@" in address else None,
                                  None if "@" in address else address) == []  # fmt: skip
    M.opt_out(ctx, ann, "all", reason="Never again")
    for address in (PRIMARY, SECOND, THIRD, PHONE, SECOND_PHONE):
        assert _suppressed_channels(ctx, address) == {"all"}, address
    # A re-import (or anyone typing it in) of the second email is warned and opted out.
    warnings = P.check_suppressed(ctx, SECOND.upper())
    assert len(warnings) == 1 and "on the suppression list" in warnings[0]


def test_an_email_opt_out_suppresses_extra_emails_not_extra_phones(ctx, ann):
    M.opt_out(ctx, ann, "email")
    assert _suppressed_channels(ctx, SECOND) == {"email"}
    assert _suppressed_channels(ctx, THIRD) == {"email"}
    assert _suppressed_channels(ctx, SECOND_PHONE) == set()
    M.opt_out(ctx, ann, "sms")
    assert _suppressed_channels(ctx, SECOND_PHONE) == {"sms"}
    assert _suppressed_channels(ctx, SECOND) == {"email"}


def test_an_objection_suppresses_every_address(ctx, ann):
    M.object_to_marketing(ctx, ann, reason="Objected by letter")
    for address in (SECOND, THIRD, SECOND_PHONE):
        assert [(e.channel, e.reason) for e in S.lookup(ctx, address)] == [
            ("all", "objection")], address  # fmt: skip


def test_an_explicit_opt_in_lifts_the_extra_addresses_opt_out_entries(ctx, ann):
    M.opt_out(ctx, ann, "email")
    S.suppress(ctx, THIRD, channel="email", reason="manual", source="Bounced")
    M.grant_consent(ctx, ann, "email", M.ConsentEvidence("web-form", "Ticked the box again"))
    assert _suppressed_channels(ctx, SECOND) == set()
    # Marketing's own entry is not an opt-out's to lift.
    assert [e.reason for e in S.lookup(ctx, THIRD)] == ["manual"]


def test_erasure_suppresses_every_address_and_deletes_the_extra_ones(ctx, ann):
    batch = add_batch(ctx, [ann])
    R.erase(ctx, ann, confirm="Ann Lee", scrub=False)
    for address in (PRIMARY, SECOND, THIRD, PHONE, SECOND_PHONE):
        assert [(e.channel, e.reason) for e in S.lookup(ctx, address)] == [
            ("all", "erasure")], address  # fmt: skip
    assert _count(ctx, ContactPoint, prospect_id=ann) == 0
    # The link to the file's row goes (it could find them again); the batch stays.
    assert _count(ctx, ImportMember, prospect_id=ann) == 0
    assert _count(ctx, ImportBatch, id=batch) == 1
    view = P.get_prospect(ctx, ann)
    assert (view.other_emails, view.other_phones, view.origins) == ([], [], [])
    # Their second address typed in again comes in opted out of everything.
    saved = P.create_prospect(ctx, ProspectInput(first_name="A", last_name="L", email=THIRD))
    assert saved.warnings and "suppression list" in saved.warnings[0]
    opted = {c.channel for c in M.marketing_view(ctx, saved.record.id).channels if c.opted_out}
    assert opted == {"email", "online"}
    assert audit.verify(ctx).ok


@pytest.mark.sqlite_only
def test_erasure_leaves_no_extra_address_in_the_database_files(ctx, ann):
    R.erase(ctx, ann, confirm="Ann Lee")
    path = ctx.db.path
    raw = b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*") if f.is_file())
    for secret in ("Home-Mail", "home-mail", "ann@lee.example", "7700900222"):
        assert secret.encode() not in raw, secret


def test_deleting_a_prospect_deletes_their_extra_addresses_and_origin(ctx, ann):
    add_batch(ctx, [ann])
    address = P.get_prospect(ctx, ann)
    assert address.other_emails
    P.delete_prospect(ctx, ann)
    assert _count(ctx, ContactPoint, prospect_id=ann) == 0
    assert _count(ctx, ImportMember, prospect_id=ann) == 0
    # Deletion does not suppress (they may be added again).
    assert S.lookup(ctx, SECOND) == []


def test_removing_a_wrong_extra_address_is_audited_and_blanked_on_deletion(ctx, ann):
    with ctx.db.read() as session:
        second = next(a for a in CP.other_addresses(session, ann) if a.value == SECOND)
    version = P.get_prospect(ctx, ann).version
    removed = CP.remove_address(ctx, ann, second.id, reason="Not her address (rectification)")
    assert removed.value == SECOND
    view = P.get_prospect(ctx, ann)
    assert view.other_emails == [THIRD] and view.version == version + 1
    entry = audit.entries(ctx, entity="prospect", entity_id=ann)[0]
    assert entry.action == "prospect.edited"
    assert entry.values == {"other_email": {"old": SECOND, "new": None}}
    assert entry.reason == "Not her address (rectification)"
    with pytest.raises(NotFoundError, match="no such other address"):
        CP.remove_address(ctx, ann, second.id)
    # The history shows it as an edit.
    assert any("Other email: " + SECOND in e.detail for e in H.history(ctx, ann, kinds=["edit"]))
    # Deleting the person blanks the removed address from the audit trail too.
    P.delete_prospect(ctx, ann)
    values = [e.values for e in audit.entries(ctx, entity="prospect", entity_id=ann)]
    assert SECOND not in repr(values)
    assert audit.verify(ctx).ok


def test_an_extra_address_can_be_removed_by_the_address_itself(ctx, ann):
    assert CP.remove_address(ctx, ann, "07700 900222").value == "+447700900222"
    assert CP.remove_address(ctx, ann, THIRD.upper()).value == THIRD
    view = P.get_prospect(ctx, ann)
    assert (view.other_emails, view.other_phones) == ([SECOND], [])
    with pytest.raises(NotFoundError):
        CP.remove_address(ctx, ann, PRIMARY)  # the primary one is the form's to change
    with pytest.raises(NotFoundError):
        CP.remove_address(ctx, ann, "not an address")


def test_a_restricted_persons_extra_address_cannot_be_removed(ctx, ann):
    with ctx.db.read() as session:
        phone = next(a for a in CP.other_addresses(session, ann) if a.kind == "phone")
    R.restrict(ctx, ann, "Accuracy contested")
    with pytest.raises(RestrictedError):
        CP.remove_address(ctx, ann, phone.id)
    assert P.get_prospect(ctx, ann).other_phones == ["+447700900222"]


def test_the_history_lists_each_import(ctx, ann):
    first = add_batch(ctx, {ann: ("created", 12)})
    # The import audits what it set with its batch in the reason; the history
    # shows that under the import, once, not as a second "Record edited".
    with ctx.db.transaction() as session:
        audit.record_change(session, "alice", "prospect.edited", "prospect", ann,
                            {"role": None}, {"role": "SENCo"},
                            reason=f"Import #{first}: Bett 2026 stand sign-ups")  # fmt: skip
    add_batch(ctx, {ann: ("updated", 3)}, file_name="contacts.vcf", source="Phone contacts",
              fmt="vcard", basis="legitimate-interest", consent_wording=None,
              policy_version=None, li_note="Heads of SEND we met")  # fmt: skip
    events = [e for e in H.history(ctx, ann) if "import" in e.title.lower()]
    assert [e.title for e in events] == [
        "Updated by import of contacts.vcf (Phone contacts)",
        "Created by import of bett-2026.csv (Bett 2026 stand sign-ups)",
    ]
    assert events[1].detail.splitlines() == [
        "Row 12 of the file (CSV)", "Lawful basis: Consent",
        "What they were told: Tick to hear about our SEND tools", "Privacy notice version: v3",
        "Job role: — → SENCo",
    ]  # fmt: skip
    assert not [e for e in H.history(ctx, ann) if e.title == "Record edited"]
    assert "Note: Heads of SEND we met" in events[0].detail
    assert {e.kind for e in events} == {"edit"} and events[0].actor == "alice"
    assert not [e for e in H.history(ctx, ann, kinds=["consent"]) if "import" in e.title]


def test_the_access_pack_says_where_we_got_their_details(ctx, ann):
    settings.set_controller(ctx, name="Acme Learning Ltd", address="1 Park Row",
                            email="privacy@acme.example", dpo_name="Priya Shah")  # fmt: skip
    when = datetime(2026, 1, 22, 10, 30, tzinfo=UTC)
    add_batch(ctx, {ann: ("created", 7)}, created_at=when)
    M.opt_out(ctx, ann, "email")
    pack = sar.build_pack(ctx, ann)
    assert pack["format_version"] == 3
    assert pack["subject"]["other_emails"] == [SECOND, THIRD]
    assert pack["subject"]["other_phones"] == ["+447700900222"]
    assert pack["source"]["imports"] == [
        {
            "file_name": "bett-2026.csv", "source": "Bett 2026 stand sign-ups", "format": "csv",
            "outcome": "created", "row_number": 7, "imported_at": when.isoformat(),
            "imported_by": "alice", "lawful_basis": "consent",
            "consent_wording": "Tick to hear about our SEND tools",
            "consent_policy_version": "v3", "li_note": None, "li_assessment": None,
        }
    ]  # fmt: skip
    kinds = sorted(e["address"] for e in pack["suppression"]["entries"])
    assert kinds == ["email", "other-email", "other-email"]
    html = pack_html(pack)
    assert "Where we got your details" in html
    assert "How we got your details" not in html  # nothing typed in: only the imports
    assert "Lists we imported your details from" in html
    assert "Bett 2026 stand sign-ups" in html and "bett-2026.csv" in html
    assert "22 Jan 2026" in html and "Tick to hear about our SEND tools" in html
    assert "Other email addresses" in html and "Ann.Lee@Home-Mail.example" in html
    assert "07700 900222" in html and "Other email address" in html


def test_a_pack_for_someone_typed_in_says_no_list_brought_them(ctx, ann):
    settings.set_controller(ctx, name="Acme", address="1 Row", email="p@acme.example",
                            dpo_name="Priya")  # fmt: skip
    plain = P.create_prospect(ctx, ProspectInput(first_name="Bo", last_name="Ng", email="b@x.org"))
    pack = sar.build_pack(ctx, plain.record.id)
    assert pack["source"]["imports"] == [] and pack["subject"]["other_emails"] == []
    html = pack_html(pack)
    assert "did not come from a list we imported" in html
    assert "Other email addresses" not in html


def test_a_whole_extra_email_finds_the_person_in_search_and_by_reference(ctx, ann):
    def found(text):
        return [r.id for r in P.list_prospects(ctx, P.ProspectQuery(search=text))]

    assert found(SECOND.upper()) == [ann]
    assert P.count_prospects(ctx, P.ProspectQuery(search=f"  {THIRD} ")) == 1
    assert found("home-mail") == []  # parts of extra addresses are not searched
    assert found("nobody@home-mail.example") == []
    assert P.find_prospect(ctx, SECOND).id == ann
    with pytest.raises(NotFoundError, match="No prospect"):
        P.find_prospect(ctx, "nobody@home-mail.example")


def test_an_unsubscribe_from_the_email_tool_suppresses_their_extra_emails(ctx, ann, tmp_path):
    from crm_desktop.services import email_sync

    path = tmp_path / "unsubscribed.txt"
    path.write_text(PRIMARY + "\n", encoding="utf-8")
    report = email_sync.import_unsubscribes(ctx, path)
    assert report.matched == 1
    for address in (PRIMARY, SECOND, THIRD):
        assert [(e.channel, e.reason) for e in S.lookup(ctx, address)] == [
            ("email", "email-tool")], address  # fmt: skip
    assert S.lookup(ctx, SECOND_PHONE) == []
