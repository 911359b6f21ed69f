"""The register of data-subject requests (services.requests), on every backend."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm_desktop.domain.requests import REQUEST_RETENTION_YEARS
from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ProspectInput, ValidationError
from crm_desktop.errors import ConflictError, NotFoundError, NotPermittedError
from crm_desktop.services import Context, audit, rights
from crm_desktop.services import prospects as P
from crm_desktop.services import requests as R

TODAY = date.today()


@pytest.fixture
def jane(ctx) -> int:
    data = ProspectInput(
        first_name="Jane", last_name="Smith", email="jane@oak.sch.uk", phone="020 7946 0000"
    )
    return P.create_prospect(ctx, data).record.id


def request_entries(ctx, request_id=None) -> list[tuple[str, str, dict]]:
    """(action, actor, values) of the request's audit entries, oldest first."""
    entries = audit.entries(ctx, entity="request", entity_id=request_id)
    return [(e.action, e.actor, e.values) for e in reversed(entries)]


# ----------------------------------------------------------------- adding


def test_add_by_email_links_the_prospect_and_keeps_who_asked(ctx, jane):
    v = R.add_request(ctx, "access", email="JANE@oak.sch.uk", notes="Phoned in")
    assert v.prospect_id == jane and v.prospect_name == "Jane Smith"
    assert (v.requester_name, v.requester_phone) == ("Jane Smith", "+442079460000")
    assert v.requester_email == "JANE@oak.sch.uk"  # the address they wrote from
    assert (v.kind, v.status, v.received_on) == ("access", "open", TODAY)
    assert v.due_on == v.original_due_on and 28 <= (v.due_on - TODAY).days <= 31
    assert v.days_left == (v.due_on - TODAY).days and v.urgency == "ok"
    assert (v.created_by, v.handled_by, v.identity_verified) == ("alice", "alice", False)
    [(action, actor, values)] = request_entries(ctx, v.id)
    assert (action, actor) == ("request.created", "alice")
    assert values["prospect_id"] == jane and values["kind"] == "access"
    assert values["received_on"] == TODAY.isoformat() and values["notes"] == "Phoned in"
    assert audit.verify(ctx).ok


def test_add_by_prospect_id_and_unmatched_requesters(ctx, jane):
    by_id = R.add_request(ctx, "erasure", prospect_ref=f"#{jane}", identity_verified=True)
    assert by_id.prospect_id == jane and by_id.requester_email == "jane@oak.sch.uk"
    assert by_id.identity_verified and by_id.verified_by == "alice"
    stranger = R.add_request(ctx, "objection", email="who@else.org", requester_name="Sam Who")
    assert stranger.prospect_id is None and stranger.requester == "Sam Who <who@else.org>"
    caller = R.add_request(ctx, "restriction", phone="07700 900123")
    assert caller.requester_phone == "+447700900123" and caller.requester_name is None


def test_received_date_is_kept_and_the_deadline_follows_it(ctx):
    v = R.add_request(ctx, "portability", requester_name="A", received=date(2024, 1, 31))
    assert (v.received_on, v.due_on) == (date(2024, 1, 31), date(2024, 2, 29))
    assert R.get_request(ctx, v.id).due_on == date(2024, 2, 29)  # stored, not just shown
    assert v.urgency == "overdue" and v.days_left == (date(2024, 2, 29) - TODAY).days


def test_bad_input_is_refused_and_nothing_is_stored(ctx, jane):
    tomorrow = TODAY + timedelta(days=1)
    cases = [
        ({"kind": "access", "requester_name": "J", "received": tomorrow}, {"received"}),
        ({"kind": "complaint", "requester_name": "J"}, {"kind"}),
        ({"kind": "access"}, {"requester"}),
        ({"kind": "access", "email": "not-an-email"}, {"email"}),
        ({"kind": "access", "prospect_ref": "999"}, {"prospect"}),
        ({"kind": "access", "prospect_ref": "no@such.org"}, {"prospect"}),
        ({"kind": "access", "requester_name": "J", "notes": "bell\x07"}, {"notes"}),
    ]
    for kwargs, fields in cases:
        kind = kwargs.pop("kind")
        with pytest.raises(ValidationError) as exc:
            R.add_request(ctx, kind, **kwargs)
        assert set(exc.value.errors) == fields, kwargs
    assert R.list_requests(ctx, open_only=False) == []
    assert request_entries(ctx) == []


# ---------------------------------------------------------------- listing


def test_open_requests_by_due_date_with_urgency(ctx):
    today = date(2026, 6, 15)
    late = R.add_request(ctx, "access", requester_name="Late", received="2026-05-05", today=today)
    soon = R.add_request(ctx, "access", requester_name="Soon", received="2026-05-22", today=today)
    fine = R.add_request(ctx, "access", requester_name="Fine", received="2026-06-01", today=today)
    edge = R.add_request(ctx, "access", requester_name="Edge", received="2026-05-23", today=today)
    listed = R.list_requests(ctx, today=today)
    assert [v.id for v in listed] == [late.id, soon.id, edge.id, fine.id]
    assert [(v.days_left, v.urgency) for v in listed] == [
        (-10, "overdue"),
        (7, "due-soon"),  # due 22 June: seven days left is still amber
        (8, "ok"),
        (16, "ok"),
    ]
    assert R.overdue_count(ctx, today=today) == 1
    assert R.overdue_count(ctx, today=date(2026, 6, 23)) == 2  # due 22 June, now late
    assert R.overdue_count(ctx, today=date(2026, 6, 5)) == 0


def test_closed_requests_leave_the_open_list_and_the_overdue_count(ctx):
    today = date(2026, 6, 15)
    a = R.add_request(ctx, "objection", requester_name="A", received="2026-04-01", today=today)
    b = R.add_request(ctx, "access", requester_name="B", received="2026-06-10", today=today)
    assert R.overdue_count(ctx, today=today) == 1
    R.close_request(ctx, a.id, "Opted out of everything", today=today)
    assert [v.id for v in R.list_requests(ctx, today=today)] == [b.id]
    everything = R.list_requests(ctx, open_only=False, today=today)
    assert [(v.id, v.urgency, v.days_left) for v in everything] == [
        (b.id, "ok", 25),
        (a.id, "closed", None),
    ]
    assert R.overdue_count(ctx, today=today) == 0


def test_missing_request(ctx):
    with pytest.raises(NotFoundError, match="No data-subject request with id 42"):
        R.get_request(ctx, 42)
    with pytest.raises(NotFoundError):
        R.close_request(ctx, 42, "x")


# --------------------------------------------------------------- updating


def test_verify_link_notes_and_progress_are_audited(ctx, jane):
    v = R.add_request(ctx, "rectification", email="old@address.org", requester_name="J S")
    assert v.prospect_id is None
    v = R.update_request(ctx, v.id, prospect_ref="jane@oak.sch.uk", notes="Wants her role fixed")
    assert v.prospect_id == jane and v.requester_email == "old@address.org"  # kept
    assert v.requester_name == "J S" and v.requester_phone == "+442079460000"  # blank filled
    bob = Context(ctx.db, user="bob", role=Role.MANAGER)
    v = R.update_request(bob, v.id, identity_verified=True, status="in progress")
    assert v.identity_verified and v.verified_by == "bob" and v.status == "in-progress"
    assert v.handled_by == "bob" and v.version == 3
    entries = request_entries(ctx, v.id)
    assert [(a, who) for a, who, _ in entries] == [
        ("request.created", "alice"),
        ("request.updated", "alice"),
        ("request.updated", "bob"),
    ]
    assert entries[1][2]["prospect_id"] == {"old": None, "new": jane}
    assert entries[2][2] == {
        "identity_verified": {"old": False, "new": True},
        "status": {"old": "open", "new": "in-progress"},
    }
    # Nothing changed: nothing written.
    same = R.update_request(ctx, v.id, identity_verified=True, notes="Wants her role fixed")
    assert same.version == 3 and len(request_entries(ctx, v.id)) == 3
    assert audit.verify(ctx).ok


def test_unlinking_needs_someone_left_to_answer(ctx, jane):
    v = R.add_request(ctx, "access", prospect_ref=jane)
    R.update_request(ctx, v.id, requester_name=None, email=None, phone=None)
    with pytest.raises(ValidationError) as exc:
        R.update_request(ctx, v.id, prospect_ref=None)
    assert set(exc.value.errors) == {"requester"}
    assert R.get_request(ctx, v.id).prospect_id == jane  # rolled back


def test_update_refuses_bad_values_and_closing_by_status(ctx):
    v = R.add_request(ctx, "access", requester_name="J")
    with pytest.raises(ValidationError) as exc:
        R.update_request(ctx, v.id, email="nope", phone="1")
    assert set(exc.value.errors) == {"email", "phone"}
    with pytest.raises(ValidationError, match="outcome"):
        R.update_request(ctx, v.id, status="completed")
    with pytest.raises(ValidationError, match="not one of"):
        R.update_request(ctx, v.id, status="extended")
    assert len(request_entries(ctx, v.id)) == 1


def test_someone_elses_newer_change_is_not_overwritten(ctx):
    v = R.add_request(ctx, "access", requester_name="J")
    R.update_request(ctx, v.id, notes="first", expected_version=v.version)
    with pytest.raises(ConflictError, match="changed by someone else"):
        R.update_request(ctx, v.id, notes="second", expected_version=v.version)
    assert R.get_request(ctx, v.id).notes == "first"


def test_deleting_the_prospect_keeps_the_request_and_who_asked(ctx, jane):
    v = R.add_request(ctx, "erasure", prospect_ref=jane)
    P.delete_prospect(ctx, jane)
    kept = R.get_request(ctx, v.id)
    assert kept.prospect_id is None and kept.prospect_name is None
    assert kept.requester == "Jane Smith <jane@oak.sch.uk>"


def test_erasing_the_person_keeps_who_asked_on_the_request(ctx, jane):
    """Issue 10 item 12: the erasure blanks the prospect, not the register entry."""
    linked = R.add_request(ctx, "erasure", prospect_ref=jane, notes="Jane rang")
    loose = R.add_request(ctx, "access", email="JANE@oak.sch.uk", prospect_ref=None)
    R.update_request(ctx, loose.id, prospect_ref=None, requester_name="Jane S")
    R.update_request(ctx, linked.id, identity_verified=True)
    rights.erase(ctx, jane, confirm="Jane Smith", scrub=False, request_id=linked.id)
    kept = R.get_request(ctx, linked.id)
    assert (kept.requester_name, kept.requester_email, kept.requester_phone, kept.notes) == (
        "Jane Smith", "jane@oak.sch.uk", "+442079460000", "Jane rang")  # fmt: skip
    assert kept.requester == "Jane Smith <jane@oak.sch.uk>"
    assert kept.prospect_id == jane and kept.status == "in-progress"
    assert [a.text for a in R.request_actions(ctx, linked.id)] == [f"Erased prospect #{jane}"]
    other = R.get_request(ctx, loose.id)  # same address, never linked: linked now, kept
    assert other.prospect_id == jane and other.requester_name == "Jane S"
    assert other.requester_email == "JANE@oak.sch.uk"
    created = next(e for e in audit.entries(ctx, entity="request", entity_id=linked.id)
                   if e.action == "request.created")  # fmt: skip
    assert created.values["requester_name"] == "Jane Smith"  # the proof stays readable
    # ... and the request can still be answered and closed.
    closed = R.close_request(ctx, linked.id, "Erased on request; confirmed by email")
    assert closed.status == "completed" and closed.requester_email == "jane@oak.sch.uk"
    assert audit.verify(ctx).ok


def test_an_action_is_linked_only_to_an_open_request_about_that_person(ctx, jane):
    other = P.create_prospect(
        ctx, ProspectInput(first_name="Al", last_name="B", email="al@b.org")
    ).record.id
    v = R.add_request(ctx, "restriction", prospect_ref=jane)
    with pytest.raises(ValidationError, match="is about prospect"):
        rights.restrict(ctx, other, "Accuracy contested", request_id=v.id)
    assert P.get_prospect(ctx, other).restricted_at is None  # nothing half-saved
    rights.restrict(ctx, jane, "Accuracy contested", request_id=v.id)
    assert [a.text for a in R.request_actions(ctx, v.id)] == [
        "Processing restricted: Accuracy contested"
    ]
    R.update_request(ctx, v.id, identity_verified=True)
    R.close_request(ctx, v.id, "Restricted")
    rights.unrestrict(ctx, jane, "Corrected")
    with pytest.raises(ValidationError, match="cannot be changed"):
        rights.restrict(ctx, jane, "Again", request_id=v.id)
    assert P.get_prospect(ctx, jane).restricted_at is None


def test_who_asked_is_forgotten_six_years_after_closing(ctx, jane):
    v = R.add_request(ctx, "access", prospect_ref=jane, identity_verified=True, notes="n")
    R.close_request(ctx, v.id, "Pack sent")
    open_one = R.add_request(ctx, "access", requester_name="Still Open")
    closed_at = R.get_request(ctx, v.id).closed_at.date()
    almost = closed_at.replace(year=closed_at.year + REQUEST_RETENTION_YEARS)
    assert R.forget_expired(ctx, today=almost) == 0
    assert R.forget_expired(ctx, today=almost + timedelta(days=1)) == 1
    gone = R.get_request(ctx, v.id)
    assert (gone.requester_name, gone.requester_email, gone.requester_phone, gone.notes) == (
        None, None, None, None)  # fmt: skip
    assert gone.kind == "access" and gone.outcome == "Pack sent"  # the record stays
    assert R.get_request(ctx, open_one.id).requester_name == "Still Open"
    assert request_entries(ctx, v.id)[-1][0] == "request.requester-forgotten"
    assert audit.verify(ctx).ok


# ------------------------------------------------------ extending, closing


def test_extend_once_from_receipt_with_reason(ctx):
    today = date(2026, 2, 10)
    v = R.add_request(ctx, "access", requester_name="J", received="2026-01-31", today=today)
    assert v.due_on == date(2026, 2, 28)
    v = R.extend_request(ctx, v.id, " Records in three systems ", today=today)
    assert v.due_on == date(2026, 4, 30) and v.original_due_on == date(2026, 2, 28)
    assert v.extended and v.extension_months == 2
    assert v.extension_reason == "Records in three systems"
    assert R.list_requests(ctx, today=today)[0].due_on == date(2026, 4, 30)
    with pytest.raises(ValidationError, match="already extended"):
        R.extend_request(ctx, v.id, "Again", 1, today=today)
    [*_, (action, _who, values)] = request_entries(ctx, v.id)
    assert action == "request.extended"
    assert values == {
        "months": 2,
        "reason": "Records in three systems",
        "due_on": {"old": "2026-02-28", "new": "2026-04-30"},
    }


def test_extension_refusals_change_nothing(ctx):
    today = date(2026, 3, 10)
    late = R.add_request(ctx, "access", requester_name="J", received="2026-02-01", today=today)
    with pytest.raises(ValidationError, match="has passed"):
        R.extend_request(ctx, late.id, "Too late", today=today)
    fresh = R.add_request(ctx, "access", requester_name="K", received="2026-03-01", today=today)
    with pytest.raises(ValidationError) as exc:
        R.extend_request(ctx, fresh.id, "", 3, today=today)
    assert set(exc.value.errors) == {"months", "reason"}
    assert R.extend_request(ctx, fresh.id, "Complex", 1, today=today).due_on == date(2026, 5, 1)
    assert R.get_request(ctx, late.id).due_on == date(2026, 3, 1)
    assert [a for a, *_ in request_entries(ctx)] == [
        "request.created",
        "request.created",
        "request.extended",
    ]


def test_close_completed_or_refused_and_then_frozen(ctx):
    done = R.add_request(ctx, "access", requester_name="J", notes="Asked by letter")
    with pytest.raises(ValidationError) as exc:
        R.close_request(ctx, done.id, "Sent the pack")
    assert set(exc.value.errors) == {"identity_verified"}
    R.update_request(ctx, done.id, identity_verified=True)
    done = R.close_request(ctx, done.id, "Sent the pack", "Posted recorded delivery")
    assert (done.status, done.outcome, done.urgency) == ("completed", "Sent the pack", "closed")
    assert done.notes == "Asked by letter\n\nPosted recorded delivery" and done.closed_at
    refused = R.add_request(ctx, "erasure", requester_name="K")
    refused = R.close_request(ctx, refused.id, "Could not verify identity", refused=True)
    assert refused.status == "refused" and not refused.identity_verified
    for v in (done, refused):
        with pytest.raises(ValidationError, match="cannot be changed"):
            R.update_request(ctx, v.id, notes="later")
        with pytest.raises(ValidationError, match="cannot be changed"):
            R.close_request(ctx, v.id, "again")
        with pytest.raises(ValidationError, match="cannot be changed"):
            R.extend_request(ctx, v.id, "late")
    closes = [vals for a, _who, vals in request_entries(ctx) if a == "request.closed"]
    assert closes == [
        {"status": "completed", "outcome": "Sent the pack", "notes": "Posted recorded delivery"},
        {"status": "refused", "outcome": "Could not verify identity", "notes": None},
    ]
    assert audit.verify(ctx).ok


def test_close_needs_an_outcome(ctx):
    v = R.add_request(ctx, "objection", requester_name="J")
    with pytest.raises(ValidationError) as exc:
        R.close_request(ctx, v.id, "  ")
    assert set(exc.value.errors) == {"outcome"}
    assert R.get_request(ctx, v.id).status == "open"


# ------------------------------------------------------------ permissions


def calls(request_id: int):
    return [
        lambda c: R.add_request(c, "access", requester_name=f"By {c.user}"),
        lambda c: R.list_requests(c),
        lambda c: R.get_request(c, request_id),
        lambda c: R.overdue_count(c),
        lambda c: R.update_request(c, request_id, notes=f"note by {c.user}"),
        lambda c: R.extend_request(c, request_id, f"reason by {c.user}", 1),
    ]


@pytest.mark.parametrize("role", [Role.SALES, Role.MARKETING])
def test_sales_and_marketing_may_not_see_or_touch_the_register(ctx, role):
    v = R.add_request(ctx, "access", requester_name="J")
    acting = Context(ctx.db, user="pat", role=role)
    for call in [*calls(v.id), lambda c: R.close_request(c, v.id, "x", refused=True)]:
        with pytest.raises(
            NotPermittedError, match=f"Not permitted: pat \\({role.value}\\) may not handle data"
        ):
            call(acting)
    assert R.get_request(ctx, v.id).version == 1
    assert len(R.list_requests(ctx)) == 1


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_handle_requests(ctx, role):
    v = R.add_request(ctx, "access", requester_name="J")
    acting = Context(ctx.db, user="max", role=role)
    for call in calls(v.id):
        call(acting)
    closed = R.close_request(acting, v.id, "Nothing held", refused=True)
    assert closed.handled_by == "max" and closed.status == "refused"
