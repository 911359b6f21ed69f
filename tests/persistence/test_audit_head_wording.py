"""The truncation report reads as a sentence for one entry as for many."""

from __future__ import annotations

from crm_desktop.persistence.audit_head import Head, compare

AT = "2026-12-07T19:35:00+00:00"


def _head(length: int) -> Head:
    return Head(length=length, hash="c" * 64, last_id=length, updated=AT, since=AT)


def test_one_entry_left_and_one_removed_are_singular():
    assert compare(_head(2), 1, None) == (
        "ends after 1 entry, but its head record says 2 entries ending cccccccccccccccc on "
        "7 Dec 2026 19:35 UTC: 1 entry was removed from the end"
    )


def test_many_are_plural_with_thousands_separated():
    problem = compare(_head(1500), 3, None)
    assert problem.startswith("ends after 3 entries, but its head record says 1,500 entries")
    assert problem.endswith("1,497 entries were removed from the end")


def test_a_head_that_is_behind_but_matches_is_accepted():
    assert compare(_head(2), 5, "c" * 64) is None
