"""Bulk actions on many prospects: one transaction each, audited per person, refusing
restricted and erased people by name, never bringing back the deleted."""

from __future__ import annotations

from datetime import date

import pytest

from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ContactInput, ValidationError
from crm_desktop.errors import Cancelled, NotFoundError, NotPermittedError
from crm_desktop.services import audit as A
from crm_desktop.services import bulk as B
from crm_desktop.services import correspondence as C
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import rights as R
from crm_desktop.services import suppression as S
from crm_desktop.services.context import Context
from crm_desktop.services.prospects import ProspectQuery


@pytest.fixture
def people(ctx, add_prospect):
    """Five prospects: three at Oakfield, two at Elm; Cy restricted, Di erased."""
    ids = {
        "Ann": add_prospect("Ann", "Ash", school="Oakfield", interests=["SEND support"]),
        "Bo": add_prospect("Bo", "Birch", school="Oakfield"),
        "Cy": add_prospect("Cy", "Cedar", school="Oakfield"),
        "Di": add_prospect("Di", "Dogwood", school="Elm"),
        "Ed": add_prospect("Ed", "Elder", school="Elm", owner="bob"),
    }
    R.restrict(ctx, ids["Cy"], "Accuracy contested")
    R.erase(ctx, ids["Di"], confirm="Di Dogwood", scrub=False)
    return ids


def entries(ctx, action, pid):
    return [e for e in A.entries(ctx, entity="prospect", entity_id=pid) if e.action == action]


def test_set_stage_changes_the_allowed_audits_each_and_names_the_refused(ctx, people):
    everyone = B.Selection.of(people.values())
    result = B.set_stage(ctx, everyone, "demo booked")
    assert (result.changed, result.unchanged, result.missing) == (3, 0, 0)
    assert {(r.name, r.why) for r in result.refused} == {
        ("Cy Cedar", "restricted"),
        (f"Erased person #{people['Di']}", "erased"),
    }
    assert "Cy Cedar (restricted)" in result.summary()
    for name in ("Ann", "Bo", "Ed"):
        assert P.get_prospect(ctx, people[name]).stage == "demo-booked"
        (entry,) = entries(ctx, "prospect.edited", people[name])
        assert entry.values == {"stage": {"old": "lead", "new": "demo-booked"}}
    assert P.get_prospect(ctx, people["Cy"]).stage == "lead"
    assert entries(ctx, "prospect.edited", people["Cy"]) == []
    # Again: nobody changes, nothing more is audited, the chain still verifies.
    again = B.set_stage(ctx, everyone, "demo-booked")
    assert (again.changed, again.unchanged) == (0, 3)
    assert len(entries(ctx, "prospect.edited", people["Ann"])) == 1
    assert A.verify(ctx).ok


def test_set_owner_by_filter_touches_only_the_matches_and_bumps_versions(ctx, people):
    oak = P.list_prospects(ctx, ProspectQuery(search="oakfield"))
    assert {r.first_name for r in oak} == {"Ann", "Bo", "Cy"}
    before = P.get_prospect(ctx, people["Ann"]).version
    result = B.set_owner(ctx, B.Selection.matching(ProspectQuery(search="oakfield")), "carol")
    assert result.changed == 2 and [r.name for r in result.refused] == ["Cy Cedar"]
    ann = P.get_prospect(ctx, people["Ann"])
    assert ann.owner == "carol" and ann.version == before + 1
    assert P.get_prospect(ctx, people["Ed"]).owner == "bob"
    (entry,) = entries(ctx, "prospect.edited", people["Bo"])
    assert entry.values == {"owner": {"old": "alice", "new": "carol"}}
    with pytest.raises(ValidationError):
        B.set_owner(ctx, B.Selection.of([people["Ann"]]), "x" * 101)


def test_add_and_remove_interest_audit_the_interest_list_like_an_edit(ctx, people):
    sel = B.Selection.of([people["Ann"], people["Bo"]])
    added = B.add_interest(ctx, sel, "send SUPPORT")
    assert (added.changed, added.unchanged) == (1, 1)  # Ann had it already
    assert P.get_prospect(ctx, people["Bo"]).interests == ["SEND support"]
    (entry,) = entries(ctx, "prospect.edited", people["Bo"])
    assert entry.values == {"interests": {"old": None, "new": "SEND support"}}
    removed = B.remove_interest(ctx, sel, "SEND support")
    assert removed.changed == 2
    assert P.get_prospect(ctx, people["Ann"]).interests == []
    (entry,) = entries(ctx, "prospect.edited", people["Ann"])
    assert entry.values == {"interests": {"old": "SEND support", "new": None}}
    with pytest.raises(NotFoundError, match="not one of our services"):
        B.add_interest(ctx, sel, "Underwater basket weaving")


def test_log_contact_for_each_keeps_last_contact_and_follow_up_in_step(ctx, people):
    sel = B.Selection.of([people["Ann"], people["Bo"], people["Cy"]])
    data = ContactInput(kind="event", summary="Met at Bett\nstand 4", follow_up_on=date(2031, 1, 6))
    result = B.log_contact(ctx, sel, data)
    assert result.changed == 2 and [r.why for r in result.refused] == ["restricted"]
    for name in ("Ann", "Bo"):
        (logged,) = C.list_correspondence(ctx, people[name])
        assert logged.summary == "Met at Bett\nstand 4" and logged.kind == "event"
        view = P.get_prospect(ctx, people[name])
        assert view.last_contact_at == logged.occurred_at
        assert view.next_follow_up == date(2031, 1, 6)
        (entry,) = entries(ctx, "correspondence.logged", people[name])
        assert entry.values["entry"] == logged.id and entry.values["follow_up_on"] == "2031-01-06"
    assert C.list_correspondence(ctx, people["Cy"]) == []
    with pytest.raises(ValidationError) as exc:
        B.log_contact(ctx, sel, ContactInput(kind="call", summary="  "))
    assert "summary" in exc.value.errors


def test_opt_out_includes_the_restricted_skips_the_opted_out_and_suppresses(ctx, people):
    M.opt_out(ctx, people["Bo"], "email")
    sel = B.Selection.of(people.values())
    result = B.opt_out(ctx, sel, "email", reason="Asked at the stand")
    # Ann, Cy (restricted: opt-outs are always honoured) and Ed; Bo already was.
    assert (result.changed, result.unchanged) == (3, 1)
    assert [r.why for r in result.refused] == ["erased"]
    for name in ("Ann", "Cy", "Ed"):
        view = M.marketing_view(ctx, people[name])
        assert [c.opted_out for c in view.channels if c.channel == "email"] == [True]
        (entry,) = entries(ctx, "consent.opted-out", people[name])
        assert entry.values["reason"] == "Asked at the stand"
    assert S.lookup(ctx, "ann.ash@example.sch.uk")  # on the suppression list
    everything = B.opt_out(ctx, B.Selection.of([people["Ann"]]), "all")
    assert everything.detail == "every channel" and everything.changed == 1


def test_delete_removes_blanks_audit_values_and_refuses_restricted(ctx, people):
    C.log_contact(ctx, people["Ann"], ContactInput(kind="call", summary="About Ann's school"))
    result = B.delete_prospects(ctx, B.Selection.of([people["Ann"], people["Cy"], people["Bo"]]))
    assert result.changed == 2 and [r.name for r in result.refused] == ["Cy Cedar"]
    with pytest.raises(NotFoundError):
        P.get_prospect(ctx, people["Ann"])
    assert P.get_prospect(ctx, people["Cy"]).first_name == "Cy"
    trail = A.entries(ctx, entity="prospect", entity_id=people["Ann"])
    assert trail[0].action == "prospect.deleted"
    logged = [e for e in trail if e.action == "correspondence.logged"]
    assert logged and all(v is None for v in logged[0].values.values())
    assert A.verify(ctx).ok


def test_a_prospect_deleted_meanwhile_is_not_brought_back(ctx, people):
    picked = B.Selection.of([people["Ann"], people["Bo"]])
    P.delete_prospect(ctx, people["Bo"])  # a colleague, after the rows were picked
    result = B.set_stage(ctx, picked, "contacted")
    assert (result.changed, result.missing) == (1, 1)
    assert "no longer existed" in result.summary()
    assert P.count_prospects(ctx) == 4


def test_cancel_changes_nothing_even_after_the_last_chunk(ctx, add_prospect, monkeypatch):
    monkeypatch.setattr(B, "CHUNK", 2)
    ids = [add_prospect(f"P{i}", "Test") for i in range(5)]
    seen = []

    def progress(done, total):
        seen.append((done, total))

    calls = iter([False, False, True])  # cancelled before the third chunk
    with pytest.raises(Cancelled):
        B.set_stage(ctx, B.Selection.of(ids), "customer", progress=progress,
                    should_cancel=lambda: next(calls))  # fmt: skip
    assert seen == [(0, 5), (2, 5), (4, 5)]
    assert {P.get_prospect(ctx, i).stage for i in ids} == {"lead"}
    assert all(entries(ctx, "prospect.edited", i) == [] for i in ids)
    # A cancel asked for while the last chunk ran also leaves everything as it was.
    late = iter([False, False, False, True])
    with pytest.raises(Cancelled):
        B.delete_prospects(ctx, B.Selection.of(ids), should_cancel=lambda: next(late))
    assert P.count_prospects(ctx) == 5


def test_permissions_follow_the_single_actions(ctx, people, monkeypatch):
    sel = B.Selection.of([people["Ann"]])
    sales = Context(ctx.db, "sam", Role.SALES)
    assert B.opt_out(sales, sel, "sms").changed == 1
    assert B.delete_prospects(sales, sel).changed == 1  # sales may delete, as one by one
    # Every action asks for the right the single action needs.
    monkeypatch.setitem(B.PERMISSION, B.SET_STAGE, B.Action.MANAGE_USERS)
    with pytest.raises(NotPermittedError):
        B.set_stage(sales, B.Selection.of([people["Bo"]]), "customer")
    assert P.get_prospect(ctx, people["Bo"]).stage == "lead"


def test_preview_counts_and_names_who_would_be_refused(ctx, people):
    preview = B.preview(ctx, B.Selection.matching(ProspectQuery()), B.SET_OWNER)
    assert preview.count == 5 and preview.allowed == 3
    opt = B.preview(ctx, B.Selection.matching(ProspectQuery()), B.OPT_OUT)
    assert [r.why for r in opt.refused] == ["erased"]


def test_ids_for_takes_ids_and_emails_and_names_the_unknown(ctx, people):
    found, unknown = B.ids_for(ctx, [str(people["Ann"]), f"#{people['Bo']}",
                                     "ED.ELDER@example.sch.uk", "nobody@x.org", "999999", ""])  # fmt: skip
    assert found == [people["Ann"], people["Bo"], people["Ed"]]
    assert unknown == ["#999999", "nobody@x.org"]
