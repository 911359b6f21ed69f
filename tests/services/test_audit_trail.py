"""Every change writes an audit entry; the chain verifies; tampering is detected."""

import pytest
from sqlalchemy import select, update

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.validation import ContactInput, ProspectInput, SchoolInput
from crm_desktop.services import audit
from crm_desktop.services import correspondence as C
from crm_desktop.services import exports as E
from crm_desktop.services import interests as I
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import schools as S
from crm_desktop.services import suppression as SU


@pytest.fixture
def history(ctx, tmp_path):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Jane", last_name="Smith", email="jane@oak.sch.uk")
    ).record.id
    view = P.get_prospect(ctx, pid)
    P.update_prospect(
        ctx, pid, ProspectInput(first_name="Janet", last_name="Smith", email=view.email,
                                owner=view.owner), reason="Rectification request #3",
    )  # fmt: skip
    entry = C.log_contact(
        ctx, pid, ContactInput(kind="call", summary="Hi", follow_up_on="2026-01-01")
    )
    C.complete_followup(ctx, entry.id)
    M.set_lawful_basis(ctx, pid, "legitimate-interest", note="Schools")
    M.opt_out(ctx, pid, "sms")
    school = S.create_school(ctx, SchoolInput(name="Oak")).record
    S.update_school(ctx, school.id, SchoolInput(name="Oak Academy"))
    I.add_interest(ctx, "Robotics")
    SU.suppress(ctx, "someone.else@x.org")
    E.run_export(ctx, E.ExportRequest("email", "Spring"), tmp_path / "x.csv")
    return pid


def test_every_kind_of_change_is_audited(ctx, history):
    actions = [e.action for e in audit.entries(ctx)]
    for expected in (
        "prospect.created", "prospect.edited", "correspondence.logged", "followup.done",
        "consent.basis-set", "consent.opted-out", "school.created", "school.edited",
        "interest.added", "suppression.added", "export.created",
    ):  # fmt: skip
        assert expected in actions, expected
    assert audit.verify(ctx).ok


def test_edits_record_old_and_new_values_and_the_reason(ctx, history):
    edit = next(e for e in audit.entries(ctx, entity="prospect", entity_id=history)
                if e.action == "prospect.edited")  # fmt: skip
    assert edit.values == {"first_name": {"old": "Jane", "new": "Janet"}}
    assert edit.reason == "Rectification request #3" and edit.actor == "alice"


def test_suppression_audit_never_holds_the_address(ctx, history):
    with ctx.db.read() as session:
        text = " ".join(e.values for e in session.scalars(select(AuditEntry)))
    assert "someone.else" not in text


@pytest.mark.parametrize("tamper", ["update", "delete", "reorder"])
def test_tampering_is_detected_and_the_first_bad_entry_named(ctx, history, tamper):
    with ctx.db.transaction() as session:
        ids = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        third, fourth = ids[2], ids[3]
        if tamper == "update":
            session.execute(
                update(AuditEntry).where(AuditEntry.id == third).values(actor="mallory")
            )
        elif tamper == "delete":
            session.delete(session.get(AuditEntry, third))
        else:  # swap the contents of two entries (same ids, wrong order)
            a, b = session.get(AuditEntry, third), session.get(AuditEntry, fourth)
            fields = ("at", "actor", "action", "entity", "entity_id", "reason", "values",
                      "value_hashes", "prev_hash", "hash")  # fmt: skip
            saved_a = {f: getattr(a, f) for f in fields}
            saved_b = {f: getattr(b, f) for f in fields}
            b.hash = "f" * 64  # out of the way of the unique index for the swap
            session.flush()
            for f in fields:
                setattr(a, f, saved_b[f])
            session.flush()
            for f in fields:
                setattr(b, f, saved_a[f])
    result = audit.verify(ctx)
    assert not result.ok
    assert result.first_bad_id == (fourth if tamper == "delete" else third)


def test_a_tampered_value_is_caught_even_if_the_chain_fields_are_intact(ctx, history):
    with ctx.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "prospect.edited")
        ).first()
        entry.values = entry.values.replace("Janet", "Jenny")
        bad = entry.id
    result = audit.verify(ctx)
    assert (result.ok, result.first_bad_id, result.problem) == (
        False,
        bad,
        "has values that do not match",
    )


# ------------------------------------------- blanking, unreadable values


def _edit_entry(session) -> AuditEntry:
    return session.scalars(select(AuditEntry).where(AuditEntry.action == "prospect.edited")).one()


@pytest.mark.parametrize(
    "blank",
    [
        '{"first_name": {"new": null, "old": null}}',  # both sides of the change
        '{"first_name": {"new": "Janet", "old": null}}',  # one side
        '{"first_name": null}',  # the whole change
    ],
)
def test_blanking_an_entrys_values_is_caught(ctx, history, blank):
    with ctx.db.transaction() as session:
        entry = _edit_entry(session)
        entry.values = blank
        bad = entry.id
    result = audit.verify(ctx)
    assert (result.ok, result.first_bad_id) == (False, bad)
    assert "blanked" in result.problem


def test_blanking_an_entrys_reason_is_caught(ctx, history):
    with ctx.db.transaction() as session:
        entry = _edit_entry(session)
        assert entry.reason == "Rectification request #3"
        entry.reason = None
        bad = entry.id
    result = audit.verify(ctx)
    assert (result.ok, result.first_bad_id) == (False, bad)


def test_a_blank_is_not_excused_by_relabelling_a_later_entry_as_an_erasure(ctx, history):
    with ctx.db.transaction() as session:
        entry = _edit_entry(session)
        entry.values, entry.reason = '{"first_name": {"new": null, "old": null}}', None
        later = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "correspondence.logged")
        ).one()
        later.action = "prospect.erased"  # the same prospect, later in the chain
        relabelled = later.id
    result = audit.verify(ctx)
    assert (result.ok, result.first_bad_id, result.problem) == (False, relabelled, "was altered")


def test_erasure_blanks_earlier_entries_only_and_the_chain_still_verifies(ctx, history):
    from crm_desktop.services import rights

    rights.erase(ctx, history, confirm="Janet Smith", scrub=False)
    assert audit.verify(ctx).ok
    edit = next(e for e in audit.entries(ctx, entity="prospect", entity_id=history)
                if e.action == "prospect.edited")  # fmt: skip
    assert edit.values == {"first_name": {"old": None, "new": None}} and edit.reason is None
    # An entry about the same person after the erasure may not be blanked.
    with ctx.db.transaction() as session:
        after = audit.record(session, "alice", "prospect.noted", "prospect", history,
                             {"note": "after"}, reason="why")  # fmt: skip
        after_id = after.id
    assert audit.verify(ctx).ok
    with ctx.db.transaction() as session:
        session.get(AuditEntry, after_id).values = '{"note": null}'
    result = audit.verify(ctx)
    assert (result.ok, result.first_bad_id) == (False, after_id)
    assert "blanked" in result.problem


@pytest.mark.parametrize("column", ["values", "value_hashes"])
@pytest.mark.parametrize("junk", ["{not json", "", "[1, 2]", '"text"', "null"])
def test_an_unreadable_value_is_an_alteration_not_a_crash(ctx, history, column, junk):
    with ctx.db.transaction() as session:
        entry = _edit_entry(session)
        setattr(entry, column, junk)
        bad = entry.id
    result = audit.verify(ctx)
    assert (result.ok, result.first_bad_id) == (False, bad)


# ------------------------------------------------------------- deletion


def test_deleting_a_person_blanks_their_data_in_the_audit_trail_and_it_still_verifies(ctx):
    def person(first, last, email):
        return P.create_prospect(
            ctx, ProspectInput(first_name=first, last_name=last, email=email, role="Bursar")
        ).record

    zelda = person("Zelda", "Quist", "zq@quist.example")
    other = person("Olive", "Other", "olive@other.example")
    P.update_prospect(
        ctx, zelda.id, ProspectInput(first_name="Zelda", last_name="Quisted", email=zelda.email,
                                     owner=zelda.owner, role="Bursar"),
        reason="Zelda asked for the Quisted spelling",
    )  # fmt: skip
    C.log_contact(ctx, zelda.id, ContactInput(kind="call", summary="Zephyr project call"))
    C.log_contact(ctx, other.id, ContactInput(kind="call", summary="Olive's orchard call"))

    def stored() -> str:
        with ctx.db.read() as session:
            rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            return " ".join(f"{e.values} {e.reason}" for e in rows)

    assert "Quist" in stored() and "Zephyr" in stored()
    deleted = P.delete_prospect(ctx, zelda.id)
    assert deleted.full_name == "Zelda Quisted"
    text = stored()
    for trace in ("Zelda", "Quist", "zq@", "quist.example", "Zephyr"):
        assert trace not in text, trace
    # The entries stay (blanked, not suppressed), the deletion is recorded,
    # nobody else's entries change, and the chain verifies.
    actions = [e.action for e in audit.entries(ctx, entity="prospect", entity_id=zelda.id)]
    assert actions == ["prospect.deleted", "correspondence.logged", "prospect.edited",
                       "prospect.created"]  # fmt: skip
    assert "Olive" in text and "orchard" in text and "olive@other.example" in text
    assert audit.verify(ctx).ok
    # Delete is not erasure: the address is not suppressed.
    again = P.create_prospect(
        ctx, ProspectInput(first_name="Zelda", last_name="Quist", email="zq@quist.example")
    )
    assert again.warnings == [] and again.record.email == "zq@quist.example"
    assert audit.verify(ctx).ok
