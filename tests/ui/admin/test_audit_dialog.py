"""File > Audit trail…: the check and the key, as a manager sees them; history shows
an unreadable audit entry as such."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from reads_support import wait_for_reads
from sqlalchemy import update

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import Context
from crm_desktop.services import prospects as P
from crm_desktop.ui.admin.audit_dialog import AuditTrailDialog
from crm_desktop.ui.prospects.history_dialog import HistoryDialog

SHOTS = Path(os.environ.get("CRM_SHOTS", "")) if os.environ.get("CRM_SHOTS") else None


def _shot(widget, name: str, tmp_path: Path) -> None:
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(folder / f"{name}.png"))


def _open(qtbot, ctx) -> AuditTrailDialog:
    dialog = AuditTrailDialog(ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.verified, timeout=10_000):
        dialog.show()
    return dialog


@pytest.fixture
def manager(ctx, add_prospect) -> Context:
    pid = add_prospect("Ada", "Lovelace", role="Head")
    view = P.get_prospect(ctx, pid)
    P.update_prospect(
        ctx, pid, ProspectInput(first_name="Ada", last_name="Lovelace", email=view.email,
                                owner=view.owner, role="Bursar"), reason="typo",
    )  # fmt: skip
    return Context(ctx.db, user="mo", role=Role.MANAGER)


def test_the_check_and_moving_the_key(qtbot, manager, prompter, tmp_path, monkeypatch):
    dialog = _open(qtbot, manager)
    assert "holds the database's audit key" in dialog.key_label.text()
    assert "The audit trail is intact" in dialog.result_label.text()
    assert "every keyed entry was checked" in dialog.result_label.text()
    _shot(dialog, "audit-trail-keyed", tmp_path)

    key = tmp_path / "crm-audit.key"
    prompter.files.append(str(key))
    with qtbot.waitSignal(dialog.keyMoved, timeout=10_000):
        dialog.export_button.click()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "Wrote the audit key" in prompter.messages[-1][2]
    # Exporting over an existing file is refused, and the file is left alone.
    before = key.read_bytes()
    prompter.files.append(str(key))
    assert dialog.export_key() is not None
    qtbot.waitUntil(lambda: bool(prompter.errors()), timeout=10_000)
    assert "already exists" in prompter.errors()[-1] and key.read_bytes() == before
    dialog.close()

    # Another computer: the same database, no key.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "laptop-2"))
    elsewhere = _open(qtbot, manager)
    assert "does not hold the database's audit key" in elsewhere.key_label.text()
    text = elsewhere.result_label.text()
    assert "Intact only as far as this computer can check" in text
    assert "crm audit key import FILE" in text and "Import key" in text
    assert not elsewhere.export_button.isEnabled()
    _shot(elsewhere, "audit-trail-no-key", tmp_path)
    prompter.files.append(str(key))
    with qtbot.waitSignal(elsewhere.verified, timeout=10_000):
        elsewhere.import_button.click()
    assert "holds the database's audit key" in elsewhere.key_label.text()
    assert "The audit trail is intact" in elsewhere.result_label.text()
    _shot(elsewhere, "audit-trail-imported", tmp_path)


def test_a_broken_trail_is_named(qtbot, manager, tmp_path):
    with manager.db.transaction() as session:
        session.execute(
            update(AuditEntry).where(AuditEntry.action == "prospect.edited").values(actor="x")
        )
    dialog = _open(qtbot, manager)
    assert "The audit trail is broken" in dialog.result_label.text()
    assert "was altered" in dialog.result_label.text()
    _shot(dialog, "audit-trail-broken", tmp_path)


def test_only_managers_and_admins_see_the_menu_item(make_window, ctx, manager):
    sales = make_window(Context(ctx.db, user="sam", role=Role.SALES))
    assert not sales.commands.audit_trail.isVisible()
    boss = make_window(manager)
    assert boss.commands.audit_trail.isVisible()
    dialog = boss.audit_trail()
    assert isinstance(dialog, AuditTrailDialog)
    dialog.close()


def test_history_shows_an_unreadable_audit_entry(qtbot, manager, tmp_path):
    with manager.db.transaction() as session:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.action == "prospect.edited")
            .values(values="{not json")
        )
    [person] = P.list_prospects(manager, limit=1)
    dialog = HistoryDialog(manager, P.get_prospect(manager, person.id))
    qtbot.addWidget(dialog)
    dialog.show()
    wait_for_reads(qtbot)  # the events are read on a worker
    model = dialog.model
    rows = [
        [model.data(model.index(r, c)) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]
    edited = [row for row in rows if "Record edited" in row]
    assert len(edited) == 1 and any("cannot be read" in str(cell) for cell in edited[0])
    _shot(dialog, "history-unreadable-entry", tmp_path)
