"""Probable duplicates: found in blocks (school, phone, email), never different people."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from crm_desktop.domain.models import ContactPoint
from crm_desktop.domain.types import utcnow
from crm_desktop.errors import CrmError, NotFoundError
from crm_desktop.services import Context, audit, rights
from crm_desktop.services import duplicates as D
from crm_desktop.services import history as H


def pairs(ctx, **kw):
    return {(p.first_id, p.second_id): p for p in D.probable_duplicates(ctx, **kw)}


def extra_address(ctx, prospect_id: int, kind: str, value: str) -> None:
    key = value.lower() if kind == "email" else value
    with ctx.db.transaction() as s:
        s.execute(
            insert(ContactPoint).values(
                prospect_id=prospect_id, kind=kind, value=value, value_key=key,
                position=1, created_at=utcnow(),
            )
        )  # fmt: skip


def test_similar_names_at_the_same_school_are_paired(ctx, add_prospect):
    jane = add_prospect("Jane", "Smith", school="Oak Primary")
    smyth = add_prospect("Jane", "Smyth", school="Oak Primary")
    initial = add_prospect("J", "Smith", school="Oak Primary")
    accent = add_prospect("Zoë", "O'Brien", school="Oak Primary")
    plain = add_prospect("Zoe", "OBrien", email="zoe2@oak.sch.uk", school="Oak Primary")
    found = pairs(ctx)
    assert found[(jane, smyth)].reason == D.SIMILAR_NAME
    assert found[(jane, smyth)].school == "Oak Primary"
    assert found[(jane, smyth)].score >= D.NAME_THRESHOLD
    assert found[(jane, initial)].reason == D.SIMILAR_NAME
    assert (accent, plain) in found


def test_different_people_and_other_schools_are_not_paired(ctx, add_prospect):
    a = add_prospect("Jane", "Smith", school="Oak Primary")
    add_prospect("Peter", "Jones", school="Oak Primary")
    add_prospect("Priya", "Shah", school="Oak Primary")
    elsewhere = add_prospect("Jane", "Smith", email="jane@elm.sch.uk", school="Elm Academy")
    no_school = add_prospect("Jane", "Smyth", email="jane@none.org")
    found = pairs(ctx)
    assert found == {}, found
    assert (a, elsewhere) not in found and (a, no_school) not in found


def test_same_phone_number_pairs_whatever_the_names(ctx, add_prospect):
    a = add_prospect("Tom", "Brown", phone="07700 900123", email="tom@x.org")
    b = add_prospect("Thomas", "Browne", phone="+44 7700 900123", email="tb@y.org")
    found = pairs(ctx)
    assert found[(a, b)].reason == D.SAME_PHONE
    assert 0 <= found[(a, b)].score <= 100


def test_an_extra_phone_number_pairs_too(ctx, add_prospect):
    a = add_prospect("Tom", "Brown", phone="07700 900123", email="tom@x.org")
    b = add_prospect("Ann", "Other", email="ann@y.org")
    extra_address(ctx, b, "phone", "+447700900123")
    assert pairs(ctx)[(a, b)].reason == D.SAME_PHONE


def test_a_shared_line_and_a_school_switchboard_pair_nobody(ctx, add_prospect):
    shared = [
        add_prospect(f"Person{i}", f"Number{i}", phone="07700 900500", email=f"p{i}@x.org")
        for i in range(D.PHONE_BLOCK_MAX + 1)
    ]
    assert len(shared) > D.PHONE_BLOCK_MAX
    from crm_desktop.domain.validation import SchoolInput
    from crm_desktop.services import schools

    schools.create_school(ctx, SchoolInput(name="Oak Primary", phone="020 7946 0000"))
    add_prospect("Ann", "Able", phone="020 7946 0000", email="ann@oak.sch.uk")
    add_prospect("Bob", "Baker", phone="020 7946 0000", email="bob@oak.sch.uk")
    assert pairs(ctx) == {}


def test_an_extra_email_that_is_another_primary_pairs(ctx, add_prospect):
    a = add_prospect("Ann", "Able", email="ann@oak.sch.uk")
    b = add_prospect("Annie", "Able-Baker", email="annie@home.org")
    extra_address(ctx, b, "email", "Ann@Oak.sch.uk")
    c = add_prospect("Carl", "Cole", email="carl@x.org")
    d = add_prospect("Carl", "Kohl", email="ck@y.org")
    extra_address(ctx, c, "email", "shared@z.org")
    extra_address(ctx, d, "email", "shared@z.org")
    found = pairs(ctx)
    assert found[(a, b)].reason == D.SAME_EMAIL
    assert found[(c, d)].reason == D.SAME_EMAIL


def test_strongest_evidence_first_and_one_reason_per_pair(ctx, add_prospect):
    a = add_prospect("Jane", "Smith", school="Oak Primary", phone="07700 900111")
    b = add_prospect("Jane", "Smyth", school="Oak Primary", phone="07700 900111")
    c = add_prospect("Peter", "Jones", school="Elm", phone="07700 900222")
    d = add_prospect("Peta", "Jonas", school="Elm", phone="07700 900222")
    e = add_prospect("Alan", "Turing", school="Elm")
    f = add_prospect("Alan", "Turin", school="Elm")
    listed = D.probable_duplicates(ctx)
    assert [(p.first_id, p.second_id) for p in listed].count((a, b)) == 1
    assert [p.reason for p in listed] == [D.SAME_PHONE, D.SAME_PHONE, D.SIMILAR_NAME]
    assert {(p.first_id, p.second_id) for p in listed} == {(a, b), (c, d), (e, f)}
    assert D.probable_duplicates(ctx, limit=1) == listed[:1]


def test_among_keeps_only_pairs_touching_those_ids(ctx, add_prospect):
    a = add_prospect("Jane", "Smith", school="Oak Primary")
    b = add_prospect("Jane", "Smyth", school="Oak Primary")
    c = add_prospect("Alan", "Turing", school="Elm")
    d = add_prospect("Alan", "Turin", school="Elm")
    assert set(pairs(ctx, among=[b])) == {(a, b)}
    assert set(pairs(ctx, among=[c, 999])) == {(c, d)}
    assert pairs(ctx, among=[]) == {}


def test_dismissed_pairs_are_gone_either_way_round(ctx, add_prospect):
    a = add_prospect("Jane", "Smith", school="Oak Primary")
    b = add_prospect("Jane", "Smyth", school="Oak Primary")
    c = add_prospect("J", "Smith", school="Oak Primary")
    D.dismiss_pair(ctx, b, a)
    D.dismiss_pair(ctx, a, b)  # twice is not an error
    assert set(pairs(ctx)) == {(a, c)}
    assert D.dismissed_pairs(ctx) == [(a, b)]
    assert audit.verify(ctx).ok
    titles = [e.title for e in H.history(ctx, a)]
    assert "Marked as not a duplicate" in titles


def test_dismissing_refuses_nonsense(ctx, add_prospect):
    a = add_prospect("Jane", "Smith")
    with pytest.raises(CrmError, match="itself"):
        D.dismiss_pair(ctx, a, a)
    with pytest.raises(NotFoundError, match="No prospect with id 999"):
        D.dismiss_pair(ctx, a, 999)


def test_erased_people_are_left_out(ctx, add_prospect):
    a = add_prospect("Jane", "Smith", school="Oak Primary", phone="07700 900111")
    add_prospect("Jane", "Smyth", school="Oak Primary", phone="07700 900111")
    rights.erase(ctx, a, confirm="Jane Smith", scrub=False)
    assert pairs(ctx) == {}


def test_sales_may_list_and_dismiss(ctx, add_prospect):
    from crm_desktop.domain.roles import Role

    a = add_prospect("Jane", "Smith", school="Oak Primary")
    b = add_prospect("Jane", "Smyth", school="Oak Primary")
    sales = Context(ctx.db, user="sam", role=Role.SALES)
    assert len(D.probable_duplicates(sales)) == 1
    D.dismiss_pair(sales, a, b)
    assert D.probable_duplicates(sales) == []


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        (("Jane", "Smith"), ("Jane", "Smyth"), True),
        (("Jon", "Smith"), ("John", "Smith"), True),
        (("J.", "Smith"), ("Jane", "Smith"), True),
        (("Chris", "Evans"), ("Christopher", "Evans"), True),
        (("Smith", "Jane"), ("Jane", "Smith"), True),
        (("Jane", "Smith"), ("Peter", "Smith"), False),
        (("Jane", "Smith"), ("Jane", "Jones"), False),
        (("A", "Smith"), ("Jane", "Smith"), False),
    ],
)
def test_name_score(a, b, alike):
    assert (D.name_score(*a, *b) >= D.NAME_THRESHOLD) is alike
