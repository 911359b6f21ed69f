"""Merging two records of one person: one transaction, the strictest state, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm_desktop.domain.eligibility import Exclusion
from crm_desktop.domain.models import ContactPoint, ExportMember, Prospect
from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ContactInput, ValidationError
from crm_desktop.errors import ConflictError, NotFoundError, NotPermittedError
from crm_desktop.services import Context, audit, rights
from crm_desktop.services import correspondence as C
from crm_desktop.services import duplicates as D
from crm_desktop.services import exports as E
from crm_desktop.services import history as H
from crm_desktop.services import marketing as M
from crm_desktop.services import merge as MG
from crm_desktop.services import prospects as P
from crm_desktop.services import requests as RQ
from crm_desktop.services import suppression as SU

EVIDENCE = M.ConsentEvidence("web-form", "Ticked 'email me news'")


@pytest.fixture
def two(add_prospect):
    keep = add_prospect(
        "Jane", "Smith", email="jane@oak.sch.uk", school="Oak Primary", interests=["SEND support"]
    )
    other = add_prospect(
        "Jane", "Smyth", email="jane.smyth@oak.sch.uk", phone="07700 900123",
        school="Oak Primary", role="SENCo", interests=["Safeguarding"],
    )  # fmt: skip
    return keep, other


def email_preview(ctx):
    preview = E.preview_export(ctx, E.ExportRequest("email", "Spring"))
    return (
        {c.prospect_id for c in preview.included},
        {c.prospect_id: c for c in preview.excluded},
    )


def gone(ctx, pid) -> bool:
    with ctx.db.read() as s:
        return s.get(Prospect, pid) is None


def test_fields_are_chosen_blanks_filled_and_everything_moves(ctx, two):
    keep, other = two
    C.log_contact(ctx, other, ContactInput(kind="call", summary="Asked about SEND"))
    C.log_contact(ctx, keep, ContactInput(kind="note", summary="Met at Bett"))
    req = RQ.add_request(ctx, "access", prospect_ref=other)
    view = MG.merge_prospects(ctx, keep, other, {"last_name": "other"})
    assert gone(ctx, other)
    assert view.id == keep
    assert (view.first_name, view.last_name) == ("Jane", "Smyth")
    assert view.email == "jane@oak.sch.uk"  # kept
    assert view.phone == "+447700900123"  # the kept record had none: filled
    assert view.role == "SENCo"
    assert view.interests == ["Safeguarding", "SEND support"]
    summaries = {c.summary for c in C.list_correspondence(ctx, keep)}
    assert summaries == {"Asked about SEND", "Met at Bett"}
    assert view.last_contact_at is not None
    assert RQ.get_request(ctx, req.id).prospect_id == keep
    # The other's email is not lost: it is an extra address of the kept record.
    with ctx.db.read() as s:
        extra = s.scalars(select(ContactPoint).where(ContactPoint.prospect_id == keep)).all()
    assert [(c.kind, c.value_key) for c in extra] == [("email", "jane.smyth@oak.sch.uk")]


def test_taking_the_other_email_keeps_ours_as_an_extra_address(ctx, two):
    keep, other = two
    view = MG.merge_prospects(ctx, keep, other, {"email": "other", "Job role": "keep"})
    assert view.email == "jane.smyth@oak.sch.uk"
    assert view.role is None  # explicitly kept, though empty
    assert P.find_prospect(ctx, "jane.smyth@oak.sch.uk").id == keep
    with ctx.db.read() as s:
        keys = s.scalars(select(ContactPoint.value_key).where(ContactPoint.prospect_id == keep))
        assert list(keys) == ["jane@oak.sch.uk"]


def test_an_opt_out_on_the_other_side_wins_over_consent(ctx, two):
    keep, other = two
    M.set_lawful_basis(ctx, keep, "consent")
    M.grant_consent(ctx, keep, "email", EVIDENCE)
    M.opt_out(ctx, other, "email", reason="Unsubscribed")
    assert keep in email_preview(ctx)[0]
    MG.merge_prospects(ctx, keep, other)
    included, excluded = email_preview(ctx)
    assert keep not in included
    assert Exclusion.OPTED_OUT.value in excluded[keep].reasons
    email = next(c for c in M.marketing_view(ctx, keep).channels if c.channel == "email")
    assert email.opted_out and not email.consent
    assert email.opt_out_reason == "Unsubscribed"
    # Nobody re-adding the kept address could market to them either.
    assert SU.lookup(ctx, "jane@oak.sch.uk")


def test_consent_on_the_other_side_survives_when_nobody_opted_out(ctx, two):
    keep, other = two
    M.set_lawful_basis(ctx, keep, "consent")
    M.grant_consent(ctx, other, "email", EVIDENCE)
    MG.merge_prospects(ctx, keep, other)
    email = next(c for c in M.marketing_view(ctx, keep).channels if c.channel == "email")
    assert email.consent and email.consent_wording == EVIDENCE.wording
    assert keep in email_preview(ctx)[0]


def test_an_objection_on_the_kept_side_opts_out_of_everything(ctx, two):
    keep, other = two
    M.grant_consent(ctx, other, "sms", EVIDENCE)
    M.object_to_marketing(ctx, keep, reason="Phoned to object")
    MG.merge_prospects(ctx, keep, other, {"email": "other"})
    view = M.marketing_view(ctx, keep)
    assert all(c.opted_out and not c.consent for c in view.channels)
    # The chosen address (the other record's) is suppressed now too.
    assert SU.lookup(ctx, "jane.smyth@oak.sch.uk")
    assert "objected" in {e.action for e in M.consent_history(ctx, keep)}


def test_a_restriction_on_the_other_side_carries_over(ctx, two):
    keep, other = two
    M.set_lawful_basis(ctx, keep, "legitimate-interest", note="Head of a school we serve")
    rights.restrict(ctx, other, "Accuracy contested")
    view = MG.merge_prospects(ctx, keep, other)
    assert view.restricted_at is not None
    assert view.restriction_reason == "Accuracy contested"
    assert Exclusion.RESTRICTED.value in email_preview(ctx)[1][keep].reasons


def test_refused_personalisation_carries_over(ctx, two):
    keep, other = two
    M.set_personalisation(ctx, other, refused=True)
    MG.merge_prospects(ctx, keep, other)
    assert M.marketing_view(ctx, keep).personalisation_refused


def test_a_suppressed_address_keeps_the_merged_record_suppressed(ctx, two):
    keep, other = two
    M.set_lawful_basis(ctx, keep, "legitimate-interest", note="Head of a school we serve")
    SU.suppress(ctx, "jane.smyth@oak.sch.uk")
    # The suppressed address becomes an extra one: the person is still not marketable.
    MG.merge_prospects(ctx, keep, other)
    included, excluded = email_preview(ctx)
    assert keep not in included
    assert Exclusion.OPTED_OUT.value in excluded[keep].reasons
    # And chosen as the primary address, eligibility sees the suppression itself.
    assert M.exclusions_for(ctx, keep, "email")


def test_export_history_moves_and_shared_exports_stay_single(ctx, two, tmp_path):
    keep, other = two
    for pid in (keep, other):
        M.set_lawful_basis(ctx, pid, "legitimate-interest", note="Head of a school we serve")
    E.run_export(ctx, E.ExportRequest("email", "Both"), tmp_path / "both.csv")
    MG.merge_prospects(ctx, keep, other)
    with ctx.db.read() as s:
        rows = s.execute(select(ExportMember.prospect_id)).scalars().all()
    assert rows == [keep]
    assert [x.campaign for x in E.exports_for_prospect(ctx, keep)] == ["Both"]


def test_audited_shown_in_history_and_the_chain_verifies(ctx, two):
    keep, other = two
    M.opt_out(ctx, other, "sms")
    MG.merge_prospects(ctx, keep, other, {"last_name": "other"})
    assert audit.verify(ctx).ok
    merged = audit.entries(ctx, entity="prospect", entity_id=keep)[0]
    assert merged.action == "prospect.merged"
    assert merged.values["merged_from"] == f"#{other} Jane Smyth"
    assert "Last name" in merged.values["taken_from_merged"]
    assert merged.values["last_name"] == {"old": "Smith", "new": "Smyth"}
    deleted = audit.entries(ctx, entity="prospect", entity_id=other)[0]
    assert deleted.action == "prospect.deleted"
    assert deleted.values == {"merged_into": keep}
    events = H.history(ctx, keep)
    titles = [e.title for e in events]
    assert "Merged with a duplicate record" in titles
    detail = next(e.detail for e in events if e.title == "Merged with a duplicate record")
    assert f"Merged from: #{other} Jane Smyth" in detail
    assert any(e.title.startswith("Opted out") for e in events)  # the other's ledger moved


def test_the_merged_pair_is_no_longer_a_duplicate(ctx, two):
    keep, other = two
    assert (keep, other) in {(p.first_id, p.second_id) for p in D.probable_duplicates(ctx)}
    MG.merge_prospects(ctx, keep, other)
    assert D.probable_duplicates(ctx) == []


def test_refusals(ctx, two):
    keep, other = two
    with pytest.raises(MG.MergeError, match="cannot be merged with itself"):
        MG.merge_prospects(ctx, keep, keep)
    with pytest.raises(NotFoundError, match="No prospect with id 999"):
        MG.merge_prospects(ctx, keep, 999)
    with pytest.raises(ValidationError):
        MG.merge_prospects(ctx, keep, other, {"shoe_size": "other"})
    with pytest.raises(ValidationError):
        MG.merge_prospects(ctx, keep, other, {"email": "both"})
    rights.erase(ctx, other, confirm="Jane Smyth", scrub=False)
    with pytest.raises(MG.MergeError, match="erased"):
        MG.merge_prospects(ctx, keep, other)
    with pytest.raises(MG.MergeError, match="erased"):
        MG.merge_prospects(ctx, other, keep)


def test_a_concurrent_edit_is_not_lost(ctx, two):
    keep, other = two
    preview = MG.merge_preview(ctx, keep, other)
    P.set_stage(ctx, other, "trial")  # someone else, meanwhile
    with pytest.raises(ConflictError, match="changed by someone else"):
        MG.merge_prospects(
            ctx, keep, other,
            keep_version=preview.keep.version, other_version=preview.other.version,
        )  # fmt: skip
    assert not gone(ctx, other)
    assert P.get_prospect(ctx, other).stage == "trial"


def test_a_failure_half_way_merges_nothing(ctx, two, monkeypatch):
    keep, other = two
    C.log_contact(ctx, other, ContactInput(kind="call", summary="x"))

    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(MG.correspondence, "refresh_contact_summary", boom)
    with pytest.raises(RuntimeError):
        MG.merge_prospects(ctx, keep, other)
    assert not gone(ctx, other)
    assert len(C.list_correspondence(ctx, other)) == 1
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ContactPoint)) == 0


def test_preview_counts_and_defaults(ctx, two):
    keep, other = two
    C.log_contact(ctx, other, ContactInput(kind="call", summary="x"))
    M.opt_out(ctx, other, "email")
    preview = MG.merge_preview(ctx, keep, other)
    assert preview.other.correspondence == 1 and preview.keep.correspondence == 0
    assert preview.other.opted_out == ["Email"]
    assert preview.defaults["phone"] == "other" and preview.defaults["email"] == "keep"
    assert {"last_name", "email", "phone", "role"} <= set(preview.differing)
    assert "first_name" not in preview.differing


def test_only_marketing_and_above_may_merge(ctx, two):
    keep, other = two
    with pytest.raises(NotPermittedError, match="merge duplicate prospects"):
        MG.merge_prospects(Context(ctx.db, user="sam", role=Role.SALES), keep, other)
    MG.merge_prospects(Context(ctx.db, user="mo", role=Role.MARKETING), keep, other)
    assert gone(ctx, other)


def test_an_opt_out_kept_for_the_merged_away_record_lands_on_the_merged_one(ctx, two):
    from datetime import UTC, datetime

    from crm_desktop.services import pending, recovery

    keep, other = two
    item = pending.Pending(
        kind=pending.OPT_OUT, user="alice", role="admin",
        asked_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC).isoformat(), prospect_id=other,
        prospect_name="Jane Smyth", channels=["email"], source="phone", reason="Rang",
        error="The database is busy",
    )  # fmt: skip
    pending.keep(ctx.db, item)  # asked for while the database was busy
    MG.merge_prospects(ctx, keep, other)
    assert MG.merged_into(ctx, other) == keep
    assert MG.merged_into(ctx, keep) is None
    [sentence] = recovery.recover(ctx)
    assert f"on prospect #{keep}, which prospect #{other} was merged into" in sentence
    email = next(c for c in M.marketing_view(ctx, keep).channels if c.channel == "email")
    assert email.opted_out and email.opt_out_reason == "Rang"
    assert pending.count(ctx.db) == 0
