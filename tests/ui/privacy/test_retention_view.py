"""File > Retention review…: the queue, Keep and Anonymise in the desktop app."""

import threading
from datetime import UTC, datetime

from PySide6.QtCore import QItemSelectionModel
from reads_support import wait_for_reads

from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ContactInput
from crm_desktop.services import Context, prospects, retention
from crm_desktop.services import correspondence as C
from crm_desktop.ui.common.changes import Kind
from crm_desktop.ui.privacy.retention_page import EMPTY_TEXT, RetentionDialog, RetentionModel

TIMEOUT = 30_000


def _contact(ctx, pid: int, months_ago: int) -> None:
    day = retention.add_months(datetime.now(UTC).date(), -months_ago)
    when = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    C.log_contact(ctx, pid, ContactInput(kind="call", summary="A call", occurred_at=when))


def _people(ctx, add_prospect) -> dict[str, int]:
    ids = {name: add_prospect(name, "Smith") for name in ("Old", "Older", "Recent", "Never")}
    _contact(ctx, ids["Old"], 30)
    _contact(ctx, ids["Older"], 50)
    _contact(ctx, ids["Recent"], 3)
    return ids


def _dialog(qtbot, ctx) -> RetentionDialog:
    dialog = RetentionDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_for_reads(qtbot)  # the queue is read on a worker
    return dialog


def _names(dialog: RetentionDialog) -> list[str]:
    m = dialog.model
    return [m.index(r, 0).data() for r in range(m.rowCount())]


def _select(dialog: RetentionDialog, *rows: int) -> None:
    sel = dialog.view.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for r in rows:
        sel.select(dialog.model.index(r, 0), flags)


def test_model_passes_the_model_tester(qtmodeltester, ctx, add_prospect):
    _people(ctx, add_prospect)
    model = RetentionModel(ctx)
    model.reload()
    qtmodeltester.check(model)
    assert model.rowCount() == 2


def test_model_fetches_more_in_pages(ctx, add_prospect, monkeypatch):
    monkeypatch.setattr("crm_desktop.ui.privacy.retention_page.PAGE", 2)
    for i in range(5):
        _contact(ctx, add_prospect(f"P{i}", "Smith"), 40 - i)
    model = RetentionModel(ctx)
    model.reload()
    assert model.rowCount() == 2 and model.canFetchMore()
    model.fetchMore()
    model.fetchMore()
    assert model.rowCount() == 5 and not model.canFetchMore()
    assert [model.index(r, 0).data() for r in range(5)] == [f"P{i} Smith" for i in range(5)]


def test_queue_shows_the_due_people_oldest_first(qtbot, ctx, add_prospect):
    _people(ctx, add_prospect)
    dialog = _dialog(qtbot, ctx)
    assert _names(dialog) == ["Older Smith", "Old Smith"]
    assert dialog.model.index(0, 2).data() != "Never"
    assert dialog.stack.currentWidget() is dialog.view
    assert "2 people are due" in dialog.summary.text()
    assert dialog.months.value() == 24 and dialog.months.isEnabled()


def test_empty_state(qtbot, ctx, add_prospect):
    add_prospect("New", "Person")
    dialog = _dialog(qtbot, ctx)
    assert dialog.stack.currentWidget() is dialog.empty
    assert dialog.empty.text() == EMPTY_TEXT
    assert not dialog.keep_button.isEnabled() and not dialog.anonymise_button.isEnabled()


def test_keep_needs_a_reason_and_takes_them_off(qtbot, ctx, add_prospect):
    ids = _people(ctx, add_prospect)
    dialog = _dialog(qtbot, ctx)
    _select(dialog, 1)  # Old Smith
    assert not dialog.keep_button.isEnabled()
    qtbot.keyClicks(dialog.reason, "Still in talks about a trial")
    assert dialog.keep_button.isEnabled()
    with qtbot.waitSignal(dialog.bus.changed) as changed:
        dialog.keep_button.click()
    assert changed.args[0].kinds == {Kind.DATABASE}
    wait_for_reads(qtbot)
    assert _names(dialog) == ["Older Smith"]
    assert dialog.summary.text().startswith("Kept 1. 1 person is due for review")
    assert retention.review_queue(ctx)[0].id == ids["Older"]
    assert dialog.reason.text() == ""


def test_anonymise_asks_then_erases_in_the_background(qtbot, ctx, add_prospect, prompter):
    ids = _people(ctx, add_prospect)
    dialog = _dialog(qtbot, ctx)
    _select(dialog, 0, 1)
    assert dialog.selected_ids() == [ids["Older"], ids["Old"]]
    prompter.answers = [False]
    assert dialog.anonymise_selected() is None
    assert prospects.get_prospect(ctx, ids["Old"]).erased_at is None
    title, text = prompter.questions[-1]
    assert "these 2 people" in text and "cannot be undone" in text
    prompter.answers = [True]
    with qtbot.waitSignal(dialog.bus.changed, timeout=TIMEOUT):
        dialog.anonymise_button.click()
    wait_for_reads(qtbot)
    for name in ("Old", "Older"):
        view = prospects.get_prospect(ctx, ids[name])
        assert view.erased_at is not None and view.email is None
    assert prospects.get_prospect(ctx, ids["Recent"]).erased_at is None
    assert dialog.stack.currentWidget() is dialog.empty
    assert prompter.errors() == []


def test_months_setting_is_admin_only_in_the_dialog(qtbot, ctx, add_prospect):
    _people(ctx, add_prospect)
    manager = Context(ctx.db, user="meg", role=Role.MANAGER)
    dialog = _dialog(qtbot, manager)
    assert not dialog.months.isEnabled() and not dialog.save_months.isVisibleTo(dialog)
    admin = _dialog(qtbot, ctx)
    admin.months.setValue(60)
    assert admin.apply_months()
    assert retention.get_retention_months(ctx) == 60
    wait_for_reads(qtbot)
    assert _names(admin) == []


def test_menu_action_is_for_managers_and_opens_the_dialog(window, ctx, make_window):
    assert window.commands.retention_review.isVisible()
    dialog = window.retention_review()
    assert isinstance(dialog, RetentionDialog) and dialog.isVisible()
    dialog.close()
    sales = make_window(Context(ctx.db, user="sam", role=Role.SALES))
    assert not sales.commands.retention_review.isVisible()


def test_the_queue_is_read_off_the_gui_thread_and_shown(qtbot, ctx, add_prospect, monkeypatch):
    _people(ctx, add_prospect)
    threads = []

    def recording(real):
        def read(*args, **kwargs):
            threads.append(threading.current_thread())
            return real(*args, **kwargs)

        return read

    for name in ("count_due", "review_queue"):
        monkeypatch.setattr(retention, name, recording(getattr(retention, name)))
    dialog = RetentionDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.months.value() == 24  # the period is there at once
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2)
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert _names(dialog) == ["Older Smith", "Old Smith"]
    assert "2 people are due" in dialog.summary.text()
