"""The prospect list limited to one import: the wizard's "Show imported", the banner
above the table, the other filters with it, "all matching" on it, and Del with
several prospects selected."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard
from reads_support import wait_for_reads

from crm_desktop.domain.validation import ProspectInput
from crm_desktop.persistence import open_database
from crm_desktop.services import bulk as B
from crm_desktop.services import import_batches
from crm_desktop.services import prospects as P
from crm_desktop.services.context import Context
from crm_desktop.services.imports import ImportOptions, run_import
from crm_desktop.ui.common import workers
from crm_desktop.ui.imports.import_wizard import ImportWizard
from crm_desktop.ui.prospects.bulk_dialog import BulkDialog

TIMEOUT_MS = 20_000
LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
HEADERS = ("First name", "Last name", "Email", "School")


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    yield
    assert workers.cancel_all_and_wait(TIMEOUT_MS)


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


BETT = [
    ["Ada", "Lovelace", "ada@example.sch.uk", "Hill School"],
    ["Grace", "Hopper", "grace@example.sch.uk", "Vale Academy"],
    ["Alan", "Turing", "alan@example.sch.uk", "Hill School"],
]


def imported(ctx, tmp_path, rows=BETT, name="bett.csv", source="Bett 2026 stand sign-ups"):
    return run_import(ctx, write_csv(tmp_path / name, rows), ImportOptions(source=source))


def click_row(qtbot, table, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    pos = table.visualRect(table.model().index(row, 0)).center()
    qtbot.mouseClick(table.viewport(), LEFT, modifier, pos)


def shown_names(page) -> list[str]:
    return sorted(page.model.row(r).first_name for r in range(page.model.rowCount()))


def show_import(qtbot, window, batch_id: int) -> None:
    window.provided("prospects.show_import")(window, batch_id)
    wait_for_reads(qtbot)


def test_show_imported_in_the_wizard_limits_the_list_to_the_batch(
    qtbot, make_window, ctx, add_prospect, tmp_path
):
    add_prospect("Zed", "Typed", school="Hill School")
    window = make_window()
    page = window.prospects
    window.show_page("followups")
    page.search.setText("zed")  # a search left on is cleared: every imported person shows
    page.apply_query()
    path = write_csv(tmp_path / "bett.csv", BETT)
    wizard = window.provided("imports.open_file")(window, str(path))
    qtbot.waitUntil(lambda: not wizard.file_page.reading, timeout=TIMEOUT_MS)
    wait_for_reads(qtbot)
    while wizard.currentId() != wizard.OPTIONS_PAGE:
        if wizard.currentId() == wizard.PREVIEW_PAGE:
            qtbot.waitUntil(wizard.preview_page.isComplete, timeout=TIMEOUT_MS)
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), LEFT)
    qtbot.keyClicks(wizard.options_page.source, "Bett 2026 stand sign-ups")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), LEFT)
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.REPORT_PAGE, timeout=TIMEOUT_MS)
    report = wizard.report
    qtbot.mouseClick(wizard.report_page.show_imported_button, LEFT)
    qtbot.waitUntil(lambda: window.findChild(ImportWizard) is None)
    wait_for_reads(qtbot)

    assert window.current_page() == "prospects"
    assert page.import_id == report.batch_id
    assert page.search.text() == ""
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert shown_names(page) == ["Ada", "Alan", "Grace"]
    chip = page.import_chip
    assert chip.isVisible()
    assert chip.text().startswith("Imported from bett.csv (Bett 2026 stand sign-ups) on ")
    assert chip.text().endswith(": 3 people")
    assert page.selected_id() == report.prospect_ids[0]
    qtbot.waitUntil(lambda: window.part("count_label").text() == "3 of 4 prospects")

    # The × shows everyone again.
    qtbot.mouseClick(chip.close_button, LEFT)
    assert not chip.isVisible() and page.import_id is None
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert shown_names(page) == ["Ada", "Alan", "Grace", "Zed"]
    assert not page.is_filtered()


def test_the_other_filters_narrow_it_and_clear_clears_it_too(
    qtbot, make_window, ctx, add_prospect, tmp_path
):
    add_prospect("Zed", "Typed", school="Hill School")
    batch = imported(ctx, tmp_path).batch_id
    window = make_window()
    page = window.prospects
    show_import(qtbot, window, batch)
    school = page.filters["school"]
    school.setCurrentIndex(school.findText("Hill School"))
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert shown_names(page) == ["Ada", "Alan"]  # not Zed: typed in, not imported
    assert page.import_chip.isVisible()
    page.search.setText("tur")
    page.apply_query()
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert shown_names(page) == ["Alan"]
    qtbot.mouseClick(page.clear_button, LEFT)
    assert not page.import_chip.isVisible() and page.import_id is None
    assert page.search.text() == "" and school.currentIndex() == 0
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert shown_names(page) == ["Ada", "Alan", "Grace", "Zed"]
    assert not page.clear_button.isEnabled()


def test_select_all_matching_tags_the_whole_batch_and_the_banner_counts_again(
    qtbot, make_window, ctx, add_prospect, tmp_path, prompter
):
    zed = add_prospect("Zed", "Typed")
    batch = imported(ctx, tmp_path).batch_id
    imported(ctx, tmp_path, [["Other", "Batch", "other@example.org", ""]], name="cards.csv")
    window = make_window()
    page = window.prospects
    show_import(qtbot, window, batch)
    click_row(qtbot, page.table, 0)
    click_row(qtbot, page.table, 1, CTRL)
    qtbot.mouseClick(page.bulk_bar.select_all, LEFT)
    assert page.bulk_bar.count_label.text() == "All 3 prospects matching are selected."
    selection, count = page.bulk_selection()
    assert count == 3 and selection.query.import_id == batch

    qtbot.mouseClick(page.bulk_bar.change, LEFT)
    qtbot.waitUntil(lambda: window.findChild(BulkDialog) is not None)
    dialog = window.findChild(BulkDialog)
    qtbot.waitUntil(lambda: dialog.preview_label.text() == "Applies to 3 prospects.")
    dialog.action.setCurrentIndex(dialog.action.findData(B.SET_OWNER))
    dialog.owner.setEditText("carol")
    with qtbot.waitSignal(dialog.started, timeout=TIMEOUT_MS) as started:
        qtbot.mouseClick(dialog.apply_button, LEFT)
    task = started.args[0]
    if task.is_running:
        qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS).wait()
    owners = {r.first_name: r.owner for r in P.list_prospects(ctx)}
    assert owners == {"Ada": "carol", "Grace": "carol", "Alan": "carol", "Zed": "alice",
                      "Other": "alice"}  # fmt: skip
    assert P.get_prospect(ctx, zed).owner == "alice"

    # Deleting one of them: the banner counts the batch's people again.
    ada = P.find_prospect(ctx, "ada@example.sch.uk")
    page.select_prospect(ada.id)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    page.table.setFocus()
    prompter.answers = [True]
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    wait_for_reads(qtbot)
    assert P.count_prospects(ctx) == 4
    qtbot.waitUntil(lambda: page.import_chip.text().endswith(": 2 people"))
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert shown_names(page) == ["Alan", "Grace"]


def test_a_batch_of_one_says_person_and_a_long_file_name_is_shortened(
    qtbot, make_window, ctx, tmp_path
):
    name = "Bett 2026 stand sign-ups exported from the tablet on the second day " * 3
    name = name.strip().replace(" ", "_")[:200] + ".csv"
    batch = imported(ctx, tmp_path, BETT[:1], name=name, source="Stand").batch_id
    window = make_window()
    window.resize(1024, 640)
    page = window.prospects
    show_import(qtbot, window, batch)
    chip = page.import_chip
    assert chip.text().endswith(": 1 person") and name in chip.text()
    shown = chip.label.text()
    assert "…" in shown and shown.endswith("1 person")
    assert chip.label.fontMetrics().horizontalAdvance(shown) <= chip.label.width()
    assert window.width() <= 1024  # the banner did not widen the window
    assert name in chip.toolTip()


def test_another_database_drops_the_filter(qtbot, make_window, ctx, tmp_path, prompter):
    batch = imported(ctx, tmp_path).batch_id
    window = make_window()
    page = window.prospects
    show_import(qtbot, window, batch)
    assert page.import_chip.isVisible()
    assert window.switch_database(tmp_path / "other.db", create=True)
    wait_for_reads(qtbot)
    assert page.import_id is None and not page.import_chip.isVisible()
    assert page.model.rowCount() == 0 and not page.is_filtered()


def test_an_import_not_on_record_is_said_and_the_filter_dropped(
    qtbot, make_window, ctx, tmp_path, prompter
):
    window = make_window()
    page = window.prospects
    show_import(qtbot, window, 77)
    assert page.import_id is None and not page.import_chip.isVisible()
    assert any("No import with id 77" in text for _level, _title, text in prompter.messages)


def test_the_banner_is_read_off_the_gui_thread(qtbot, make_window, ctx, tmp_path, monkeypatch):
    batch = imported(ctx, tmp_path).batch_id
    window = make_window()
    threads = []
    real = import_batches.get_batch

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(import_batches, "get_batch", recording)
    show_import(qtbot, window, batch)
    assert threads and threading.main_thread() not in threads
    assert window.prospects.import_chip.text().endswith(": 3 people")


# ------------------------------------------------------- Del with several


def test_del_with_several_selected_opens_the_bulk_delete_and_asks(
    qtbot, make_window, ctx, add_prospect, prompter
):
    ids = [add_prospect(f"P{i}", "Person") for i in range(4)]
    window = make_window()
    page = window.prospects
    click_row(qtbot, page.table, 0)
    click_row(qtbot, page.table, 2, SHIFT)
    assert page.selected_count() == 3
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.findChild(BulkDialog) is not None)
    dialog = window.findChild(BulkDialog)
    assert dialog.chosen() == B.DELETE
    assert dialog.warning.isVisible()
    qtbot.waitUntil(lambda: dialog.apply_button.text() == "Delete 3 prospects")
    prompter.answers = [False]  # "Delete 3 prospects and all their correspondence?" No.
    qtbot.mouseClick(dialog.apply_button, LEFT)
    [(_title, question)] = prompter.questions
    assert question.startswith("Delete 3 prospects and all their correspondence?")
    assert dialog.isVisible() and P.count_prospects(ctx) == 4
    prompter.answers = [True]
    with qtbot.waitSignal(dialog.started, timeout=TIMEOUT_MS) as started:
        qtbot.mouseClick(dialog.apply_button, LEFT)
    task = started.args[0]
    if task.is_running:
        qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS).wait()
    assert [r.id for r in P.list_prospects(ctx)] == [ids[3]]


def test_del_with_several_selected_does_nothing_on_a_read_only_database(
    qtbot, make_window, tmp_path
):
    path = tmp_path / "shared.db"
    writable = open_database(path, create=True)
    for i in range(3):
        P.create_prospect(
            Context(writable, "alice"),
            ProspectInput(first_name=f"P{i}", last_name="Person", email=f"p{i}@example.org"),
        )
    writable.dispose()
    read_only = open_database(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        ro_ctx = Context(read_only, "alice")
        window = make_window(ro_ctx)
        page = window.prospects
        click_row(qtbot, page.table, 0)
        click_row(qtbot, page.table, 1, SHIFT)
        assert page.selected_count() == 2
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
        wait_for_reads(qtbot)
        assert window.findChild(BulkDialog) is None
        assert P.count_prospects(ro_ctx) == 3
        window.close()
    finally:
        read_only.dispose()
