"""crm restrict / unrestrict / erase."""

from cli_support import assert_error


def test_restrict_blocks_edits_until_lifted(crm, add):
    person = add("Ada", "Lovelace")
    ref = str(person["id"])
    result = crm("restrict", ref, "--reason", "Accuracy contested")
    assert result.code == 0 and "Restricted Ada Lovelace" in result.out
    assert_error(crm("prospect", "edit", ref, "--stage", "trial"), 1, "restricted")
    assert crm("unrestrict", ref, "--reason", "Fixed").code == 0
    assert crm("prospect", "edit", ref, "--stage", "trial").code == 0


def test_erase_needs_yes_and_leaves_a_suppressed_tombstone(crm, add):
    person = add("Ada", "Lovelace")
    assert_error(crm("erase", person["email"]), 1, "--yes")
    result = crm("erase", person["email"], "--yes", "--json")
    assert result.code == 0
    assert result.json()["first_name"] == "Erased" and result.json()["email"] is None
    assert crm("suppressed", person["email"]).code == 0
    assert crm("audit", "verify").code == 0
    assert_error(crm("erase", str(person["id"]), "--yes"), 1, "already erased")


def test_rectification_edit_records_the_request_and_reason(crm, add, db_path):
    from crm_desktop.persistence import open_database
    from crm_desktop.services import audit
    from crm_desktop.services.context import Context

    person = add("Ada", "Lovelase")
    result = crm("prospect", "edit", str(person["id"]), "--last-name", "Lovelace",
                 "--request", "3", "--reason", "Surname misspelt")  # fmt: skip
    assert result.code == 0
    db = open_database(db_path)
    entry = audit.entries(Context(db, "x"), entity="prospect", entity_id=person["id"])[0]
    db.dispose()
    assert entry.values == {"last_name": {"old": "Lovelase", "new": "Lovelace"}}
    assert entry.reason == "Rectification request #3: Surname misspelt"
