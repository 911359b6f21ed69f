"""``crm audit verify`` prints the trail's head, reports entries removed from its end,
and checks a head noted earlier (``--expect-head``)."""

from __future__ import annotations

import re
import sqlite3

from cli_support import assert_error


def _remove_last(db_path, n: int) -> None:
    con = sqlite3.connect(db_path)
    con.execute(
        f"DELETE FROM audit_entry WHERE id IN (SELECT id FROM audit_entry ORDER BY id DESC LIMIT {n})"
    )
    con.commit()
    con.close()


def test_verify_prints_the_head_and_a_noted_head_catches_a_truncation(crm, add, db_path):
    for name in ("Ada", "Grace", "Alan"):
        add(name, "Tester")
    verified = crm("audit", "verify")
    assert verified.code == 0
    found = re.search(r"intact: (\d+) entries, last ([0-9a-f]{64})\.", verified.out)
    assert found, verified.out
    count, noted = int(found[1]), found[2]
    as_json = crm("audit", "verify", "--json").json()
    assert (as_json["entries"], as_json["last_hash"]) == (count, noted)

    add("Edsger", "Tester")  # the trail grows: the noted entry is still in it
    assert crm("audit", "verify", "--expect-head", noted[:12]).code == 0

    _remove_last(db_path, 2)
    result = crm("audit", "verify")
    assert result.code == 1 and "Traceback" not in result.err
    assert "crm: the audit trail ends after" in result.err
    assert "entries were removed from the end" in result.err
    # With the head file gone as well, the head noted earlier still catches it.
    (db_path.parent / (db_path.name + ".audit-head")).unlink()
    caught = crm("audit", "verify", "--expect-head", noted[:12])
    assert caught.code == 1 and caught.out == ""
    assert f"has no entry whose hash begins {noted[:12]}, the head you noted" in caught.err


def test_expect_head_must_look_like_a_hash(crm, add):
    add("Ada", "Lovelace")
    assert_error(crm("audit", "verify", "--expect-head", "xyz"), 2, "at least its first 8")
