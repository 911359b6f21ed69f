"""The desktop app says "erased, clean-up pending", never "nothing was saved" (issue 11, 4)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from PySide6.QtCore import QItemSelectionModel
from reads_support import wait_for_reads

from crm_desktop.domain.validation import ContactInput
from crm_desktop.persistence.db import Database
from crm_desktop.services import cleanup, prospects, retention
from crm_desktop.services import correspondence as C
from crm_desktop.ui.privacy.retention_page import RetentionDialog
from crm_desktop.ui.privacy.rights_dialogs import EraseDialog

TIMEOUT = 30_000


def _fail_clean_up(monkeypatch) -> None:
    """The clean-up fails as on a full disk (after the erasure was committed)."""

    def disk_full(cur, reader_wait_ms):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Database, "_scrub_statements", staticmethod(disk_full))


def test_erase_dialog_says_erased_and_that_the_clean_up_is_pending(
    qtbot, ctx, add_prospect, prompter, monkeypatch
):
    pid = add_prospect("Ada", "Lovelace")
    _fail_clean_up(monkeypatch)
    dialog = EraseDialog(ctx, prospects.get_prospect(ctx, pid))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.confirm, "Ada Lovelace")
    with qtbot.waitSignal(dialog.bus.changed, timeout=TIMEOUT):
        dialog.erase_button.click()
    assert prospects.get_prospect(ctx, pid).erased_at is not None
    assert not dialog.isVisible()  # done: the erasure stands
    assert prompter.errors() == []  # no "Not erased", no "nothing was saved"
    [(level, title, text)] = prompter.messages
    assert (level, title) == ("warning", "Erased; clean-up not finished")
    assert text.startswith("Ada Lovelace was erased: anonymised and their addresses suppressed.")
    assert "has not finished: the disk is full" in text
    assert "crm erase --finish-cleanup" in text and "next start" in text
    assert "nothing was saved" not in text and "no trace" not in text
    assert cleanup.owed_token(ctx.db) is not None


def test_erase_dialog_says_nothing_more_when_the_clean_up_finished(
    qtbot, ctx, add_prospect, prompter
):
    pid = add_prospect("Ada", "Lovelace")
    dialog = EraseDialog(ctx, prospects.get_prospect(ctx, pid))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.confirm, "Ada Lovelace")
    with qtbot.waitSignal(dialog.bus.changed, timeout=TIMEOUT):
        dialog.erase_button.click()
    assert prompter.messages == []
    assert cleanup.owed_token(ctx.db) is None


def test_retention_anonymise_says_the_clean_up_is_pending(
    qtbot, ctx, add_prospect, prompter, monkeypatch
):
    pid = add_prospect("Old", "Smith")
    day = retention.add_months(datetime.now(UTC).date(), -30)
    when = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    C.log_contact(ctx, pid, ContactInput(kind="call", summary="A call", occurred_at=when))
    _fail_clean_up(monkeypatch)
    dialog = RetentionDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_for_reads(qtbot)  # the queue is read on a worker
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    dialog.view.selectionModel().select(dialog.model.index(0, 0), flags)
    prompter.answers = [True]
    with qtbot.waitSignal(dialog.bus.changed, timeout=TIMEOUT):
        dialog.anonymise_button.click()
    assert prospects.get_prospect(ctx, pid).erased_at is not None
    assert prompter.errors() == []
    [(level, title, text)] = prompter.messages
    assert (level, title) == ("warning", "Anonymised; clean-up not finished")
    assert text.startswith("1 person was anonymised and their addresses suppressed.")
    assert "has not finished: the disk is full" in text
