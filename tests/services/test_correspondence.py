from datetime import UTC, date, datetime, timedelta

import pytest

from crm_desktop.domain.roles import PERMISSIONS, Action, Role
from crm_desktop.domain.validation import ContactInput, ProspectInput, ValidationError
from crm_desktop.errors import CrmError, NotFoundError, NotPermittedError
from crm_desktop.services import Context, audit
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P


@pytest.fixture
def jane(ctx):
    return P.create_prospect(
        ctx, ProspectInput(first_name="Jane", last_name="Smith", email="jane@oak.sch.uk")
    ).record


def test_log_contact_updates_last_contact_and_next_follow_up(ctx, jane):
    when = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    entry = C.log_contact(
        ctx,
        jane.id,
        ContactInput(kind="call", summary="Intro", occurred_at=when, follow_up_on="2026-02-01"),
    )
    assert entry.logged_by == "alice"
    view = P.get_prospect(ctx, jane.id)
    assert view.last_contact_at == when
    assert view.next_follow_up == date(2026, 2, 1)


def test_timeline_is_newest_first(ctx, jane):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for days, text in [(3, "third"), (1, "first"), (2, "second")]:
        C.log_contact(
            ctx,
            jane.id,
            ContactInput(kind="note", summary=text, occurred_at=base + timedelta(days)),
        )
    assert [c.summary for c in C.list_correspondence(ctx, jane.id)] == ["third", "second", "first"]


def test_followups_overdue_first_with_status_and_mine(ctx, jane):
    today = date(2026, 3, 10)
    bob = Context(ctx.db, user="bob")
    C.log_contact(ctx, jane.id, ContactInput(kind="call", summary="a", follow_up_on="2026-03-20"))
    C.log_contact(bob, jane.id, ContactInput(kind="call", summary="b", follow_up_on="2026-03-01"))
    C.log_contact(ctx, jane.id, ContactInput(kind="call", summary="c", follow_up_on="2026-03-10"))
    C.log_contact(ctx, jane.id, ContactInput(kind="call", summary="no follow-up"))
    items = C.list_followups(ctx, today=today)
    assert [(f.summary, f.status) for f in items] == [
        ("b", "overdue"),
        ("c", "today"),
        ("a", "upcoming"),
    ]
    assert [f.summary for f in C.list_followups(ctx, mine=True, today=today)] == ["c", "a"]
    assert P.get_prospect(ctx, jane.id).next_follow_up == date(2026, 3, 1)


def test_complete_followup_removes_it_and_moves_next_date(ctx, jane):
    C.log_contact(ctx, jane.id, ContactInput(kind="call", summary="a", follow_up_on="2026-03-01"))
    later = C.log_contact(
        ctx, jane.id, ContactInput(kind="call", summary="b", follow_up_on="2026-04-01")
    )
    first = C.list_followups(ctx)[0]
    done = C.complete_followup(ctx, first.contact_id)
    assert done.follow_up_done_at is not None
    assert [f.contact_id for f in C.list_followups(ctx)] == [later.id]
    assert P.get_prospect(ctx, jane.id).next_follow_up == date(2026, 4, 1)
    C.complete_followup(ctx, later.id)
    assert P.get_prospect(ctx, jane.id).next_follow_up is None


def test_bad_contact_stores_nothing(ctx, jane):
    with pytest.raises(ValidationError):
        C.log_contact(ctx, jane.id, ContactInput(kind="carrier pigeon", summary="x"))
    with pytest.raises(NotFoundError):
        C.log_contact(ctx, 999, ContactInput(kind="call", summary="x"))
    plain = C.log_contact(ctx, jane.id, ContactInput(kind="note", summary="x"))
    with pytest.raises(CrmError, match="no follow-up"):
        C.complete_followup(ctx, plain.id)
    assert len(C.list_correspondence(ctx, jane.id)) == 1


def test_deleting_prospect_deletes_their_correspondence(ctx, jane):
    C.log_contact(ctx, jane.id, ContactInput(kind="call", summary="x", follow_up_on="2026-01-01"))
    P.delete_prospect(ctx, jane.id)
    assert C.list_correspondence(ctx, jane.id) == []
    assert C.list_followups(ctx) == []


def test_logging_a_contact_can_close_open_follow_ups_in_the_same_transaction(ctx, jane):
    bob = Context(ctx.db, user="bob")
    overdue = C.log_contact(
        bob, jane.id, ContactInput(kind="call", summary="Bob's", follow_up_on="2026-01-05")
    )
    mine = C.log_contact(
        ctx, jane.id, ContactInput(kind="call", summary="mine", follow_up_on="2026-01-09")
    )
    assert [f.contact_id for f in C.list_followups(ctx, prospect_id=jane.id)] == [
        overdue.id,
        mine.id,
    ]
    new = C.log_contact(
        ctx,
        jane.id,
        ContactInput(kind="call", summary="Spoke at last", follow_up_on="2027-02-01"),
        close_followups=[overdue.id, mine.id],
    )
    assert [f.contact_id for f in C.list_followups(ctx)] == [new.id]
    assert P.get_prospect(ctx, jane.id).next_follow_up == date(2027, 2, 1)
    done = [e for e in audit.entries(ctx, entity="prospect", entity_id=jane.id)
            if e.action == "followup.done"]  # fmt: skip
    assert sorted(e.values["entry"] for e in done) == [overdue.id, mine.id]
    assert {e.values["answered_by"] for e in done} == {new.id}
    assert {e.actor for e in done} == {"alice"}  # alice closed bob's, and it says so


def test_closing_someone_elses_follow_up_or_a_bad_one_saves_nothing(ctx, jane):
    other = P.create_prospect(
        ctx, ProspectInput(first_name="Other", last_name="Person", email="o@oak.sch.uk")
    ).record
    theirs = C.log_contact(
        ctx, other.id, ContactInput(kind="call", summary="x", follow_up_on="2026-01-05")
    )
    plain = C.log_contact(ctx, jane.id, ContactInput(kind="note", summary="no follow-up"))
    for ids, error in (([theirs.id], NotFoundError), ([9999], NotFoundError),
                       ([plain.id], CrmError)):  # fmt: skip
        with pytest.raises(error):
            C.log_contact(
                ctx, jane.id, ContactInput(kind="call", summary="new"), close_followups=ids
            )
    assert [c.summary for c in C.list_correspondence(ctx, jane.id)] == ["no follow-up"]
    assert [f.contact_id for f in C.list_followups(ctx)] == [theirs.id]


def test_closing_follow_ups_needs_the_right_to_manage_them(ctx, jane, monkeypatch):
    entry = C.log_contact(
        ctx, jane.id, ContactInput(kind="call", summary="x", follow_up_on="2026-01-05")
    )
    sales = Context(ctx.db, user="sam", role=Role.SALES)
    monkeypatch.setitem(
        PERMISSIONS, Role.SALES, PERMISSIONS[Role.SALES] - {Action.MANAGE_FOLLOWUPS}
    )
    with pytest.raises(NotPermittedError):
        C.log_contact(sales, jane.id, ContactInput(kind="call", summary="y"),
                      close_followups=[entry.id])  # fmt: skip
    assert len(C.list_correspondence(ctx, jane.id)) == 1
    C.log_contact(sales, jane.id, ContactInput(kind="call", summary="y"))  # logging alone is fine


def test_a_follow_up_in_the_past_is_accepted_with_a_warning():
    today = date(2026, 12, 7)
    assert C.follow_up_warnings(date(2026, 12, 6), today=today) == [
        "The follow-up date has passed, so it shows as overdue at once."
    ]
    assert C.follow_up_warnings(today, today=today) == []
    assert C.follow_up_warnings(None, today=today) == []


def test_saving_a_contact_keeps_the_summary_a_full_reread_gives(ctx, jane):
    """Each plain save moves the summary itself; it must equal reading the whole log back."""
    import random

    from crm_desktop.domain.models import Prospect

    rng = random.Random(14)
    base = datetime(2026, 1, 1, 9, tzinfo=UTC)
    for i in range(40):
        follow_up = None
        if rng.random() < 0.5:
            follow_up = (date(2026, 1, 1) + timedelta(days=rng.randrange(0, 90))).isoformat()
        closing = []
        if rng.random() < 0.2:
            closing = [f.contact_id for f in C.list_followups(ctx, prospect_id=jane.id)][:1]
        C.log_contact(
            ctx,
            jane.id,
            ContactInput(
                kind="call",
                summary=f"call {i}",
                occurred_at=base + timedelta(hours=rng.randrange(-500, 500)),
                follow_up_on=follow_up,
            ),
            close_followups=closing,
        )
        stored = P.get_prospect(ctx, jane.id)
        with ctx.db.transaction() as session:
            C.refresh_contact_summary(session, jane.id)
            reread = session.get(Prospect, jane.id)
            expected = (reread.last_contact_at, reread.next_follow_up)
        assert (stored.last_contact_at, stored.next_follow_up) == expected, i


def test_a_plain_save_does_not_read_the_prospects_whole_log_back(ctx, jane):
    from sqlalchemy import event

    C.log_contact(ctx, jane.id, ContactInput(kind="call", summary="first", follow_up_on=None))
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(ctx.db.write_engine, "before_cursor_execute", seen)
    try:
        C.log_contact(ctx, jane.id, ContactInput(kind="note", summary="second"))
    finally:
        event.remove(ctx.db.write_engine, "before_cursor_execute", seen)
    assert any("INSERT INTO correspondence" in s for s in statements)
    aggregates = [s for s in statements if "max(correspondence" in s or "min(correspondence" in s]
    assert aggregates == []
    assert P.get_prospect(ctx, jane.id).last_contact_at is not None
