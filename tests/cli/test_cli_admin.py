"""Users and signing in, backups, restore and the audit trail from the command line."""

import sqlite3

import pytest
from cli_support import assert_error

OWNER_PW = "owner long password"
BOB_PW = "bobs long password"


@pytest.fixture
def team(crm, monkeypatch):
    """A database with its owner (admin, password set) and bob (sales)."""
    assert crm("init").code == 0
    owner = crm("user", "list", "--json").json()[0]
    monkeypatch.setenv("CRM_NEW_PASSWORD", OWNER_PW)
    assert crm("user", "passwd").code == 0
    monkeypatch.setenv("CRM_NEW_PASSWORD", BOB_PW)
    assert crm("user", "add", "bob", "--role", "sales").code == 0
    monkeypatch.delenv("CRM_NEW_PASSWORD")
    return owner["username"]


def test_single_user_database_needs_no_sign_in(crm):
    listing = crm("user", "list", "--json")
    assert listing.code == 0
    [owner] = listing.json()
    assert owner["role"] == "admin" and owner["has_password"] is False
    assert_error(crm("--user", "nobody", "prospect", "list"), 1, "has one user")


def test_second_user_needs_the_owner_password_first(crm, monkeypatch):
    monkeypatch.setenv("CRM_NEW_PASSWORD", BOB_PW)
    assert_error(crm("user", "add", "bob", "--role", "sales"), 1, "Set your own password first")
    monkeypatch.setenv("CRM_NEW_PASSWORD", "too short")
    assert_error(crm("user", "passwd"), 1, "at least 12 characters")


def test_everyone_signs_in_once_there_are_two(crm, team, monkeypatch):
    assert_error(crm("prospect", "list"), 1, "several users", "--user")
    monkeypatch.setenv("CRM_PASSWORD", "wrong password!")
    assert_error(crm("--user", "bob", "prospect", "list"), 1, "Unknown user name or wrong password")
    monkeypatch.setenv("CRM_PASSWORD", BOB_PW)
    # The growing delay: even the right password is refused straight after a failure.
    assert_error(crm("--user", "bob", "prospect", "list"), 1, "wait")


def test_roles_are_enforced_from_the_cli(crm, team, monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_USER", "bob")
    monkeypatch.setenv("CRM_PASSWORD", BOB_PW)
    assert crm("prospect", "list").code == 0
    assert_error(
        crm("export", "--channel", "email", "--out", str(tmp_path / "x.csv")),
        1,
        "Not permitted: bob (sales) may not export campaign lists",
    )
    assert not (tmp_path / "x.csv").exists()
    assert_error(crm("user", "list"), 1, "Not permitted")
    assert_error(crm("backup"), 1, "Not permitted")
    monkeypatch.setenv("CRM_USER", team)
    monkeypatch.setenv("CRM_PASSWORD", OWNER_PW)
    users = crm("user", "list", "--json").json()
    assert {u["username"]: u["role"] for u in users} == {team: "admin", "bob": "sales"}
    assert crm("user", "deactivate", "bob").code == 0
    monkeypatch.setenv("CRM_USER", "bob")
    monkeypatch.setenv("CRM_PASSWORD", BOB_PW)
    assert_error(crm("prospect", "list"), 1, "Unknown user name or wrong password")


def test_backup_restore_and_audit(crm, add, db_path, tmp_path):
    add("Ada", "Lovelace")
    out = tmp_path / "copy.db"
    result = crm("backup", "--out", str(out), "--json")
    assert result.code == 0 and result.json()["file"] == str(out)
    add("Grace", "Hopper")
    assert len(crm("prospect", "list", "--json").json()) == 2
    assert_error(crm("restore", str(out)), 1, "--yes")
    restored = crm("restore", str(out), "--yes")
    assert restored.code == 0 and "previous database is kept" in restored.out
    assert [p["last_name"] for p in crm("prospect", "list", "--json").json()] == ["Lovelace"]
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert_error(crm("restore", str(junk), "--yes"), 1, "not a CRM Desktop database")
    assert crm("audit", "verify").code == 0


def test_audit_verify_exits_non_zero_and_names_the_bad_entry(crm, team, db_path, monkeypatch):
    monkeypatch.setenv("CRM_USER", team)
    monkeypatch.setenv("CRM_PASSWORD", OWNER_PW)
    assert crm("audit", "verify").code == 0
    con = sqlite3.connect(db_path)
    second = con.execute("SELECT id FROM audit_entry ORDER BY id LIMIT 1 OFFSET 1").fetchone()[0]
    con.execute("DELETE FROM audit_entry WHERE id = ?", (second,))
    con.commit()
    con.close()
    result = crm("audit", "verify")
    assert result.code == 1 and f"entry {second + 1} does not follow" in result.err


@pytest.mark.parametrize(
    ("column", "junk", "problem"),
    [
        ("values", "{not json", "has values that cannot be read"),
        ("value_hashes", "{not json", "was altered"),
        ("values", '{"role": {"new": null, "old": null}}', "blanked"),
        ("reason", None, "blanked"),
    ],
)
def test_audit_verify_names_an_unreadable_or_blanked_entry(
    crm, add, db_path, column, junk, problem
):
    ada = add("Ada", "Lovelace", role="Head")
    assert crm("prospect", "edit", str(ada["id"]), "--role=Bursar", "--reason=typo").code == 0
    con = sqlite3.connect(db_path)
    [edit] = con.execute("SELECT id FROM audit_entry WHERE action = 'prospect.edited'").fetchall()
    con.execute(f'UPDATE audit_entry SET "{column}" = ? WHERE id = ?', (junk, edit[0]))
    con.commit()
    con.close()
    result = crm("audit", "verify")
    assert result.code == 1 and result.out == "" and "Traceback" not in result.err
    assert f"entry {edit[0]} " in result.err and problem in result.err
    as_json = crm("audit", "verify", "--json")
    assert as_json.code == 1 and as_json.json()["first_bad_id"] == edit[0]
