"""Retention review: who is due, keeping (with a reason) and bulk anonymising."""

from datetime import UTC, date, datetime, timedelta

import pytest

from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ContactInput, ProspectInput, ValidationError
from crm_desktop.errors import CrmError, NotPermittedError
from crm_desktop.services import Context, audit
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P
from crm_desktop.services import retention as RT
from crm_desktop.services import suppression as S


def _today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def person(ctx):
    """person("Ada", months_ago=30) -> id; months_ago=None: never contacted."""

    def make(first: str, *, months_ago: int | None = None, school: str | None = None) -> int:
        data = ProspectInput(
            first_name=first, last_name="Tester", email=f"{first.lower()}@oak.sch.uk", school=school
        )
        pid = P.create_prospect(ctx, data).record.id
        if months_ago is not None:
            when = datetime.combine(RT.add_months(_today(), -months_ago), datetime.min.time())
            C.log_contact(
                ctx,
                pid,
                ContactInput(kind="call", summary="Old call", occurred_at=when.replace(tzinfo=UTC)),
            )
        return pid

    return make


def _ids(ctx, **kw) -> list[int]:
    return [row.id for row in RT.review_queue(ctx, **kw)]


def test_add_months_clamps_to_month_end():
    assert RT.add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert RT.add_months(date(2024, 1, 15), -24) == date(2022, 1, 15)
    assert RT.add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)


def test_queue_holds_only_people_without_contact_for_the_period_oldest_first(ctx, person):
    old = person("Old", months_ago=30, school="Oakfield Primary")
    older = person("Older", months_ago=40)
    recent = person("Recent", months_ago=6)
    rows = RT.review_queue(ctx)
    assert [r.id for r in rows] == [older, old]
    assert recent not in [r.id for r in rows]
    first = rows[1]
    assert first.name == "Old Tester" and first.school == "Oakfield Primary"
    assert first.last_contact_at.date() == RT.add_months(_today(), -30)
    assert first.due_since == RT.add_months(_today(), -6)
    assert RT.count_due(ctx) == 2


def test_due_on_the_anniversary_not_the_day_before(ctx, person):
    pid = person("Edge", months_ago=24)
    assert pid in _ids(ctx)
    assert pid not in _ids(ctx, today=_today() - timedelta(days=1))


def test_never_contacted_counts_from_when_they_were_added(ctx, person):
    pid = person("Never")
    assert pid not in _ids(ctx)
    in_25_months = RT.add_months(_today(), 25)
    row = RT.review_queue(ctx, today=in_25_months)[0]
    assert row.id == pid and row.last_contact_at is None
    assert row.due_since == RT.add_months(_today(), 24)


def test_keeping_restarts_the_clock_and_is_audited(ctx, person):
    pid = person("Kept", months_ago=30)
    other = person("Other", months_ago=30)
    assert RT.keep(ctx, [pid], "Renewed contract talks this term") == 1
    assert _ids(ctx) == [other]
    later = RT.review_queue(ctx, today=RT.add_months(_today(), 24))
    kept = next(r for r in later if r.id == pid)
    assert kept.kept_at is not None and kept.due_since == RT.add_months(_today(), 24)
    assert pid not in _ids(ctx, today=RT.add_months(_today(), 23))
    entry = audit.entries(ctx, entity="prospect", entity_id=pid)[0]
    assert entry.action == "prospect.retention_kept"
    assert entry.reason == "Renewed contract talks this term"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_keep_requires_a_reason_and_changes_nothing_without_one(ctx, person, reason):
    pid = person("Kept", months_ago=30)
    with pytest.raises(ValidationError, match="reason|required"):
        RT.keep(ctx, [pid], reason)
    assert _ids(ctx) == [pid]


def test_keep_refuses_nobody_and_the_erased(ctx, person):
    pid = person("Gone", months_ago=30)
    with pytest.raises(CrmError, match="at least one"):
        RT.keep(ctx, [], "reason")
    RT.anonymise(ctx, [pid])
    with pytest.raises(CrmError, match="erased"):
        RT.keep(ctx, [pid], "reason")


def test_paging_happens_in_sql_in_order(ctx, person):
    ids = [person(f"P{i}", months_ago=40 - i) for i in range(5)]
    assert _ids(ctx, limit=2) == ids[:2]
    assert _ids(ctx, offset=2, limit=2) == ids[2:4]
    assert _ids(ctx, offset=4) == ids[4:]


def test_months_setting_defaults_validates_and_changes_the_queue(ctx, person):
    assert RT.get_retention_months(ctx) == 24
    pid = person("Seven", months_ago=7)
    assert pid not in _ids(ctx)
    assert RT.set_retention_months(ctx, "6") == 6
    assert RT.get_retention_months(ctx) == 6
    assert _ids(ctx) == [pid]
    for bad in (0, 121, "abc", "", -3):
        with pytest.raises(ValidationError, match="months"):
            RT.set_retention_months(ctx, bad)
    assert RT.get_retention_months(ctx) == 6
    RT.set_retention_months(ctx, 120)
    assert RT.get_retention_months(ctx) == 120


def test_anonymise_erases_suppresses_and_audits(ctx, person):
    a = person("Anna", months_ago=30)
    b = person("Bert", months_ago=31)
    keep_me = person("Carl", months_ago=2)
    seen = []
    assert RT.anonymise(ctx, [a, b], progress=lambda d, t: seen.append((d, t))).count == 2
    assert seen[-1] == (2, 2)
    for pid, email in ((a, "anna@oak.sch.uk"), (b, "bert@oak.sch.uk")):
        view = P.get_prospect(ctx, pid)
        assert view.email is None and view.first_name == "Erased"
        assert [e.reason for e in S.lookup(ctx, email)] == ["erasure"]
        actions = [e.action for e in audit.entries(ctx, entity="prospect", entity_id=pid)]
        assert "prospect.erased" in actions
    assert any(e.action == "retention.anonymised" for e in audit.entries(ctx, entity="prospect"))
    assert P.get_prospect(ctx, keep_me).email == "carl@oak.sch.uk"
    assert _ids(ctx) == []  # the erased are not due for review
    assert audit.verify(ctx).ok


def test_cancel_between_people_keeps_the_ones_done(ctx, person):
    ids = [person(f"N{i}", months_ago=30) for i in range(3)]
    calls = {"n": 0}

    def cancel_after_first() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    assert RT.anonymise(ctx, ids, should_cancel=cancel_after_first).count == 1
    assert P.get_prospect(ctx, ids[0]).erased_at is not None
    assert [P.get_prospect(ctx, i).erased_at for i in ids[1:]] == [None, None]
    assert _ids(ctx) == ids[1:]


@pytest.mark.parametrize("role", [Role.SALES, Role.MARKETING])
def test_roles_without_retention_review_are_refused(ctx, person, role):
    pid = person("Old", months_ago=30)
    other = Context(ctx.db, user="sam", role=role)
    for call in (
        lambda: RT.review_queue(other),
        lambda: RT.count_due(other),
        lambda: RT.get_retention_months(other),
        lambda: RT.keep(other, [pid], "because"),
        lambda: RT.anonymise(other, [pid]),
        lambda: RT.set_retention_months(other, 12),
    ):
        with pytest.raises(NotPermittedError):
            call()
    assert P.get_prospect(ctx, pid).erased_at is None
    assert _ids(ctx) == [pid]


def test_manager_reviews_but_may_not_change_the_period(ctx, person):
    pid = person("Old", months_ago=30)
    manager = Context(ctx.db, user="meg", role=Role.MANAGER)
    assert [r.id for r in RT.review_queue(manager)] == [pid]
    with pytest.raises(NotPermittedError):
        RT.set_retention_months(manager, 12)
    assert RT.keep(manager, [pid], "Still a customer") == 1
