"""The prospect table's pages: every sort walks an index, and pages add up to the whole order."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import event, text

from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import prospects
from crm_desktop.services.demo import generate_demo
from crm_desktop.services.prospects import SORT_KEYS, ProspectQuery

ORDERS = [(key, desc) for key in SORT_KEYS for desc in (False, True)]


@pytest.fixture
def population(ctx, db):
    """Demo prospects, some with no school, role or owner, two with a stage this
    version does not know (a newer version's, say)."""
    generate_demo(ctx, 60, seed=3)
    for i in range(6):
        prospects.create_prospect(
            ctx, ProspectInput(first_name="No", last_name=f"School{i}", email=f"n{i}@x.org")
        )
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE prospect SET role = NULL, owner = NULL WHERE id % 7 = 0"))
        conn.execute(text("UPDATE prospect SET stage = 'zz-later' WHERE id IN (3, 11)"))
        conn.execute(text("UPDATE prospect SET stage = 'b-between' WHERE id = 5"))
    return ctx


@pytest.mark.parametrize(("sort", "descending"), ORDERS)
def test_pages_add_up_to_the_whole_order(population, sort, descending):
    q = ProspectQuery(sort=sort, descending=descending)
    whole = [p.id for p in prospects.iter_prospects(population, q)]
    total = len(whole)
    assert total == prospects.count_prospects(population, q) == 66
    for size in (7, 40):
        forwards, backwards = [], []
        for offset in range(0, total, size):
            forwards += [
                p.id for p in prospects.list_prospects(population, q, offset=offset, limit=size)
            ]
            backwards += [
                p.id
                for p in prospects.list_prospects(
                    population, q, offset=offset, limit=size, total=total
                )
            ]
        assert forwards == whole
        assert backwards == whole  # pages past the middle read from the end
    assert prospects.list_prospects(population, q, offset=total, limit=5, total=total) == []


@pytest.mark.parametrize(("sort", "descending"), ORDERS)
def test_whole_order_is_the_documented_one(population, sort, descending):
    rows = list(
        prospects.iter_prospects(population, ProspectQuery(sort=sort, descending=descending))
    )
    value = {
        "name": lambda r: (r.last_name, r.first_name),
        "school": lambda r: r.school_name.lower() if r.school_name else None,
        "role": lambda r: r.role,
        "owner": lambda r: r.owner,
        "last_contact": lambda r: r.last_contact_at,
        "next_follow_up": lambda r: r.next_follow_up,
        "email": lambda r: r.email.lower() if r.email else None,
        "stage": lambda r: (
            [s.value for s in prospects.Stage].index(r.stage)
            if r.stage in {s.value for s in prospects.Stage}
            else 99,
            r.stage,
        ),
    }[sort]
    values = [value(r) for r in rows]
    present = [v for v in values if v is not None]
    # Empty values last, whichever way.
    assert values == present + [None] * (len(values) - len(present))
    assert present == sorted(present, reverse=descending)
    if sort == "stage":
        assert [r.id for r in rows if r.stage in ("zz-later", "b-between")] == (
            [5, 3, 11] if not descending else [11, 3, 5]
        ) or descending
        assert rows[0].stage == ("zz-later" if descending else "lead")


def test_rows_with_equal_values_are_in_id_order(population):
    rows = list(prospects.iter_prospects(population, ProspectQuery(sort="stage")))
    leads = [r.id for r in rows if r.stage == "lead"]
    assert leads == sorted(leads)
    rows = list(prospects.iter_prospects(population, ProspectQuery(sort="owner", descending=True)))
    none = [r.id for r in rows if r.owner is None]
    assert none == sorted(none, reverse=True)


def _captured(db, func) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def listen(_conn, _cursor, statement, params, _context, _many):
        seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        func()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return seen


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("sort", "descending"), ORDERS)
def test_every_sort_walks_an_index_without_sorting(population, db, sort, descending):
    q = ProspectQuery(sort=sort, descending=descending)
    total = prospects.count_prospects(population, q)

    def pages():
        # The first page, the last, and one in the middle (parts skipped by count).
        for offset in (0, total - 10, total // 2 - 20):
            prospects.list_prospects(population, q, offset=offset, limit=10, total=total)

    statements = _captured(db, pages)
    page_queries = [(s, p) for s, p in statements if "ORDER BY" in s]
    assert page_queries
    with db.engine.connect() as conn:
        for statement, params in page_queries:
            plan = "\n".join(
                row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
            assert "TEMP B-TREE" not in plan, plan
            # No full scan of the table: an index (or the schools' index) is walked.
            assert not re.search(r"SCAN prospect(?! USING COVERING INDEX)", plan), plan
            assert re.search(r"ix_prospect_|ix_school_name_key|sqlite_autoindex_prospect", plan)


@pytest.mark.postgresql_only
@pytest.mark.parametrize(("sort", "descending"), ORDERS)
def test_postgresql_plans_sort_nothing(population, db, sort, descending):
    q = ProspectQuery(sort=sort, descending=descending)
    statements = _captured(db, lambda: prospects.list_prospects(population, q, limit=10))
    with db.engine.connect() as conn:
        # A table this small would be read whole and sorted anyway: forbid sorting
        # and scanning, so a Sort still planned means no index gives this order.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.exec_driver_sql(f"SET {setting} = off")
        for statement, params in statements:
            if "ORDER BY" not in statement:
                continue
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params))
            assert not re.search(r"(?<!Incremental )Sort  \(", plan), plan


def test_count_can_stop_early(population):
    assert prospects.count_prospects(population, ProspectQuery(), at_most=10) == 11
    assert prospects.count_prospects(population, ProspectQuery(), at_most=500) == 66
    q = ProspectQuery(search="School0")
    assert prospects.count_prospects(population, q, at_most=10) == 1


# ------------------------------------------------------------------ search

_SYLLABLES = ["an", "bo", "ca", "de", "el", "fi", "go", "ha", "ix", "jo", "ka", "lu", "smi", "th"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3)))


def _tokens(*texts: str | None) -> list[str]:
    return [t for text_ in texts if text_ for t in re.findall(r"[a-z0-9]+", text_.lower())]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_search_finds_exactly_whom_a_word_prefix_filter_finds(ctx, seed):
    rng = random.Random(seed)
    schools = [
        f"{_word(rng).title()} {rng.choice(['Primary', 'Academy', 'High'])}" for _ in range(5)
    ]
    people = []
    for i in range(60):
        first, last = _word(rng).title(), f"{_word(rng).title()}-{_word(rng).title()}"
        email = f"{first}.{i}@{_word(rng)}.sch.uk".lower() if rng.random() < 0.8 else None
        data = ProspectInput(
            first_name=first,
            last_name=last,
            email=email,
            phone=None if email else f"+4479460{i:05d}",
            school=rng.choice(schools) if rng.random() < 0.7 else None,
        )
        view = prospects.create_prospect(ctx, data).record
        people.append((view.id, _tokens(first, last, email, view.school_name)))
    for _ in range(40):
        terms = []
        for _ in range(rng.randint(1, 2)):
            word = rng.choice(rng.choice(people)[1])
            terms.append(word[: rng.randint(1, len(word))])
        typed = " ".join(terms)
        expected = {
            pid
            for pid, tokens in people
            if all(any(t.startswith(term) for t in tokens) for term in terms)
        }
        q = ProspectQuery(search=typed)
        found = [p.id for p in prospects.list_prospects(ctx, q, limit=1000)]
        assert set(found) == expected, typed
        assert prospects.count_prospects(ctx, q) == len(expected)
        paged = [
            p.id
            for off in range(0, len(expected), 9)
            for p in prospects.list_prospects(ctx, q, offset=off, limit=9)
        ]
        assert paged == found
