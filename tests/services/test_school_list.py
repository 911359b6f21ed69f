"""The schools list a page at a time: count, pages, sort and position agree."""

from __future__ import annotations

import pytest

from crm_desktop.domain.validation import SchoolInput
from crm_desktop.services import schools


@pytest.fixture
def listed(ctx, add_prospect) -> dict[str, int]:
    ids = {}
    for name, urn, la, people in [
        ("Oakfield Primary", "100003", "Leeds", 2),
        ("Hill Top Academy", "100001", None, 0),
        ("Ash Grove School", None, "York", 1),
        ("Birch Lane Infants", "100002", "Bradford", 3),
    ]:
        ids[name] = schools.create_school(
            ctx, SchoolInput(name=name, urn=urn or "", local_authority=la or "")
        ).record.id
        for i in range(people):
            add_prospect("Person", f"{name.split()[0]}{i}", school=name)
    return ids


def names(rows) -> list[str]:
    return [row.name for row in rows]


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("name", False, ["Ash Grove School", "Birch Lane Infants", "Hill Top Academy",
                         "Oakfield Primary"]),
        ("name", True, ["Oakfield Primary", "Hill Top Academy", "Birch Lane Infants",
                        "Ash Grove School"]),
        ("urn", False, ["Hill Top Academy", "Birch Lane Infants", "Oakfield Primary",
                        "Ash Grove School"]),  # no URN: last either way
        ("urn", True, ["Oakfield Primary", "Birch Lane Infants", "Hill Top Academy",
                       "Ash Grove School"]),
        ("local_authority", False, ["Birch Lane Infants", "Oakfield Primary",
                                    "Ash Grove School", "Hill Top Academy"]),
        ("prospects", True, ["Birch Lane Infants", "Oakfield Primary", "Ash Grove School",
                             "Hill Top Academy"]),
    ],
)  # fmt: skip
def test_pages_follow_the_sort_and_positions_agree(ctx, listed, sort, descending, expected):
    whole = schools.list_schools(ctx, sort=sort, descending=descending)
    assert names(whole) == expected
    paged = [
        row
        for offset in range(0, 4, 3)
        for row in schools.list_schools(
            ctx, limit=3, offset=offset, sort=sort, descending=descending
        )
    ]
    assert names(paged) == expected
    for row, school in enumerate(whole):
        found = schools.school_position(ctx, school.id, sort=sort, descending=descending)
        assert found == row
    assert {s.name: s.prospect_count for s in whole}["Birch Lane Infants"] == 3


def test_count_and_position_follow_the_search(ctx, listed):
    assert schools.count_schools(ctx) == 4
    assert schools.count_schools(ctx, "  LEEDS ") == 1
    assert schools.count_schools(ctx, "1000") == 3  # URNs
    assert schools.count_schools(ctx, "100%") == 0  # % is a character, not a wildcard
    assert schools.school_position(ctx, listed["Oakfield Primary"], "1000") == 2
    assert schools.school_position(ctx, listed["Ash Grove School"], "1000") is None


def test_an_unknown_sort_is_refused(ctx, listed):
    with pytest.raises(ValueError):
        schools.list_schools(ctx, sort="colour")
