from datetime import UTC, date, datetime, timedelta

import pytest

from crm_desktop.domain.validation import ContactInput, ProspectInput, ValidationError
from crm_desktop.errors import CrmError, NotFoundError
from crm_desktop.services import Context
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
