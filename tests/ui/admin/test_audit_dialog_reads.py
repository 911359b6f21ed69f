"""The audit dialog reads whether this computer holds the key on the check's worker."""

from __future__ import annotations

import threading

from crm_desktop.domain.roles import Role
from crm_desktop.services import Context, audit_key
from crm_desktop.ui.admin.audit_dialog import AuditTrailDialog


def test_the_key_status_is_read_off_the_gui_thread_with_the_check(
    qtbot, ctx, add_prospect, monkeypatch
):
    add_prospect("Ada", "Lovelace")  # an audited write: the trail is keyed
    manager = Context(ctx.db, user="mo", role=Role.MANAGER)
    threads = []
    real = audit_key.key_status

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(audit_key, "key_status", recording)
    dialog = AuditTrailDialog(manager)
    qtbot.addWidget(dialog)
    # Nothing is read before the dialog shows; export waits for the key's status.
    assert threads == [] and not dialog.export_button.isEnabled()
    with qtbot.waitSignal(dialog.verified, timeout=10_000):
        dialog.show()
    assert threads and threading.main_thread() not in threads
    assert "holds the database's audit key" in dialog.key_label.text()
    assert dialog.export_button.isEnabled()
