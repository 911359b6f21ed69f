"""Prospect > History…: every kind shown, filters narrow the rows, PDF printed."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from history_support import build_full_history
from PySide6.QtCore import Qt
from reads_support import wait_for_reads

from crm_desktop.domain.roles import Role
from crm_desktop.services import Context
from crm_desktop.services import prospects as P
from crm_desktop.ui.prospects.history_dialog import KIND, HistoryDialog


@pytest.fixture
def dialog(qtbot, ctx, tmp_path):
    pid = build_full_history(ctx, tmp_path)
    d = HistoryDialog(ctx, P.get_prospect(ctx, pid))
    qtbot.addWidget(d)
    wait_for_reads(qtbot)  # the events are read on a worker
    return d


def _kinds(d: HistoryDialog) -> set[str]:
    m = d.model
    return {m.data(m.index(r, KIND)) for r in range(m.rowCount())}


def test_shows_every_kind_and_filters_narrow(qtbot, dialog, qtmodeltester, tmp_path):
    assert dialog.windowTitle() == "History of Hattie Bloom"
    assert _kinds(dialog) == {"Correspondence", "Consent", "Edit", "Export", "Request"}
    all_rows = dialog.model.rowCount()
    qtmodeltester.check(dialog.model)
    dialog.show()
    dialog.grab().save(str(tmp_path / "history.png"))

    dialog.kind_boxes["consent"].setChecked(False)
    dialog.kind_boxes["edit"].setChecked(False)
    wait_for_reads(qtbot)
    assert _kinds(dialog) == {"Correspondence", "Export", "Request"}
    assert 0 < dialog.model.rowCount() < all_rows
    qtmodeltester.check(dialog.model)

    dialog.set_range(None, date.today() - timedelta(days=1))
    wait_for_reads(qtbot)
    assert dialog.model.rowCount() == 0
    assert "No events" in dialog.status.text()
    dialog.set_range(date.today(), date.today())
    wait_for_reads(qtbot)
    assert dialog.model.rowCount() == 3


def test_print_to_pdf_and_refuse_existing(qtbot, dialog, prompter, tmp_path):
    target = tmp_path / "hattie-history"
    prompter.files.append(str(target))
    with qtbot.waitSignal(dialog.pdfWritten, timeout=20_000) as written:
        assert dialog.print_pdf() is not None
    path = tmp_path / "hattie-history.pdf"
    assert written.args == [str(path)]
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert not list(tmp_path.glob(".*.part"))

    prompter.files.append(str(path))
    assert dialog.print_pdf() is None
    assert any("already exists" in e for e in prompter.errors())
    assert path.read_bytes() == data


def test_menu_action_needs_the_audit_right_and_a_selection(qtbot, make_window, ctx, tmp_path):
    pid = build_full_history(ctx, tmp_path)
    manager = make_window(Context(ctx.db, user="m", role=Role.MANAGER))
    action = manager.commands.prospect_history
    assert action.isVisible() and not action.isEnabled()  # nobody selected yet
    assert manager.prospects.select_prospect(pid)
    assert action.isEnabled()
    dialog = manager.prospect_history()
    assert dialog.windowTitle() == "History of Hattie Bloom"
    wait_for_reads(qtbot)
    assert dialog.model.rowCount() > 0
    dialog.close()
    sales = make_window(Context(ctx.db, user="s", role=Role.SALES))
    assert not sales.commands.prospect_history.isVisible()


def test_the_date_filters_are_typed_and_cleared(qtbot, dialog):
    dialog.show()
    all_rows = dialog.model.rowCount()
    assert all_rows > 0
    edit = dialog.to_edit.edit
    assert edit.placeholderText() == "Any"
    edit.setFocus()
    yesterday = date.today() - timedelta(days=1)
    qtbot.keyClicks(edit, f"{yesterday.day} {yesterday:%b %Y}")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    wait_for_reads(qtbot)
    assert dialog.model.rowCount() == 0
    edit.selectAll()
    qtbot.keyClicks(edit, "30 Feb")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert "is not a date" in dialog.to_edit.message.text()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)  # empty again: any date
    assert dialog.to_edit.date() is None and dialog.to_edit.is_valid()
    wait_for_reads(qtbot)
    assert dialog.model.rowCount() == all_rows


def test_the_events_are_read_off_the_gui_thread_and_shown(qtbot, ctx, tmp_path, monkeypatch):
    from crm_desktop.services import history

    pid = build_full_history(ctx, tmp_path)
    threads = []
    real = history.history

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(history, "history", recording)
    d = HistoryDialog(ctx, P.get_prospect(ctx, pid))
    qtbot.addWidget(d)
    qtbot.waitUntil(lambda: d.model.rowCount() > 0)
    assert threads and threading.main_thread() not in threads
    assert _kinds(d) == {"Correspondence", "Consent", "Edit", "Export", "Request"}
    assert d.status.text().endswith("· All kinds")


def test_a_pdf_printed_while_a_read_runs_names_the_filters_of_the_rows_shown(
    qtbot, dialog, prompter, tmp_path, monkeypatch
):
    from crm_desktop.ui.prospects import history_dialog

    seen = []
    monkeypatch.setattr(
        history_dialog, "history_html", lambda name, events, filters: seen.append(filters) or ""
    )
    monkeypatch.setattr(history_dialog, "write_history_pdf", lambda target, *a: target)
    dialog.kind_boxes["consent"].setChecked(False)  # a read starts; the rows are all kinds still
    prompter.files.append(str(tmp_path / "h.pdf"))
    with qtbot.waitSignal(dialog.pdfWritten, timeout=20_000):
        dialog.print_pdf()
    assert seen == ["All kinds"]
