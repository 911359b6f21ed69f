"""An opt-out the database cannot take now is kept, shown, retried and then saved.

Another connection holds SQLite's write lock (as a long import in another
program would); the opt-out is clicked through the real dialog. It must be
kept on this computer (0600), listed in the strip above the tabs, and saved
by the background retry as soon as the lock is released, which the strip
then says.
"""

from __future__ import annotations

import json
import sqlite3
import stat

import pytest
from PySide6.QtCore import Qt
from reads_support import wait_for_reads
from ui_shots import save_shot

from crm_desktop.services import marketing, pending
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.marketing import pending_opt_outs
from crm_desktop.ui.marketing.opt_out_dialog import OptOutDialog
from crm_desktop.ui.shell.main_window import MainWindow


@pytest.fixture
def pid(add_prospect) -> int:
    return add_prospect("Ada", "Lovelace", email="ada@oak.sch.uk")


def _open_opt_out(qtbot, window: MainWindow) -> OptOutDialog:
    pane = window.prospects.detail
    qtbot.mouseClick(pane.opt_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(OptOutDialog)))
    dialog = next(d for d in window.findChildren(OptOutDialog) if d.isVisible())
    qtbot.waitExposed(dialog)
    return dialog


def _save(widget, name: str) -> None:
    save_shot(widget, "pending-opt-outs", name)


def test_a_busy_database_keeps_the_opt_out_shows_it_and_saves_it_when_free(
    qtbot, make_window, ctx, pid, monkeypatch
):
    monkeypatch.setattr(pending_opt_outs, "GUI_WAIT_SECONDS", 0.2)
    monkeypatch.setattr(pending_opt_outs, "RETRY_MS", 400)
    window: MainWindow = make_window()
    window.resize(1200, 760)
    assert window.prospects.select_prospect(pid)
    wait_for_reads(qtbot)
    banner = window.pending_opt_outs
    assert not banner.isVisible()
    said = []
    window.bus.changed.connect(said.append)

    holder = sqlite3.connect(ctx.db.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE prospect SET version = version WHERE id = ?", (pid,))
    try:
        dialog = _open_opt_out(qtbot, window)
        qtbot.keyClicks(dialog.reason, "Rang to say stop")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible() and dialog.kept is not None
        qtbot.waitUntil(banner.isVisible)
        text = banner.label.text()
        assert "Not saved yet: 1 opt-out" in text
        assert f"the opt-out of Ada Lovelace (#{pid}) from all channels" in text
        assert "busy" in text and "do not market to" in text
        # It is kept, so the strip does not also say "nothing was saved".
        assert "Last try: The database is busy" in text
        assert "othing was saved" not in text
        # Kept outside the database, for its owner only.
        [kept] = list(pending.folder(ctx.db).glob("*.json"))
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert json.loads(kept.read_text())["reason"] == "Rang to say stop"
        # Still busy: retries leave it kept and shown (reads go on meanwhile).
        qtbot.wait(1_000)
        assert banner.isVisible() and pending.count(ctx.db) == 1
        assert not any(c.opted_out for c in marketing.marketing_view(ctx, pid).channels)
        _save(window, "pending_opt_out_kept")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    qtbot.waitUntil(lambda: "Saved now" in banner.label.text(), timeout=15_000)
    assert "Saved the opt-out of Ada Lovelace" in banner.label.text()
    assert pending.count(ctx.db) == 0
    view = marketing.marketing_view(ctx, pid)
    assert all(c.opted_out and c.opt_out_reason == "Rang to say stop" for c in view.channels)
    # The window's own view of Ada caught up.
    wait_for_reads(qtbot)
    assert "Opted out of all channels" in window.prospects.detail.plain_text()
    assert "Saved the opt-out of Ada Lovelace" in window.statusBar().currentMessage()
    # Kept, nothing changed in the database; saved, the strip says so on the bus.
    assert [c for c in said if Kind.MARKETING in c.kinds] == [
        Change.of(Kind.MARKETING, Kind.SUPPRESSION)
    ]
    _save(window, "pending_opt_out_saved")
    qtbot.mouseClick(banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert not banner.isVisible()
