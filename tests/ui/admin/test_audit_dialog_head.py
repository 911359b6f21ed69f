"""File > Audit trail shows the trail's head (to note and compare) and a truncation verdict."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.roles import Role
from crm_desktop.persistence import audit_head
from crm_desktop.services import Context
from crm_desktop.ui.admin.audit_dialog import AuditTrailDialog

SHOTS = Path(os.environ["CRM_SHOTS"]) if os.environ.get("CRM_SHOTS") else None


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
    for i in range(4):
        add_prospect("Ada", f"Lovelace{i}")
    return Context(ctx.db, user="mo", role=Role.MANAGER)


def test_the_head_is_shown_to_note(qtbot, manager, tmp_path):
    with manager.db.read() as session:
        last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
        count = session.scalar(select(func.count()).select_from(AuditEntry))
    dialog = _open(qtbot, manager)
    text = dialog.result_label.text()
    assert "The audit trail is intact" in text and f"({count:,} entries)" in text
    assert f"Last entry: <tt>{last}</tt>" in text
    _shot(dialog, "audit-trail-head", tmp_path)


def test_entries_removed_from_the_end_are_named(qtbot, manager, tmp_path):
    with manager.db.transaction() as session:
        ids = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        session.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids[-2:])))
    dialog = _open(qtbot, manager)
    text = dialog.result_label.text()
    assert "The audit trail is broken" in text
    assert f"It ends after {len(ids) - 2:,} entries" in text
    assert "2 entries were removed from the end" in text
    _shot(dialog, "audit-trail-truncated", tmp_path)


def test_no_head_record_is_said_plainly(qtbot, manager, tmp_path):
    audit_head.sidecar_path(manager.db.path).unlink()
    dialog = _open(qtbot, manager)
    text = dialog.result_label.text()
    assert "The audit trail is intact" in text
    assert "No head record was found, so entries removed from the end cannot be seen" in text
    _shot(dialog, "audit-trail-no-head", tmp_path)
