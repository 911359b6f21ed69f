"""The Exports tab: records newest first, their detail, the people in them."""

from __future__ import annotations

import threading

from export_support import build_population
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton, QWizard
from reads_support import wait_for_reads
from ui_shots import save_shot
from ui_tabs import EXPORTS_TAB

from crm_desktop.errors import DatabaseError
from crm_desktop.services import exports, interests, prospects
from crm_desktop.services.exports import ExportFilters, ExportRequest
from crm_desktop.ui.common.changes import Kind
from crm_desktop.ui.exports.export_wizard import ExportWizard
from crm_desktop.ui.exports.exports_page import ExportsView, MembersDialog

LEFT = Qt.MouseButton.LeftButton


def make_view(qtbot, ctx) -> ExportsView:
    view = ExportsView(ctx)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    wait_for_reads(qtbot)  # the records are read on a worker
    return view


def test_empty_state_says_how_to_export(qtbot, ctx):
    view = make_view(qtbot, ctx)
    assert view.stack.currentWidget() is view.empty_label
    assert "No campaign lists have been exported yet" in view.empty_label.text()
    assert "Ctrl+E" in view.empty_label.text()
    assert not view.people_button.isEnabled()


def test_records_newest_first_with_their_detail(qtbot, ctx, tmp_path):
    people = build_population(ctx)
    send = next(i for i, name, _n in interests.list_interests(ctx) if name == "SEND support")
    first = exports.run_export(ctx, ExportRequest("email", "First"), tmp_path / "1.csv")
    second = exports.run_export(
        ctx,
        ExportRequest(
            "email",
            "<b>Second</b> & more",
            purpose="Tell SENCos about the new tracker",
            personalised=True,
            filters=ExportFilters(interest_id=send, stage="lead", school_phase="primary"),
        ),
        tmp_path / "2.csv",
    )
    view = make_view(qtbot, ctx)
    assert view.stack.currentWidget() is view.table
    assert view.count_label.text() == "2 exports"
    assert [view.model.record_at(r).id for r in range(2)] == [second.id, first.id]
    assert view.selected_record().id == second.id  # the newest is selected

    text = view.detail_text()
    assert "<b>Second</b> & more" in text  # shown as typed, not as markup
    assert "Tell SENCos about the new tracker" in text
    assert "Interest: SEND support" in text
    assert "Stage: Lead" in text and "School phase/type: Primary" in text
    assert "Personalised\nYes" in text
    assert second.sha256 in text and str((tmp_path / "2.csv").resolve()) in text
    assert "Nobody could be included" in text  # nobody matched the filters

    view.table.selectRow(1)
    text = view.detail_text()
    assert "Opted out: 1" in text and "On the suppression list: 1" in text
    assert "No address for this channel: 1" in text
    assert "Individual subscriber without consent: 1" in text
    assert "several reasons" in text
    assert "None (everyone was considered)" in text

    prospects.delete_prospect(ctx, people.no_basis)  # not in the list: no change
    prospects.delete_prospect(ctx, people.li_note)
    qtbot.mouseClick(view.people_button, LEFT)
    dialog = view.members_dialog
    assert isinstance(dialog, MembersDialog) and dialog.isVisible()
    wait_for_reads(qtbot)
    model = dialog.model
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert names == ["Connie Consent", f"#{people.li_note} (deleted)", "Rita Refuses"]
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: view.members_dialog is None)


def test_enter_on_a_record_shows_its_people(qtbot, ctx, tmp_path):
    build_population(ctx)
    exports.run_export(ctx, ExportRequest("email", "One"), tmp_path / "1.csv")
    view = make_view(qtbot, ctx)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert view.members_dialog is not None
    wait_for_reads(qtbot)
    assert view.members_dialog.model.total() == 3
    view.members_dialog.reject()


def test_a_database_error_is_shown_in_place_of_the_list(qtbot, ctx, monkeypatch):
    view = make_view(qtbot, ctx)

    def broken(_ctx, **_kw):
        raise DatabaseError("The database file went away.")

    monkeypatch.setattr(exports, "list_exports", broken)
    view.refresh()
    wait_for_reads(qtbot)
    assert view.stack.currentWidget() is view.empty_label
    assert "went away" in view.empty_label.text()


def test_the_tab_shows_exports_made_elsewhere_when_opened(qtbot, make_window, ctx, tmp_path):
    window = make_window()
    build_population(ctx)
    record = exports.run_export(ctx, ExportRequest("sms", "Texts"), tmp_path / "t.csv")
    qtbot.keyClick(window.prospects.table, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == EXPORTS_TAB
    wait_for_reads(qtbot)  # shown: the tab reads its records on a worker
    assert window.exports.selected_record().id == record.id
    assert window.exports.model.index(0, window.exports.model.CHANNEL).data() == "SMS"


def test_an_export_from_the_tab_shows_up_in_it_at_once(qtbot, make_window, ctx, tmp_path):
    build_population(ctx)
    window = make_window()
    window.commands.show_exports.trigger()
    wait_for_reads(qtbot)  # shown: the tab reads its records on a worker
    assert window.exports.stack.currentWidget() is window.exports.empty_label
    button = window.exports.findChild(QToolButton, "newExportButton")
    qtbot.mouseClick(button, LEFT)
    qtbot.waitUntil(lambda: window.findChild(ExportWizard) is not None)
    wizard = window.findChild(ExportWizard)
    wizard.channel_page.campaign_edit.setText("From the tab")
    wizard.next()
    wizard.next()
    qtbot.waitUntil(wizard.preview_page.isComplete)
    wizard.next()
    wizard.output_page.set_path(tmp_path / "tab.csv")
    assert wizard.bus is window.bus  # said where the window's pages hear it
    with qtbot.waitSignal(window.bus.changed) as done:
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), LEFT)
    change = done.args[0]
    assert change.kinds == {Kind.EXPORTS} and change.ids == {wizard.record.id}
    assert window.tabs.currentIndex() == EXPORTS_TAB  # still here; no tab switch needed
    wait_for_reads(qtbot)  # the tab reads its records again on a worker
    assert window.exports.stack.currentWidget() is window.exports.table
    assert window.exports.selected_record().id == change.select == wizard.record.id
    assert "From the tab" in window.exports.detail_text()
    assert "Exported 3 of 7 to tab.csv" in window.statusBar().currentMessage()


def _interrupted_export(ctx, out) -> int:
    """What a run killed mid-write leaves (see tests/services/test_export_backup_kills.py),
    settled as the next start settles it."""
    from crm_desktop.domain.models import ExportRun
    from crm_desktop.domain.types import utcnow
    from crm_desktop.formats.atomic import part_path_for

    part = part_path_for(out)
    part.write_bytes(b"Prospect ID,First name\r\n1,Half")
    with ctx.db.transaction() as session:
        run = ExportRun(
            created_by=ctx.user, created_at=utcnow(), channel="email",
            campaign="Spring newsletter", format="csv", file_name=str(out), sha256="",
            state="writing", part_file=str(part), host=__import__("socket").gethostname(),
        )  # fmt: skip
        session.add(run)
        session.flush()
        run_id = run.id
    (said,) = exports.finish_interrupted_exports(ctx)
    assert "failed (interrupted)" in said and not part.exists()
    return run_id


def test_an_interrupted_export_is_shown_as_failed_not_as_a_list(qtbot, ctx, tmp_path, qapp):
    from crm_desktop.ui.common.appearance import colours, dark_palette

    build_population(ctx)
    done = exports.run_export(ctx, ExportRequest("email", "Autumn open day"), tmp_path / "a.csv")
    failed = _interrupted_export(ctx, tmp_path / "spring.csv")
    previous = qapp.palette()
    qapp.setPalette(dark_palette())
    try:
        view = make_view(qtbot, ctx)
        view.resize(1024, 640)
        model = view.model
        assert [model.record_at(r).id for r in range(2)] == [failed, done.id]
        assert model.index(0, model.STATE).data() == "Failed (interrupted)"
        assert model.index(0, model.INCLUDED).data() == "–"  # no list: no counts
        assert model.index(1, model.STATE).data() == "Complete"
        assert model.index(0, model.STATE).data(Qt.ItemDataRole.ForegroundRole).name() == (
            colours().error
        )
        text = view.detail_text()
        assert "Failed (interrupted)" in text and "Nobody was sent this list" in text
        assert "SHA-256" not in text and "Included" not in text
        assert not view.people_button.isEnabled()
        qtbot.wait(50)
        save_shot(view, "exports", "exports-interrupted-dark")
        view.table.selectRow(1)  # the complete one: its counts and people as before
        assert "SHA-256" in view.detail_text() and view.people_button.isEnabled()
        save_shot(view, "exports", "exports-complete-dark")
    finally:
        qapp.setPalette(previous)


def test_the_records_are_read_off_the_gui_thread_and_shown(qtbot, ctx, tmp_path, monkeypatch):
    build_population(ctx)
    view = make_view(qtbot, ctx)
    threads = []
    real = exports.list_exports

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "list_exports", recording)
    record = exports.run_export(ctx, ExportRequest("email", "Read elsewhere"), tmp_path / "r.csv")
    view.refresh(select_id=record.id)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    assert threads and threading.main_thread() not in threads
    assert view.selected_record().id == record.id
    assert "Read elsewhere" in view.detail_text()
