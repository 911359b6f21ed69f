"""Importing the email tool's unsubscribe file through the GUI."""

from __future__ import annotations

import threading

import pytest
from export_support import build_population
from PySide6.QtCore import Qt

from crm_desktop.services import email_sync, marketing, suppression
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.marketing.unsubscribe_import import SyncReportDialog

TIMEOUT_MS = 20_000


@pytest.fixture
def people(ctx):
    return build_population(ctx)


def email_opted_out(ctx, pid) -> bool:
    view = marketing.marketing_view(ctx, pid)
    return next(c for c in view.channels if c.channel == "email").opted_out


def run_import(qtbot, window, prompter, path) -> SyncReportDialog:
    prompter.files = [str(path)]
    window.commands.import_unsubscribes.trigger()
    qtbot.waitUntil(lambda: window.unsubscribes.report_dialog is not None, timeout=TIMEOUT_MS)
    dialog = window.unsubscribes.report_dialog
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def shown(dialog: SyncReportDialog) -> dict[str, int]:
    return {k: int(label.text().replace(",", "")) for k, label in dialog.value_labels.items()}


def test_a_mailchimp_export_opts_people_out_and_reports_it(
    qtbot, make_window, ctx, people, tmp_path, prompter
):
    path = tmp_path / "unsubscribed_members_export.csv"
    path.write_text(
        "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME\n"
        "LIA@oakfield.sch.uk,Lia,Note,2,2025-01-01\n"
        "otto@oakfield.sch.uk,Otto,Out,2,2025-01-01\n"
        "stranger@example.org,,,1,\n"
        "not-an-address,,,1,\n"
        "lia@oakfield.sch.uk,Lia,Note,2,2025-01-01\n",
        encoding="utf-8",
    )
    window = make_window()
    assert window.prospects.select_prospect(people.li_note)
    refreshed = []
    real_refresh = window.prospects.refresh_rows
    window.prospects.refresh_rows = lambda: (refreshed.append(1), real_refresh())
    said = []
    window.bus.changed.connect(said.append)

    dialog = run_import(qtbot, window, prompter, path)
    assert shown(dialog) == {
        "rows": 5,
        "matched": 1,
        "already_opted_out": 1,
        "new": 1,
        "already_suppressed": 0,
        "duplicates": 1,
        "invalid": 1,
    }
    assert dialog.examples is not None and dialog.examples.toPlainText() == "not-an-address"
    assert dialog.summary_label.text().startswith("1 prospect is now opted out of email")
    assert email_opted_out(ctx, people.li_note)
    assert not email_opted_out(ctx, people.consented)
    assert suppression.lookup(ctx, "stranger@example.org")
    assert refreshed  # the prospects table and detail pane were re-read
    assert said == [Change.of(Kind.MARKETING, Kind.SUPPRESSION)]  # said once, by the import
    assert window.prospects.selected_id() == people.li_note
    assert "1 opted out" in window.statusBar().currentMessage()

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.unsubscribes.report_dialog is None)


def test_a_plain_list_one_address_a_line(qtbot, make_window, ctx, people, tmp_path, prompter):
    path = tmp_path / "bounces.txt"
    path.write_text("rita@oakfield.sch.uk\n\nconnie@oakfield.sch.uk\nghost@example.org\n")
    suppression.suppress(ctx, "ghost@example.org", channel="email")
    window = make_window()
    dialog = run_import(qtbot, window, prompter, path)
    counts = shown(dialog)
    assert (counts["rows"], counts["matched"], counts["already_suppressed"]) == (3, 2, 1)
    assert counts["invalid"] == 0 and dialog.examples is None
    assert email_opted_out(ctx, people.refuses) and email_opted_out(ctx, people.consented)
    dialog.reject()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not a text file"),
        (b"Name,Company\nLia,Oakfield\n", "has no email column"),
    ],
)
def test_a_file_that_is_not_an_unsubscribe_list_changes_nothing(
    qtbot, make_window, ctx, people, tmp_path, prompter, content, message
):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    before = suppression.count(ctx)
    window = make_window()
    prompter.files = [str(path)]
    task = window.import_unsubscribes()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        pass
    [error] = prompter.errors()
    assert message in error and "Nothing was changed" in error
    assert window.unsubscribes.report_dialog is None
    assert suppression.count(ctx) == before
    assert not email_opted_out(ctx, people.li_note)


def test_choosing_no_file_does_nothing(qtbot, make_window, prompter):
    window = make_window()
    prompter.files = [None]
    assert window.import_unsubscribes() is None
    assert prompter.messages == []


def test_cancel_applies_nothing_and_says_so(
    qtbot, make_window, ctx, people, tmp_path, prompter, monkeypatch
):
    path = tmp_path / "big.csv"
    path.write_text("Email\nlia@oakfield.sch.uk\n" + "".join(f"x{i}@e.org\n" for i in range(600)))
    release, entered = threading.Event(), threading.Event()
    real = email_sync.import_unsubscribes

    def gated(ctx, path, *, progress=None, should_cancel=None):
        def check() -> bool:
            entered.set()
            release.wait(TIMEOUT_MS / 1000)
            return should_cancel()

        return real(ctx, path, progress=progress, should_cancel=check)

    monkeypatch.setattr(email_sync, "import_unsubscribes", gated)
    window = make_window()
    prompter.files = [str(path)]
    task = window.import_unsubscribes()
    assert entered.wait(TIMEOUT_MS / 1000)  # at its first check, 500 rows in
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible())
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        qtbot.keyClick(task.dialog, Qt.Key.Key_Escape)
        release.set()
    assert prompter.messages[-1][2] == "Import cancelled; nothing was changed."
    assert not email_opted_out(ctx, people.li_note)
    assert not suppression.lookup(ctx, "x1@e.org")
