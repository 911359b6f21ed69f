"""One change signal: no bespoke data-change signal comes back into ui/.

A change to the data is said once, on the window's bus
(``crm_desktop/ui/common/changes.py``: ``bus.publish(Change.of(Kind.X, ids=..., select=...))``),
by the code that ran the service; pages refresh themselves from it. A dialog's
result for a status line is read from the dialog itself on ``accepted`` (or a
worker's ``succeeded``), not sent on a signal of its own.

Qt signals remain for UI state and requests: a selection or a count, a click
asking the window to do something, a worker's progress and outcome, a file
written outside the database. Every ``Signal`` declared under ``crm_desktop/ui``
must be in :data:`UI_STATE` below with the reason it is not a data change;
a new one is refused until someone decides which it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import crm_desktop.ui

UI = Path(crm_desktop.ui.__file__).parent

# "Class.signal": why it is UI state, not a change to the data.
UI_STATE: dict[str, str] = {
    # The one change signal itself, and the palette (colours, not data).
    "ChangeBus.changed": "the bus every data change goes through",
    "_Notifier.changed": "the palette changed (View > Appearance or the desktop)",
    # Selections, counts and values shown.
    "ProspectsPage.selectionChanged": "which row is selected",
    "ProspectsPage.countChanged": "how many rows the search and filters show",
    "ProspectTableModel.countChanged": "how many rows the search and filters show",
    "SchoolsModel.sortRequested": "a header was clicked: the list is read again in that order",
    "SchoolsModel.pageFailed": "a page of the school list could not be read: the message to show",
    "ExportsView.selectionChanged": "which row is selected",
    "DateField.dateChanged": "the value typed or picked in a field (not saved yet)",
    # Requests: a click or key asking the window to do something.
    "ProspectsPage.activated": "Enter or double-click: open the editor",
    "ProspectsPage.fileDropped": "a file dropped on the list: open the import on it",
    "ProspectsPage.bulkRequested": "the selection bar's Change… button",
    "ProspectsPage.deleteManyRequested": "Del with several rows selected: open the bulk Delete",
    "ImportChip.cleared": "a click on the import banner's ×: show every prospect again",
    "BulkBar.selectAllRequested": "a click on Select all N matching",
    "BulkBar.clearRequested": "a click on Clear selection",
    "BulkBar.changeRequested": "a click on Change…",
    "MultiPane.changeRequested": "a click on Change…",
    "FollowUpsView.prospectActivated": "show this prospect on the Prospects page",
    "ImportWizard.showImported": "the person asked to see the imported prospects",
    "ImportWizard.reviewDuplicates": "the person asked to review the duplicates",
    # Workers: progress and outcome of work running off the GUI thread.
    "_WorkerThread.progressChanged": "progress, from the worker thread",
    "_WorkerThread.outcome": "how the work ended, from the worker thread",
    "_ProgressDialog.cancelRequested": "a click on Cancel",
    "BackgroundTask.progressed": "progress",
    "BackgroundTask.succeeded": "the work's result (whoever ran it says the change)",
    "BackgroundTask.failed": "the work's error",
    "BackgroundTask.cancelled": "the work was cancelled",
    "BackgroundTask.finished": "the work ended, however",
    "BulkDialog.started": "the task it started (the task says the change when done)",
    "PendingOptOutsBanner._tried": "a retry's result, from its worker thread",
    # The window.
    "MainWindow.pageShown": "the page on show",
    "MainWindow.databaseChanged": "which database file the window has open",
    # Status messages and checks that change nothing in the database.
    "RequestsView.statusMessage": "a line for the status bar",
    "HistoryDialog.pdfWritten": "a PDF file was written (the status line names it)",
    "AuditTrailDialog.verified": "the trail was checked (a result shown)",
    "AuditTrailDialog.keyMoved": "the audit key was copied to or from a file",
    "_Hub.kept": "an opt-out was kept in a file on this computer (not in the database)",
}


def declared_signals(source: str) -> list[str]:
    """``Class.name`` of every ``name = Signal(...)`` in a class body of ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            value = getattr(statement, "value", None)
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
                continue
            if not isinstance(value, ast.Call):
                continue
            func = value.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called != "Signal":
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            found += [f"{node.name}.{t.id}" for t in targets if isinstance(t, ast.Name)]
    return found


def ui_signals() -> dict[str, list[str]]:
    """Every signal declared under ``crm_desktop/ui``: ``Class.name`` -> the files."""
    signals: dict[str, list[str]] = {}
    for path in sorted(UI.rglob("*.py")):
        for name in declared_signals(path.read_text(encoding="utf-8")):
            signals.setdefault(name, []).append(str(path.relative_to(UI)))
    return signals


def test_the_scan_finds_signals_however_they_are_written():
    source = (
        "from PySide6 import QtCore\n"
        "from PySide6.QtCore import Signal\n"
        "class SchoolDialog:\n"
        "    schoolSaved = Signal(int)\n"
        "    chosen: object = QtCore.Signal()\n"
        "    label = 'Signal'\n"
        "    def build(self):\n"
        "        local = Signal()\n"
    )
    assert declared_signals(source) == ["SchoolDialog.schoolSaved", "SchoolDialog.chosen"]
    assert "ChangeBus.changed" in ui_signals()


def test_every_signal_in_ui_is_ui_state_not_a_data_change():
    unknown = {name: files for name, files in ui_signals().items() if name not in UI_STATE}
    assert not unknown, (
        f"New signals {unknown}. A change to the data is said on the window's bus "
        "(ui/common/changes.py: bus.publish(Change.of(Kind.X, ids=..., select=...))) by "
        "whoever ran the service, and a result for the status line is read from the dialog "
        "on accepted. If a signal is UI state (a selection, a request, a worker's progress), "
        "add it to UI_STATE in this test with the reason."
    )


def test_every_signal_allowed_as_ui_state_still_exists():
    # The allow-list stays the list of signals there are, not of signals there were.
    stale = sorted(set(UI_STATE) - set(ui_signals()))
    assert not stale, f"{stale} are gone: remove them from UI_STATE"
