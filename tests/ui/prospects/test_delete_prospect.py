"""Deleting a prospect from the window: what the question says, and what the audit trail keeps."""

from PySide6.QtCore import Qt
from sqlalchemy import select

from crm_desktop.domain.models import AuditEntry
from crm_desktop.services import audit, prospects


def test_delete_says_it_blanks_the_audit_trail_and_does_so(
    qtbot, make_window, ctx, add_prospect, prompter
):
    keep = add_prospect("Marie", "Curie")
    gone = add_prospect("Pierre", "Curie", role="Physicist")
    window = make_window()
    window.prospects.select_prospect(gone)
    window.prospects.table.setFocus()
    prompter.answers = [True]
    qtbot.keyClick(window.prospects.table, Qt.Key.Key_Delete)
    [(title, question)] = prompter.questions
    assert "Delete Pierre Curie" in question
    assert "blanked in the audit trail" in question and "not suppressed" in question
    assert "Erase person" in question
    assert prospects.count_prospects(ctx) == 1
    with ctx.db.read() as session:
        stored = " ".join(f"{e.values} {e.reason}" for e in session.scalars(select(AuditEntry)))
    assert "Pierre" not in stored and "Physicist" not in stored and "Marie" in stored
    assert audit.verify(ctx).ok
    assert prospects.get_prospect(ctx, keep).full_name == "Marie Curie"
