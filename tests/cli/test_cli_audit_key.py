"""``crm audit key`` moves the audit key; ``crm audit verify`` says what the key covered.

Also: an audit entry whose stored values are not JSON shows as unreadable in
``crm history``, never as a traceback.
"""

from __future__ import annotations

import sqlite3
import stat

import pytest
from cli_support import assert_error


def test_verify_export_and_import_of_the_key(crm, add, db_path, tmp_path, monkeypatch):
    add("Ada", "Lovelace")
    verified = crm("audit", "verify")
    assert verified.code == 0 and "every keyed entry was checked" in verified.out
    shown = crm("audit", "key", "show")
    assert shown.code == 0 and "holds the database's audit key" in shown.out
    key = tmp_path / "audit.key"
    exported = crm("audit", "key", "export", str(key))
    assert exported.code == 0 and "Whoever has this file can rewrite" in exported.out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert_error(crm("audit", "key", "export", str(key)), 1, "already exists")
    assert crm("audit", "key", "export", str(key), "--overwrite").code == 0

    # A second computer: the same database, no key.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "laptop-2"))
    shown = crm("audit", "key", "show", "--json")
    assert shown.code == 0 and shown.json()["held"] is False
    verified = crm("audit", "verify")
    assert verified.code == 1 and "Traceback" not in verified.err
    assert "only their links were checked" in verified.err
    assert "'crm audit key import FILE'" in verified.err
    as_json = crm("audit", "verify", "--json").json()
    assert as_json["ok"] is True and as_json["complete"] is False and as_json["unchecked"] > 0
    # Working on without the key is never refused.
    add("Grace", "Hopper")
    imported = crm("audit", "key", "import", str(key))
    assert imported.code == 0 and "Imported 1 audit key" in imported.out
    again = crm("audit", "key", "import", str(key))
    assert again.code == 0 and "nothing was added" in again.out
    assert crm("audit", "verify").code == 0


def test_a_file_that_is_not_a_key_is_refused_in_one_line(crm, add, tmp_path):
    add("Ada", "Lovelace")
    junk = tmp_path / "junk.key"
    junk.write_bytes(b"\x00\xffnot a key")
    assert_error(crm("audit", "key", "import", str(junk)), 1, "not an audit key file")
    assert_error(crm("audit", "key", "import", str(tmp_path / "none.key")), 1, "Cannot read")


@pytest.mark.parametrize("junk", ["{not json", "", "[1, 2]", "null"])
def test_history_shows_an_unreadable_audit_entry_instead_of_failing(crm, add, db_path, junk):
    ada = add("Ada", "Lovelace", role="Head")
    assert crm("prospect", "edit", str(ada["id"]), "--role=Bursar").code == 0
    con = sqlite3.connect(db_path)
    con.execute("UPDATE audit_entry SET \"values\" = ? WHERE action = 'prospect.edited'", (junk,))
    con.commit()
    con.close()
    shown = crm("history", str(ada["id"]), "--kind", "edit")
    assert shown.code == 0 and "Traceback" not in shown.err
    assert "Record edited" in shown.out and "cannot be read" in shown.out
    as_json = crm("history", str(ada["id"]), "--json").json()
    edited = [e for e in as_json["events"] if e["title"] == "Record edited"]
    assert len(edited) == 1 and "cannot be read" in edited[0]["detail"]
    assert crm("audit", "verify").code == 1
