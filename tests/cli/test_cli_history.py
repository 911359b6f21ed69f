"""``crm history``: the merged timeline as JSON and text, filtered by kind and date."""

from __future__ import annotations

from history_support import EMAIL, build_full_history

from crm_desktop.persistence import open_database
from crm_desktop.services.context import Context


def _build(db_path, tmp_path) -> int:
    db = open_database(db_path, create=True)
    try:
        return build_full_history(Context(db, user="alice"), tmp_path)
    finally:
        db.dispose()


def test_json_has_every_kind_and_kind_filter_narrows(crm, db_path, tmp_path):
    pid = _build(db_path, tmp_path)
    result = crm("history", EMAIL, "--json")
    assert result.code == 0, result
    data = result.json()
    assert data["prospect_id"] == pid
    kinds = [e["kind"] for e in data["events"]]
    assert set(kinds) == {"correspondence", "consent", "edit", "export", "request"}
    edit = next(e for e in data["events"] if e["title"] == "Record edited")
    assert edit["detail"] == "Job role: Teacher → Headteacher"

    narrowed = crm("history", f"#{pid}", "--json", "--kind", "edit", "--kind", "export").json()
    assert {e["kind"] for e in narrowed["events"]} == {"edit", "export"}
    assert len(narrowed["events"]) == 4


def test_text_and_date_filter_and_bad_input(crm, db_path, tmp_path):
    _build(db_path, tmp_path)
    text = crm("history", EMAIL)
    assert text.code == 0 and "History of Hattie Bloom" in text.out
    assert "Teacher → Headteacher" in text.out
    empty = crm("history", EMAIL, "--until", "2000-01-01")
    assert empty.code == 0 and "Nothing recorded" in empty.out
    assert crm("history", EMAIL, "--kind", "gossip").code == 2
    bad = crm("history", EMAIL, "--since", "yesterday")
    assert bad.code != 0 and "not a date" in bad.err
