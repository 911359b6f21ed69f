"""The export wizard, driven end to end through the real widgets.

Who may be contacted is written out by hand in ``export_support`` (not
computed by the code under test); the files are read back with csv and
openpyxl.
"""

from __future__ import annotations

import csv
import threading
from datetime import timedelta

import pytest
from export_support import (
    EMAIL_OK,
    EMAIL_REASONS,
    add,
    build_population,
    read_csv_rows,
    read_xlsx_rows,
)
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QWizard
from reads_support import wait_for_reads
from ui_tabs import EXPORTS_TAB

from crm_desktop.domain.eligibility import Exclusion
from crm_desktop.services import exports, marketing
from crm_desktop.services.exports import ExportFilters, ExportRequest
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.exports import export_wizard
from crm_desktop.ui.exports.export_models import (
    CandidatesModel,
    IncludedModel,
    ProspectIdRole,
    ReasonsRole,
)
from crm_desktop.ui.exports.export_wizard import ExportWizard, default_file_name

CTRL = Qt.KeyboardModifier.ControlModifier
TIMEOUT_MS = 20_000
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def people(ctx):
    return build_population(ctx)


@pytest.fixture
def out_dir(tmp_path):
    path = tmp_path / "exports"
    path.mkdir()
    return path


def open_wizard(qtbot, window) -> ExportWizard:
    """Ctrl+E in the main window."""
    # Offscreen there is no window manager to hand activation back after a dialog.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.prospects.table, Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: window.findChild(ExportWizard) is not None)
    wizard = window.findChild(ExportWizard)
    qtbot.waitUntil(wizard.isActiveWindow)
    return wizard


def press(qtbot, key=Qt.Key.Key_Return) -> None:
    """A key where the keyboard focus is, as a user would press it."""
    widget = QApplication.focusWidget()
    assert widget is not None
    qtbot.keyClick(widget, key)


def wait_for_preview(qtbot, wizard: ExportWizard) -> None:
    assert wizard.currentId() == wizard.PREVIEW_PAGE
    qtbot.waitUntil(wizard.preview_page.isComplete, timeout=TIMEOUT_MS)


def excluded_rows(wizard: ExportWizard) -> dict[str, list[str]]:
    """Name -> reasons (labels) as the excluded table shows them."""
    model = wizard.preview_page.excluded_model
    while model.canFetchMore(model.index(-1, -1)):
        model.fetchMore(model.index(-1, -1))
    rows = {}
    for r in range(model.rowCount()):
        name = model.index(r, CandidatesModel.NAME).data()
        rows[name] = model.index(r, CandidatesModel.REASONS).data().split("; ")
    return rows


def reason_rows(wizard: ExportWizard) -> dict[str, int]:
    model = wizard.preview_page.reasons_model
    return {
        model.index(r, 0).data(): int(model.index(r, 1).data().replace(",", ""))
        for r in range(model.rowCount())
    }


def tick(qtbot, button) -> None:
    """Click a check box or radio button on its indicator, where a user would."""
    qtbot.mouseClick(button, LEFT, pos=QPoint(8, button.height() // 2))


def export_and_wait(qtbot, wizard: ExportWizard, *, click: bool = False):
    """Export (Enter, or a click on Export); returns the record."""
    with qtbot.waitSignal(wizard.bus.changed, timeout=TIMEOUT_MS) as done:
        if click:
            qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), LEFT)
        else:
            press(qtbot)
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.RESULT_PAGE)
    record = wizard.record
    assert done.args[0] == Change.of(Kind.EXPORTS, ids=(record.id,), select=record.id)
    return record


def test_keyboard_walk_to_a_csv_of_exactly_the_eligible_people(
    qtbot, make_window, ctx, people, out_dir, prompter
):
    window = make_window()
    wizard = open_wizard(qtbot, window)
    page = wizard.channel_page
    assert QApplication.focusWidget() is page.campaign_edit
    assert page.channel() == "email"
    qtbot.keyClicks(page.campaign_edit, "Spring newsletter")
    press(qtbot)  # Enter: on to the filters
    assert wizard.currentId() == wizard.FILTERS_PAGE
    press(qtbot)  # no filters
    wait_for_preview(qtbot, wizard)

    expected = exports.preview_export(ctx, ExportRequest("email", "Spring newsletter"))
    shown = wizard.preview_page.preview
    assert shown.counts == expected.counts
    assert reason_rows(wizard) == {Exclusion(k).label: v for k, v in expected.counts.items()}
    assert excluded_rows(wizard) == EMAIL_REASONS
    summary = wizard.preview_page.summary_label.text()
    assert "<b>3 will be included</b>" in summary and "<b>4 left out</b>" in summary
    assert "several reasons" in wizard.preview_page.reasons_label.text()
    assert list(out_dir.iterdir()) == []  # a preview writes nothing
    assert exports.list_exports(ctx) == []

    press(qtbot)  # Next is focused once the preview is in
    assert wizard.currentId() == wizard.OUTPUT_PAGE
    target = out_dir / "spring.csv"
    prompter.files = [str(target)]
    qtbot.mouseClick(wizard.output_page.choose_button, LEFT)
    assert wizard.output_page.path_edit.text() == str(target)
    record = export_and_wait(qtbot, wizard)  # Enter: Export

    rows = read_csv_rows(target)
    assert {r["Email"] for r in rows} == EMAIL_OK
    assert list(rows[0]) == ["Prospect ID", "First name", "Last name", "Email"]
    assert (record.included, record.excluded) == (3, 4)
    result = wizard.result_page
    assert result.included_label.text() == "3 people"
    assert result.excluded_label.text() == "4 people"
    assert "Opted out: 1" in result.reasons_label.text()
    assert result.file_label.text() == str(target.resolve())
    assert result.sha_label.text() == record.sha256 and len(record.sha256) == 64
    assert result.empty_note.isHidden()
    press(qtbot)  # Close
    assert not wizard.isVisible()

    window.commands.show_exports.trigger()
    assert window.tabs.currentIndex() == EXPORTS_TAB
    wait_for_reads(qtbot)  # the tab reads its records on a worker
    assert window.exports.model.rowCount() == 1
    assert window.exports.selected_record().id == record.id


def test_personalised_xlsx_by_mouse_leaves_out_who_refused_profiling(
    qtbot, make_window, ctx, people, out_dir
):
    window = make_window()
    wizard = open_wizard(qtbot, window)
    page = wizard.channel_page
    qtbot.keyClicks(page.campaign_edit, "MIS webinar")
    tick(qtbot, page.personalised_check)
    assert page.personalised()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), LEFT)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), LEFT)
    wait_for_preview(qtbot, wizard)
    assert excluded_rows(wizard)["Rita Refuses"] == ["Refused personalised marketing"]
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), LEFT)

    output = wizard.output_page
    tick(qtbot, output.format_buttons["xlsx"])
    assert output.format() == "xlsx"
    assert output.path_edit.text().endswith(".xlsx")  # the default name follows the format
    assert "School, Job role, Stage, Interests" in output.columns_label.text()
    target = out_dir / "webinar.xlsx"
    output.path_edit.clear()
    qtbot.keyClicks(output.path_edit, str(target))
    record = export_and_wait(qtbot, wizard, click=True)

    rows = read_xlsx_rows(target)
    assert {r["Email"] for r in rows} == EMAIL_OK - {"rita@oakfield.sch.uk"}
    assert {r["School"] for r in rows} == {"Oakfield Primary"}
    assert record.format == "xlsx" and record.personalised
    assert record.exclusions["personalisation-refused"] == 1


def test_mailchimp_is_offered_for_email_only(qtbot, make_window, ctx, people, out_dir):
    window = make_window()
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, "Texts")
    tick(qtbot, wizard.channel_page.channel_buttons["sms"])
    wizard.next()
    wizard.next()
    wait_for_preview(qtbot, wizard)
    assert excluded_rows(wizard)["Lia Note"] == ["No address for this channel"]
    wizard.next()
    output = wizard.output_page
    assert output.offered_formats() == ["csv", "xlsx"]
    assert not output.format_buttons["mailchimp"].isVisible()
    assert "Mobile (E.164)" in output.columns_label.text()

    for _ in range(3):
        wizard.back()
    tick(qtbot, wizard.channel_page.channel_buttons["email"])
    wizard.next()
    wizard.next()
    wait_for_preview(qtbot, wizard)
    wizard.next()
    assert output.offered_formats() == ["csv", "mailchimp", "xlsx"]
    tick(qtbot, output.format_buttons["mailchimp"])
    target = out_dir / "mc.csv"
    output.set_path(target)
    export_and_wait(qtbot, wizard, click=True)
    rows = read_csv_rows(target)
    assert list(rows[0]) == ["Email Address", "First Name", "Last Name", "Tags"]
    assert {r["Email Address"] for r in rows} == EMAIL_OK
    assert {r["Tags"] for r in rows} == {"Texts"}


def test_sms_list_holds_only_the_consented_mobile(qtbot, make_window, ctx, people, out_dir):
    window = make_window()
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, "Texts")
    tick(qtbot, wizard.channel_page.channel_buttons["sms"])
    wizard.next()
    wizard.next()
    wait_for_preview(qtbot, wizard)
    wizard.next()
    wizard.output_page.set_path(out_dir / "texts.csv")
    export_and_wait(qtbot, wizard, click=True)
    rows = read_csv_rows(out_dir / "texts.csv")
    assert [r["Mobile (E.164)"] for r in rows] == ["+447700900123"]


def gate_run_export(monkeypatch, on_first_check):
    """Run the real export, calling ``on_first_check(should_cancel)`` at its first check."""
    real = exports.run_export
    entered = threading.Event()

    def gated(ctx, request, out, *, progress=None, should_cancel=None):
        first = [True]

        def check() -> bool:
            if first[0]:
                first[0] = False
                entered.set()
                on_first_check(should_cancel)
            return should_cancel()

        return real(ctx, request, out, progress=progress, should_cancel=check)

    monkeypatch.setattr(export_wizard.exports, "run_export", gated)
    return entered


def to_output_page(qtbot, window, name="Autumn") -> ExportWizard:
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, name)
    wizard.next()
    wizard.next()
    wait_for_preview(qtbot, wizard)
    wizard.next()
    return wizard


def test_cancel_during_export_writes_no_file_and_no_record(
    qtbot, make_window, ctx, people, out_dir, monkeypatch
):
    release = threading.Event()
    entered = gate_run_export(monkeypatch, lambda _should_cancel: release.wait(TIMEOUT_MS / 1000))
    window = make_window()
    wizard = to_output_page(qtbot, window)
    target = out_dir / "autumn.csv"
    wizard.output_page.set_path(target)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), LEFT)
    task = wizard.output_page.task
    assert task is not None
    assert not wizard.button(QWizard.WizardButton.CommitButton).isEnabled()  # no second run
    assert entered.wait(TIMEOUT_MS / 1000)
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible())
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        qtbot.mouseClick(task.dialog.cancel_button, LEFT)
        release.set()

    assert not target.exists() and list(out_dir.iterdir()) == []
    assert exports.list_exports(ctx) == []
    assert wizard.currentId() == wizard.OUTPUT_PAGE
    assert "cancelled: no file was written" in wizard.output_page.status_label.text()

    monkeypatch.undo()  # and now it runs to the end
    record = export_and_wait(qtbot, wizard, click=True)
    assert target.exists() and [r.id for r in exports.list_exports(ctx)] == [record.id]


def test_a_change_during_export_is_refused_and_can_be_retried(
    qtbot, make_window, ctx, people, out_dir, monkeypatch, prompter
):
    def someone_opts_out(_should_cancel):
        # Another user opts Lia out while her row is being read for the file.
        marketing.opt_out(ctx, people.li_note, "email", source="phone")

    gate_run_export(monkeypatch, someone_opts_out)
    window = make_window()
    wizard = to_output_page(qtbot, window)
    target = out_dir / "autumn.csv"
    wizard.output_page.set_path(target)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), LEFT)
    # (Its outcome is queued to the GUI thread, so connecting now misses nothing.)
    with qtbot.waitSignal(wizard.output_page.task.finished, timeout=TIMEOUT_MS):
        pass

    [error] = prompter.errors()
    assert "changed a person on this list" in error
    assert not target.exists() and exports.list_exports(ctx) == []
    assert wizard.currentId() == wizard.OUTPUT_PAGE
    assert "Click Export to try again" in wizard.output_page.status_label.text()
    assert wizard.button(QWizard.WizardButton.CommitButton).isEnabled()

    monkeypatch.undo()
    export_and_wait(qtbot, wizard, click=True)
    assert {r["Email"] for r in read_csv_rows(target)} == EMAIL_OK - {"lia@oakfield.sch.uk"}


def test_an_export_of_nobody_writes_the_header_and_says_so(qtbot, make_window, ctx, out_dir):
    add(ctx, "Nora", "None", "nora@oakfield.sch.uk")
    window = make_window()
    wizard = to_output_page(qtbot, window, "Nobody")
    wizard.output_page.set_path(out_dir / "nobody.csv")
    record = export_and_wait(qtbot, wizard, click=True)
    assert record.included == 0 and record.excluded == 1
    assert (out_dir / "nobody.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "Prospect ID,First name,Last name,Email"
    ]
    note = wizard.result_page.empty_note
    assert note.isVisible() and "a file with only the header row was written" in note.text()


def test_preview_of_nobody_says_so_before_exporting(qtbot, make_window, ctx):
    add(ctx, "Nora", "None", "nora@oakfield.sch.uk")
    window = make_window()
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, "Nobody")
    wizard.next()
    wizard.next()
    wait_for_preview(qtbot, wizard)
    summary = wizard.preview_page.summary_label.text()
    assert "<b>0 will be included</b>" in summary and "only the header row" in summary


def test_filters_reach_the_preview_and_bad_dates_are_refused(
    qtbot, make_window, ctx, people, out_dir
):
    marketing.set_lawful_basis(ctx, people.no_basis, "legitimate-interest", note="Staff")
    window = make_window()
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, "Leads")
    press(qtbot)
    filters = wizard.filters_page
    stage = filters.combos["stage"]
    stage.setFocus()
    stage.setCurrentIndex(stage.findData("lead"))
    region = filters.combos["region"]
    assert region.itemText(0) == "Any region"

    tick(qtbot, filters.since_check)
    tick(qtbot, filters.until_check)
    filters.until_date.setDate(filters.since_date.date() - timedelta(days=1))
    press(qtbot)
    assert wizard.currentId() == wizard.FILTERS_PAGE  # refused, with a message
    assert filters.dates_error.isVisible()
    assert QApplication.focusWidget() is filters.until_date.edit
    filters.until_date.edit.selectAll()
    qtbot.keyClicks(filters.until_date.edit, "31 Apr 2026")  # typed, and impossible
    press(qtbot)
    assert wizard.currentId() == wizard.FILTERS_PAGE
    assert filters.until_date.message.text() == "31 Apr 2026 is not a date: April 2026 has 30 days."
    tick(qtbot, filters.since_check)
    assert not filters.dates_error.isVisible()
    tick(qtbot, filters.until_check)
    press(qtbot)
    wait_for_preview(qtbot, wizard)
    request = ExportRequest("email", "Leads", filters=ExportFilters(stage="lead"))
    assert wizard.request(format="csv") == request
    expected = exports.preview_export(ctx, request)
    shown = wizard.preview_page.preview
    assert [c.prospect_id for c in shown.included] == [c.prospect_id for c in expected.included]
    assert shown.counts == expected.counts


def test_selecting_a_reason_lists_only_those_people(qtbot, make_window, ctx, people):
    window = make_window()
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, "Spring")
    wizard.next()
    wizard.next()
    wait_for_preview(qtbot, wizard)
    page = wizard.preview_page
    labels = [page.reasons_model.index(r, 0).data() for r in range(page.reasons_model.rowCount())]
    page.reasons_table.selectRow(labels.index("Opted out"))
    model = page.excluded_model
    assert model.rowCount() == 1
    assert model.index(0, 0).data(ProspectIdRole) == people.opted_out
    assert model.index(0, 0).data(ReasonsRole) == ["opted-out", "suppressed"]
    assert page.show_all_button.isVisible()
    qtbot.mouseClick(page.show_all_button, LEFT)
    assert model.rowCount() == 4 and not page.show_all_button.isVisible()


def test_campaign_name_is_required_and_checked(qtbot, ctx, naughty_strings):
    wizard = ExportWizard(ctx)
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.channel_page
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert not next_button.isEnabled()
    qtbot.keyClicks(page.campaign_edit, "   ")
    assert not next_button.isEnabled()  # blank is not a name
    page.campaign_edit.setText("x" * 5)
    page.purpose_edit.setPlainText("y" * 5_001)
    wizard.next()
    assert wizard.currentId() == wizard.CHANNEL_PAGE
    assert "Purpose is too long" in page.purpose_error.text()
    page.purpose_edit.setPlainText("Tell heads about the new tracker")
    for text in naughty_strings[:400]:
        page.campaign_edit.setText(text)
        if not text.strip():
            assert not page.isComplete()
            continue
        accepted = page.validatePage()
        assert accepted or page.campaign_error.text(), repr(text)
        name = default_file_name(text, wizard.output_page._today, ".csv")
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert name.endswith(".csv") and len(name) < 120


def test_an_existing_file_is_never_replaced(qtbot, make_window, ctx, people, out_dir):
    window = make_window()
    wizard = to_output_page(qtbot, window)
    target = out_dir / "taken.csv"
    target.write_text("earlier export")
    wizard.output_page.set_path(target)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), LEFT)
    assert wizard.output_page.task is None
    assert "already exists" in wizard.output_page.path_error.text()
    assert target.read_text() == "earlier export"
    wizard.output_page.set_path(out_dir / "missing" / "x.csv")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), LEFT)
    assert "does not exist" in wizard.output_page.path_error.text()
    assert exports.list_exports(ctx) == []


def test_default_file_name_is_unique_in_the_folder(qtbot, ctx, people, out_dir):
    wizard = ExportWizard(ctx, folder=out_dir)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.channel_page.campaign_edit.setText("Spring: news / offers")
    day = wizard.output_page._today.isoformat()
    (out_dir / f"Spring-news-offers-{day}.csv").write_text("x")
    wizard.next()
    wizard.next()
    wait_for_preview(qtbot, wizard)
    wizard.next()
    assert wizard.output_page.path_edit.text() == str(out_dir / f"Spring-news-offers-{day}-2.csv")


def test_escape_closes_and_escape_during_a_preview_cancels_it_first(
    qtbot, make_window, ctx, people, monkeypatch
):
    release = threading.Event()
    real = exports.preview_export

    def slow_preview(ctx, request, *, progress=None, should_cancel=None):
        release.wait(TIMEOUT_MS / 1000)
        return real(ctx, request, progress=progress, should_cancel=should_cancel)

    monkeypatch.setattr(exports, "preview_export", slow_preview)
    window = make_window()
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, "Spring")
    wizard.next()
    wizard.next()
    task = wizard.preview_page.task
    assert task is not None and task.is_running
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert task.cancel_requested and wizard.isVisible()  # waits for the work to stop
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        release.set()
    qtbot.waitUntil(lambda: window.findChild(ExportWizard) is None)  # closed and deleted
    assert exports.list_exports(ctx) == []

    wizard = open_wizard(qtbot, window)
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not wizard.isVisible())


def included_rows(wizard: ExportWizard) -> list[list[str]]:
    """The Included list as shown: header first, every row fetched."""
    model = wizard.preview_page.included_model
    while model.canFetchMore(model.index(-1, -1)):
        model.fetchMore(model.index(-1, -1))
    header = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    body = [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]
    return [header, *body]


def test_preview_lists_who_is_included_as_the_file_will(
    qtbot, make_window, ctx, people, out_dir, prompter
):
    window = make_window()
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, "Spring newsletter")
    press(qtbot)
    press(qtbot)
    wait_for_preview(qtbot, wizard)
    page = wizard.preview_page
    tabs = page.details
    assert tabs.tabText(tabs.indexOf(page.included)) == "&Included (3)"
    assert tabs.tabText(tabs.indexOf(page.left_out)) == "&Left out (4)"
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(tabs.indexOf(page.included)).center())
    assert tabs.currentWidget() is page.included
    assert page.included_table.isVisible()
    shown = included_rows(wizard)
    assert shown[0] == ["Prospect ID", "First name", "Last name", "Email"]
    assert {row[3] for row in shown[1:]} == EMAIL_OK

    press(qtbot)  # Next
    target = out_dir / "spring.csv"
    wizard.output_page.set_path(target)
    export_and_wait(qtbot, wizard, click=True)
    with open(target, encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert written == shown  # the preview listed exactly what the file holds


def test_the_included_list_is_paged(qtbot, make_window, ctx, monkeypatch):
    for n in range(12):
        pid = add(ctx, f"P{n:02}", "Paged", f"p{n}@oakfield.sch.uk")
        marketing.set_lawful_basis(ctx, pid, "legitimate-interest", note="School staff")
    monkeypatch.setattr(IncludedModel, "BATCH", 5)
    window = make_window()
    wizard = open_wizard(qtbot, window)
    qtbot.keyClicks(wizard.channel_page.campaign_edit, "Paged")
    wizard.next()
    wizard.next()
    wait_for_preview(qtbot, wizard)
    page = wizard.preview_page
    assert page.details.currentWidget() is page.included  # nobody left out
    model = page.included_model
    assert (model.total(), model.rowCount()) == (12, 5)
    page.included_table.scrollToBottom()  # the view fetches the next batch
    qtbot.waitUntil(lambda: model.rowCount() > 5)
    assert model.rowCount() in (10, 12)
    while model.canFetchMore(model.index(-1, -1)):
        model.fetchMore(model.index(-1, -1))
    assert [model.index(r, 1).data() for r in range(12)] == [f"P{n:02}" for n in range(12)]


def test_included_model(qtmodeltester, people, ctx):
    request = ExportRequest("email", "Spring")
    preview = exports.preview_export(ctx, request)
    model = IncludedModel()
    model.BATCH = 2
    model.set_people(request, preview.included)
    assert model.rowCount() == 2 and model.canFetchMore(model.index(-1, -1))
    qtmodeltester.check(model)  # fetches the rest, checking each insert
    assert model.rowCount() == 3 == model.total()
