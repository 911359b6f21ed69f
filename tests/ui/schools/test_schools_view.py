"""The schools view and the school form, driven as a user would."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QPoint, Qt
from reads_support import wait_for_reads

from crm_desktop.domain.validation import ProspectInput, SchoolInput
from crm_desktop.errors import DatabaseError
from crm_desktop.services import schools
from crm_desktop.services.prospects import create_prospect, get_prospect
from crm_desktop.ui.common import reads
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.schools.school_dialog import SchoolDialog
from crm_desktop.ui.schools.schools_page import SchoolIdRole, SchoolsModel, SchoolsView

M = SchoolsModel


class Answers:
    """Stands in for the view's question seam: records questions, gives set answers."""

    def __init__(self, *answers: bool):
        self.answers = list(answers)
        self.questions: list[tuple[str, str]] = []

    def __call__(self, parent, title: str, text: str) -> bool:
        self.questions.append((title, text))
        if not self.answers:
            raise AssertionError(f"unexpected question: {text}")
        return self.answers.pop(0)


@pytest.fixture
def messages(monkeypatch) -> list[tuple]:
    """Every message box the form or the view would show, instead of showing it."""
    shown: list[tuple] = []
    monkeypatch.setattr(SchoolDialog, "message", staticmethod(lambda *a: shown.append(a[1:])))
    monkeypatch.setattr(
        SchoolsView, "show_error", staticmethod(lambda *a: shown.append(("error",) + a[1:]))
    )
    return shown


@pytest.fixture
def view(qtbot, ctx, messages) -> SchoolsView:
    widget = SchoolsView(ctx)
    qtbot.addWidget(widget)
    widget.resize(1000, 400)
    widget.show()
    qtbot.waitExposed(widget)
    wait_for_reads(qtbot)  # the list is read on a worker
    return widget


def school(ctx, name: str, **fields) -> int:
    return schools.create_school(ctx, SchoolInput(name=name, **fields)).record.id


def names(view: SchoolsView) -> list[str]:
    return [view.model.index(r, M.NAME).data() for r in range(view.model.rowCount())]


def select(view: SchoolsView, name: str) -> None:
    row = names(view).index(name)
    sel = view.table.selectionModel()
    sel.setCurrentIndex(
        view.model.index(row, 0), sel.SelectionFlag.ClearAndSelect | sel.SelectionFlag.Rows
    )


def type_into(qtbot, dialog: SchoolDialog, **values: str) -> None:
    for field, text in values.items():
        editor = dialog.editors[field]
        editor.clear()
        qtbot.keyClicks(editor, text)


def test_add_school_through_the_form(qtbot, ctx, view, messages):
    assert view.stack.currentWidget() is view.empty_label
    assert "No schools yet" in view.empty_label.text()

    dialog = view.add_school()
    assert view.dialog is dialog
    qtbot.waitExposed(dialog)
    assert dialog.windowTitle() == "Add school"
    type_into(
        qtbot,
        dialog,
        name="Oakfield Primary School",
        urn="100001",
        local_authority="Kent",
        postcode="ct1 2ab",
        phone="01632 960001",
        website="oakfield.kent.sch.uk",
    )
    dialog.phase_combo.setCurrentIndex(dialog.phase_combo.findText("Primary"))

    with qtbot.waitSignal(view.bus.changed, timeout=2000) as changed:
        qtbot.keyClick(dialog.website_edit, Qt.Key.Key_Return)  # Enter saves
    assert changed.args[0] == Change.of(Kind.SCHOOLS, by="schools")

    assert dialog.result() == SchoolDialog.DialogCode.Accepted
    saved = dialog.saved
    assert saved.name == "Oakfield Primary School" and saved.postcode == "CT1 2AB"
    stored = schools.get_school(ctx, saved.id)
    assert (stored.urn, stored.phase, stored.phone) == ("100001", "primary", "+441632960001")
    assert stored.website == "https://oakfield.kent.sch.uk"

    wait_for_reads(qtbot)  # the list is read again on a worker
    assert view.stack.currentWidget() is view.table
    assert names(view) == ["Oakfield Primary School"]
    row = [view.model.index(0, c).data() for c in range(M(None).columnCount())]
    assert row == [
        "Oakfield Primary School",
        "100001",
        "Primary",
        "Kent",
        "CT1 2AB",
        "01632 960001",
        "https://oakfield.kent.sch.uk",
        "0",
    ]
    assert view.selected_school().id == saved.id
    assert view.count_label.text() == "1 school"
    # The drama-range number was accepted with a warning, which the user saw.
    assert [m[0] for m in messages] == ["info"]
    assert "not in a known allocated range" in messages[0][2]


def test_bad_urn_is_rejected_beside_its_field_and_nothing_is_saved(qtbot, ctx, view, messages):
    dialog = view.add_school()
    qtbot.waitExposed(dialog)
    type_into(qtbot, dialog, name="Hill Top Academy", urn="12345", postcode="nowhere")

    with qtbot.assertNotEmitted(view.bus.changed):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert dialog.isVisible()
    assert dialog.field_error("urn") == "'12345' is not a URN (six digits, e.g. 100000)"
    assert dialog.field_error("postcode").startswith("'nowhere' is not a UK postcode")
    assert dialog.field_error("name") == ""
    assert dialog.focusWidget() is dialog.urn_edit  # the first bad field
    assert dialog.urn_edit.text() == "12345"  # input kept
    assert dialog.name_edit.text() == "Hill Top Academy"
    assert schools.list_schools(ctx) == []
    assert messages == []

    # Fixing the field clears its message; saving then works.
    type_into(qtbot, dialog, urn="123456", postcode="")
    assert dialog.field_error("urn") == ""
    with qtbot.waitSignal(view.bus.changed, timeout=2000):
        dialog.save()
    assert [s.urn for s in schools.list_schools(ctx)] == ["123456"]


def test_blank_name_message_names_the_field(qtbot, ctx, view):
    dialog = view.add_school()
    dialog.save()
    assert dialog.field_error("name") == "Name is required."
    assert schools.list_schools(ctx) == []


def test_duplicate_urn_is_a_message_and_the_form_stays_open(qtbot, ctx, view, messages):
    school(ctx, "Oakfield Primary School", urn="100001")
    view.refresh()
    wait_for_reads(qtbot)
    dialog = view.add_school()
    type_into(qtbot, dialog, name="Another School", urn="100001")
    dialog.save()
    assert dialog.isVisible()
    assert messages == [
        ("error", "School not saved", "URN 100001 already belongs to Oakfield Primary School.")
    ]
    assert names(view) == ["Oakfield Primary School"]


def test_edit_with_enter_and_conflict_detection(qtbot, ctx, view, messages):
    sid = school(ctx, "Oakfield Primary", urn="100001", phase="primary", phone="01632 960001")
    view.refresh()
    wait_for_reads(qtbot)
    view.table.setFocus()
    select(view, "Oakfield Primary")
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    dialog = view.dialog
    assert isinstance(dialog, SchoolDialog)
    assert dialog.windowTitle() == "Edit school — Oakfield Primary"
    assert dialog.name_edit.text() == "Oakfield Primary"
    assert dialog.phase_combo.currentText() == "Primary"
    assert dialog.phone_edit.text() == "01632 960001"

    # Someone else saves first: ours is refused, nothing of ours is stored.
    schools.update_school(ctx, sid, SchoolInput(name="Oakfield Primary (renamed)"))
    type_into(qtbot, dialog, name="Oakfield Infant School")
    dialog.save()
    assert dialog.isVisible()
    assert messages[-1][0] == "error" and "changed by someone else" in messages[-1][2]
    assert schools.get_school(ctx, sid).name == "Oakfield Primary (renamed)"
    dialog.reject()

    # Fresh copy: the edit goes through, and the row shows it.
    view.refresh()
    wait_for_reads(qtbot)
    select(view, "Oakfield Primary (renamed)")
    dialog = view.edit_selected()
    type_into(qtbot, dialog, name="Oakfield Infant School")
    with qtbot.waitSignal(view.bus.changed, timeout=2000):
        dialog.save()
    wait_for_reads(qtbot)
    assert names(view) == ["Oakfield Infant School"]
    assert view.selected_school().id == sid


def test_escape_cancels_without_saving(qtbot, ctx, view):
    dialog = view.add_school()
    qtbot.waitExposed(dialog)
    type_into(qtbot, dialog, name="Not Saved School")
    with qtbot.assertNotEmitted(view.bus.changed):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Escape)
    assert dialog.result() == SchoolDialog.DialogCode.Rejected
    assert schools.list_schools(ctx) == []


def test_tab_order_is_top_down(qtbot, ctx, view):
    dialog = view.add_school()
    order = [dialog.name_edit]
    while len(order) < 9:
        order.append(order[-1].nextInFocusChain())
        while not order[-1].focusPolicy() & Qt.FocusPolicy.TabFocus:
            order[-1] = order[-1].nextInFocusChain()
    expected = [dialog.editors[f] for f in ("name", "urn", "phase", "local_authority")]
    expected += [dialog.postcode_edit, dialog.phone_edit, dialog.website_edit, dialog.save_button]
    assert order[:8] == expected


def test_search_narrows_as_you_type(qtbot, ctx, view):
    school(ctx, "Oakfield Primary", urn="100001", local_authority="Kent", postcode="CT1 2AB")
    school(ctx, "Hill Top Academy", urn="100002", local_authority="Leeds", postcode="LS1 4AP")
    school(ctx, "Oak Tree Infants", local_authority="Kent")
    view.refresh()
    wait_for_reads(qtbot)
    assert names(view) == ["Hill Top Academy", "Oak Tree Infants", "Oakfield Primary"]

    qtbot.keyClicks(view.search_edit, "oak")
    qtbot.waitUntil(lambda: names(view) == ["Oak Tree Infants", "Oakfield Primary"])
    assert view.count_label.text() == "2 schools"

    view.search_edit.clear()
    qtbot.keyClicks(view.search_edit, "LS1")  # postcode
    qtbot.waitUntil(lambda: names(view) == ["Hill Top Academy"])

    view.search_edit.clear()
    qtbot.keyClicks(view.search_edit, "100001")  # URN
    qtbot.waitUntil(lambda: names(view) == ["Oakfield Primary"])

    view.search_edit.clear()
    qtbot.keyClicks(view.search_edit, "nowhere 100%_")
    qtbot.waitUntil(lambda: view.model.rowCount() == 0)
    assert view.stack.currentWidget() is view.empty_label
    assert "No schools match “nowhere 100%_”" in view.empty_label.text()


def test_keyboard_add_and_search_enter_moves_to_the_list(qtbot, ctx, view):
    school(ctx, "Oakfield Primary")
    view.refresh()
    wait_for_reads(qtbot)
    view.activateWindow()
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    qtbot.keyClick(
        view.table,
        Qt.Key.Key_N,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert isinstance(view.dialog, SchoolDialog) and view.dialog.windowTitle() == "Add school"
    view.dialog.reject()
    qtbot.waitUntil(lambda: view.dialog is None)

    view.activateWindow()  # back from the dialog, as for a person typing
    qtbot.waitUntil(view.isActiveWindow)
    view.search_edit.setFocus()
    qtbot.keyClicks(view.search_edit, "oak")
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Return)
    assert reads.pending_reads() == 1  # read at once, not after the typing pause
    wait_for_reads(qtbot)
    assert names(view) == ["Oakfield Primary"]
    assert view.selected_school().name == "Oakfield Primary"
    assert view.table.hasFocus()


def test_a_database_error_is_shown_in_place_of_the_list(qtbot, ctx, view, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("The database is busy: another program is writing to it.")

    monkeypatch.setattr(schools, "list_schools", broken)
    view.refresh()
    wait_for_reads(qtbot)
    assert view.stack.currentWidget() is view.empty_label
    assert "The database is busy" in view.empty_label.text()


def test_delete_confirms_with_prospect_count_and_keeps_prospects(qtbot, ctx, view, monkeypatch):
    sid = school(ctx, "Oakfield Primary")
    school(ctx, "Hill Top Academy")
    people = [
        create_prospect(
            ctx,
            ProspectInput(first_name=f, last_name="Smith", email=f"{f}@oak.sch.uk", school_id=sid),
        ).record.id
        for f in ("ann", "bob", "cat")
    ]
    view.refresh()
    wait_for_reads(qtbot)
    assert view.model.index(names(view).index("Oakfield Primary"), M.PROSPECTS).data() == "3"

    answers = Answers(False, True)
    monkeypatch.setattr(SchoolsView, "ask", staticmethod(answers))
    view.table.setFocus()
    select(view, "Oakfield Primary")

    # "No" keeps everything.
    with qtbot.assertNotEmitted(view.bus.changed):
        qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert names(view) == ["Hill Top Academy", "Oakfield Primary"]
    title, text = answers.questions[0]
    assert "Delete Oakfield Primary?" in text
    assert "3 prospects are not deleted" in text and "without a school" in text

    # "Yes" deletes the school only.
    with qtbot.waitSignal(view.bus.changed, timeout=2000) as changed:
        view.delete_button.click()
    assert changed.args[0].kinds == {Kind.SCHOOLS}
    wait_for_reads(qtbot)
    assert names(view) == ["Hill Top Academy"]
    for pid in people:
        p = get_prospect(ctx, pid)
        assert p.school_id is None and p.school_name is None


def test_delete_of_a_school_without_prospects_says_so(qtbot, ctx, view, monkeypatch):
    school(ctx, "Lonely School")
    view.refresh()
    wait_for_reads(qtbot)
    answers = Answers(True)
    monkeypatch.setattr(SchoolsView, "ask", staticmethod(answers))
    select(view, "Lonely School")
    view.delete_selected()
    wait_for_reads(qtbot)
    assert "No prospects are linked to it." in answers.questions[0][1]
    assert schools.list_schools(ctx) == []
    assert view.stack.currentWidget() is view.empty_label


def test_buttons_follow_the_selection(qtbot, ctx, view):
    school(ctx, "Oakfield Primary")
    view.refresh()
    wait_for_reads(qtbot)
    assert not view.edit_button.isEnabled() and not view.delete_button.isEnabled()
    select(view, "Oakfield Primary")
    assert view.edit_button.isEnabled() and view.delete_button.isEnabled()


def test_long_values_are_shown_whole_in_tooltips(qtbot, ctx, view):
    long_name = "St Bartholomew's Church of England Voluntary Aided All-Through Academy " * 2
    school(ctx, long_name.strip())
    view.refresh()
    wait_for_reads(qtbot)
    index = view.model.index(0, M.NAME)
    assert index.data(Qt.ItemDataRole.ToolTipRole) == long_name.strip()
    assert view.table.columnWidth(M.NAME) < view.fontMetrics().horizontalAdvance(long_name)


def test_schools_model_passes_qtmodeltester(qtmodeltester, ctx):
    school(ctx, "Oakfield Primary", urn="100001", phase="primary", phone="01632 960001")
    school(ctx, "Northern Lights MAT", phase="multi-academy-trust")
    model = SchoolsModel()
    model.set_rows(schools.list_schools(ctx))
    assert model.index(0, M.PHASE).data() == "Multi-academy trust"
    assert model.index(0, 0).data(SchoolIdRole) is not None
    qtmodeltester.check(model, force_py=True)
    model.set_rows([])
    qtmodeltester.check(model, force_py=True)


def test_the_list_is_read_off_the_gui_thread_and_shown(qtbot, ctx, view, monkeypatch):
    threads = []
    real = schools.list_schools

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(schools, "list_schools", recording)
    school(ctx, "Oakfield Primary")
    school(ctx, "Hill Top Academy")
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2)
    assert threads and threading.main_thread() not in threads
    assert names(view) == ["Hill Top Academy", "Oakfield Primary"]
    assert view.count_label.text() == "2 schools"


def test_only_the_latest_search_is_shown(qtbot, ctx, view):
    school(ctx, "Oakfield Primary")
    school(ctx, "Hill Top Academy")
    qtbot.keyClicks(view.search_edit, "oak")
    view.refresh()  # a read for "oak"...
    view.search_edit.setText("hill")
    view.refresh()  # ...superseded by one for "hill" before it came back
    wait_for_reads(qtbot)
    assert names(view) == ["Hill Top Academy"]
    assert view.count_label.text() == "1 school"


def test_a_list_focused_before_its_rows_arrive_gets_a_current_row(qtbot, ctx, messages):
    school(ctx, "Oakfield Primary")
    view = SchoolsView(ctx)  # its rows are read on a worker...
    qtbot.addWidget(view)
    view.show()
    view.activateWindow()
    view.table.setFocus()  # ...while the (still empty) table takes the focus
    qtbot.waitUntil(view.table.hasFocus)
    wait_for_reads(qtbot)
    # As if the rows had been there when it took the focus: a current cell, no selection.
    assert (view.table.currentIndex().row(), view.table.currentIndex().column()) == (0, 0)
    assert view.selected_school() is None


def _click_header(qtbot, view: SchoolsView, column: int) -> None:
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    wait_for_reads(qtbot)


def test_a_header_click_sorts_in_sql_and_keeps_the_selection(qtbot, ctx, view):
    school(ctx, "Ash Grove School", urn="100003")
    school(ctx, "Birch Lane Infants", urn="100001")
    school(ctx, "Cedar Academy", urn="100002")
    view.refresh()
    wait_for_reads(qtbot)
    select(view, "Cedar Academy")
    _click_header(qtbot, view, M.URN)
    assert (view.model.query.sort, view.model.query.descending) == ("urn", False)
    assert names(view) == ["Birch Lane Infants", "Cedar Academy", "Ash Grove School"]
    assert view.selected_school().name == "Cedar Academy"
    _click_header(qtbot, view, M.URN)
    assert view.model.query.descending
    assert names(view) == ["Ash Grove School", "Cedar Academy", "Birch Lane Infants"]
    assert view.selected_school().name == "Cedar Academy"


def test_the_list_reads_a_page_at_a_time(qtbot, ctx, messages, monkeypatch):
    monkeypatch.setattr("crm_desktop.ui.schools.schools_page.PAGE_SIZE", 10)
    for i in range(35):
        school(ctx, f"School {i:02d}")
    view = SchoolsView(ctx)
    qtbot.addWidget(view)
    view.resize(1000, 300)
    view.show()
    wait_for_reads(qtbot)
    assert view.model.rowCount() == 35 and view.count_label.text() == "35 schools"
    assert view.model.cached_pages == 1  # only the page shown was read
    view.table.scrollToBottom()
    assert view.model.index(34, M.NAME).data() == "School 34"
    view.search_edit.setText("School 3")
    view._search_now()
    wait_for_reads(qtbot)
    assert names(view) == [f"School 3{i}" for i in range(5)]


def test_every_heading_is_whole_before_the_first_page_arrives(qtbot, ctx, messages):
    school(ctx, "Oakfield Primary School")
    widget = SchoolsView(ctx)
    widget.load_on_show = False  # nothing read yet: only the headings to show
    qtbot.addWidget(widget)
    widget.resize(1024, 640)
    widget.show()
    qtbot.waitExposed(widget)
    header = widget.table.horizontalHeader()
    assert widget.model.rowCount() == 0
    for col in range(widget.model.columnCount()):
        if col != SchoolsModel.NAME:
            title = widget.model.headerData(col, Qt.Orientation.Horizontal)
            assert header.sectionSize(col) >= header.sectionSizeHint(col), title
