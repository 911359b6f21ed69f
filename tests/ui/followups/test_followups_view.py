"""The follow-ups view: status, highlighting, Mine/Everyone, Mark done, activation."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextDocument
from reads_support import wait_for_reads

from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.errors import DatabaseError
from crm_desktop.services import Context, correspondence
from crm_desktop.services.correspondence import list_followups, log_contact
from crm_desktop.services.prospects import create_prospect, delete_prospect, get_prospect
from crm_desktop.ui.common.appearance import due_soon_color, overdue_color
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.followups.followups_page import (
    SCOPE_KEY,
    ContactIdRole,
    FollowUpsModel,
    FollowUpsView,
    ProspectIdRole,
    StatusRole,
)

TODAY = date.today()
M = FollowUpsModel


@pytest.fixture
def view_settings(tmp_path) -> QSettings:
    """A private settings file, so no test sees another's Mine/Everyone choice."""
    return QSettings(str(tmp_path / "followups.ini"), QSettings.Format.IniFormat)


def prospect(ctx: Context, first: str, last: str, school: str | None = None) -> int:
    data = ProspectInput(
        first_name=first, last_name=last, email=f"{first}.{last}@example.org", school=school
    )
    return create_prospect(ctx, data).record.id


def follow_up(ctx: Context, prospect_id: int, due: date, subject: str = "Call back") -> int:
    """Log a call ten days ago with a follow-up on ``due``; the contact id."""
    when = datetime.now(UTC) - timedelta(days=10)
    data = ContactInput(
        kind="call", subject=subject, summary="Talked.", occurred_at=when, follow_up_on=due
    )
    return log_contact(ctx, prospect_id, data).id


@pytest.fixture
def make_view(qtbot, ctx, view_settings):
    """``make_view(context=ctx, mine=None)``: a follow-ups view on private settings."""

    def make(context: Context | None = None, *, mine: bool | None = None) -> FollowUpsView:
        view = FollowUpsView(context or ctx, settings=view_settings)
        qtbot.addWidget(view)
        if mine is not None:
            view.set_mine(mine)
        view.show()  # the list is read when the page is first shown, on a worker
        wait_for_reads(qtbot)
        return view

    return make


def column(view: FollowUpsView, col: int, role=Qt.ItemDataRole.DisplayRole) -> list:
    m = view.model
    return [m.index(r, col).data(role) for r in range(m.rowCount())]


def plain(html: str) -> str:
    doc = QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


def select_rows(view: FollowUpsView, *rows: int) -> None:
    """Select whole rows as a user would, independent of any modifier key state."""
    sel = view.table.selectionModel()
    flag = sel.SelectionFlag
    sel.clearSelection()
    for row in rows:
        sel.select(view.model.index(row, 0), flag.Select | flag.Rows)
    sel.setCurrentIndex(view.model.index(rows[-1], 0), flag.NoUpdate)


@pytest.fixture
def three(ctx):
    """One overdue, one due today, one upcoming follow-up, all logged by alice."""
    late = prospect(ctx, "Priya", "Sharma", "Oakfield Primary")
    now = prospect(ctx, "Tom", "Baker", "Hill Top Academy")
    soon = prospect(ctx, "Ann", "Lee")
    # Logged in the reverse order, so ordering comes from the dates.
    ids = {
        "upcoming": follow_up(ctx, soon, TODAY + timedelta(days=5), "Send quote"),
        "today": follow_up(ctx, now, TODAY, "Book demo"),
        "overdue": follow_up(ctx, late, TODAY - timedelta(days=3), "Chase invoice"),
    }
    return ids, {"overdue": late, "today": now, "upcoming": soon}


def test_statuses_order_and_highlighting(qtbot, make_view, ctx, three):
    contact_ids, prospect_ids = three
    view = make_view(mine=True)

    assert column(view, M.STATUS) == ["Overdue", "Due today", "Upcoming"]
    assert column(view, M.STATUS, StatusRole) == ["overdue", "today", "upcoming"]
    assert column(view, M.PROSPECT) == ["Priya Sharma", "Tom Baker", "Ann Lee"]
    assert column(view, M.SCHOOL) == ["Oakfield Primary", "Hill Top Academy", ""]
    assert column(view, M.KIND) == ["Phone call"] * 3
    assert column(view, M.ASSIGNED) == ["alice"] * 3
    assert column(view, M.SUBJECT)[0].startswith("Chase invoice")
    assert column(view, 0, ContactIdRole) == [
        contact_ids["overdue"],
        contact_ids["today"],
        contact_ids["upcoming"],
    ]
    due = TODAY - timedelta(days=3)
    assert column(view, M.DUE)[0] == f"{due:%a} {due.day} {due:%b %Y}"

    colors = column(view, M.PROSPECT, Qt.ItemDataRole.ForegroundRole)
    assert colors[0] == overdue_color()
    assert colors[1] == due_soon_color()
    assert colors[2] is None
    fonts = column(view, M.PROSPECT, Qt.ItemDataRole.FontRole)
    assert fonts[0] is not None and fonts[0].bold()
    assert fonts[1] is None and fonts[2] is None
    assert "3 days overdue" in view.model.index(0, M.STATUS).data(Qt.ItemDataRole.ToolTipRole)

    assert plain(view.counts_label.text()) == "1 overdue · 1 due today · 1 upcoming"
    assert view.stack.currentWidget() is view.table


def test_long_summary_is_one_line_and_elided(qtbot, make_view, ctx):
    pid = prospect(ctx, "Long", "Talker")
    when = datetime.now(UTC) - timedelta(days=1)
    summary = "First line\nsecond line " + "word " * 200
    log_contact(
        ctx, pid, ContactInput(kind="note", summary=summary, occurred_at=when, follow_up_on=TODAY)
    )
    view = make_view(mine=True)
    text = view.model.index(0, M.SUBJECT).data()
    assert "\n" not in text
    assert text.startswith("First line second line")
    assert len(text) <= 200 and text.endswith("…")


def test_mine_and_everyone_and_the_choice_is_remembered(qtbot, make_view, ctx, db, view_settings):
    alices = prospect(ctx, "Priya", "Sharma")
    follow_up(ctx, alices, TODAY)
    bob = Context(db, user="bob")
    follow_up(bob, prospect(bob, "Ian", "Jones"), TODAY + timedelta(days=1))

    view = make_view()
    assert view.mine  # the default
    assert column(view, M.ASSIGNED) == ["alice"]

    view.everyone_button.click()
    wait_for_reads(qtbot)
    assert not view.mine
    assert column(view, M.ASSIGNED) == ["alice", "bob"]
    assert plain(view.counts_label.text()) == "0 overdue · 1 due today · 1 upcoming"

    assert view_settings.value(SCOPE_KEY) == "everyone"
    again = make_view()
    assert again.everyone_button.isChecked()
    assert again.model.rowCount() == 2

    again.mine_button.click()
    wait_for_reads(qtbot)
    assert again.model.rowCount() == 1
    assert make_view().mine_button.isChecked()

    # The same choice as bob shows bob's.
    bobs_view = make_view(bob, mine=True)
    assert column(bobs_view, M.ASSIGNED) == ["bob"]


def test_mark_done_button_removes_row_and_signals(qtbot, make_view, ctx, three):
    contact_ids, prospect_ids = three
    view = make_view(mine=True)
    assert not view.mark_done_button.isEnabled()  # nothing selected yet
    select_rows(view, 0)
    assert view.mark_done_button.isEnabled()

    with qtbot.waitSignal(view.bus.changed, timeout=2000) as changed:
        qtbot.mouseClick(view.mark_done_button, Qt.MouseButton.LeftButton)
    assert changed.args[0] == Change.of(Kind.CONTACTS, by="followups")
    wait_for_reads(qtbot)

    assert column(view, M.STATUS) == ["Due today", "Upcoming"]
    open_ids = [f.contact_id for f in list_followups(ctx)]
    assert contact_ids["overdue"] not in open_ids
    assert get_prospect(ctx, prospect_ids["overdue"]).next_follow_up is None
    assert plain(view.counts_label.text()) == "0 overdue · 1 due today · 1 upcoming"


def test_ctrl_d_marks_several_selected_rows_done(qtbot, make_view, ctx, three):
    view = make_view(mine=True)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    select_rows(view, 0, 2)

    with qtbot.waitSignal(view.bus.changed, timeout=2000):
        qtbot.keyClick(view.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    wait_for_reads(qtbot)

    assert column(view, M.STATUS) == ["Due today"]
    assert len(list_followups(ctx)) == 1


def test_last_follow_up_done_shows_empty_state(qtbot, make_view, ctx):
    follow_up(ctx, prospect(ctx, "Priya", "Sharma"), TODAY)
    view = make_view(mine=True)
    assert view.stack.currentWidget() is view.table
    select_rows(view, 0)
    with qtbot.waitSignal(view.bus.changed, timeout=2000):
        view.mark_selected_done()
    wait_for_reads(qtbot)
    assert view.stack.currentWidget() is view.empty_label
    assert "no open follow-ups" in plain(view.empty_label.text()).lower()


def test_empty_state_for_everyone(qtbot, make_view, ctx):
    view = make_view(mine=False)
    assert view.model.rowCount() == 0
    assert view.stack.currentWidget() is view.empty_label
    assert "No open follow-ups." in plain(view.empty_label.text())
    assert not view.mark_done_button.isEnabled()


def test_mark_done_of_a_vanished_follow_up_reports_the_error(qtbot, make_view, ctx, monkeypatch):
    pid = prospect(ctx, "Gone", "Away")
    follow_up(ctx, pid, TODAY)
    view = make_view(mine=True)
    errors = []
    monkeypatch.setattr(FollowUpsView, "show_error", staticmethod(lambda *a: errors.append(a)))
    select_rows(view, 0)
    delete_prospect(ctx, pid)  # someone else deletes it meanwhile

    with qtbot.assertNotEmitted(view.bus.changed):
        view.mark_selected_done()
    wait_for_reads(qtbot)
    assert len(errors) == 1
    assert "No correspondence entry" in errors[0][2]
    assert view.model.rowCount() == 0  # reloaded


def test_enter_and_double_click_open_the_prospect(qtbot, make_view, ctx, three):
    _, prospect_ids = three
    view = make_view(mine=True)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    view.table.setFocus()
    select_rows(view, 1)

    with qtbot.waitSignal(view.prospectActivated, timeout=2000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert blocker.args == [prospect_ids["today"]]

    rect = view.table.visualRect(view.model.index(2, M.PROSPECT))
    # A real double-click starts with a press; item views ignore one without.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(view.prospectActivated, timeout=2000) as blocker:
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [prospect_ids["upcoming"]]
    assert view.model.index(2, 0).data(ProspectIdRole) == prospect_ids["upcoming"]


def test_refresh_keeps_the_selection(qtbot, make_view, ctx, three):
    view = make_view(mine=True)
    select_rows(view, 1)
    selected = view.selected_contact_ids()
    follow_up(ctx, prospect(ctx, "New", "Person"), TODAY - timedelta(days=9))
    view.refresh()
    wait_for_reads(qtbot)
    assert view.model.rowCount() == 4
    assert view.selected_contact_ids() == selected


def test_followups_model_passes_qtmodeltester(qtmodeltester, ctx, db, three):
    follow_up(Context(db, user="bob"), prospect(ctx, "Ian", "Jones"), TODAY)
    model = FollowUpsModel()
    model.set_rows(list_followups(ctx))
    assert model.rowCount() == 4
    qtmodeltester.check(model, force_py=True)
    model.set_rows([])
    qtmodeltester.check(model, force_py=True)


def test_a_database_error_is_shown_in_place_of_the_list(qtbot, make_view, ctx, monkeypatch):
    view = make_view(mine=True)

    def broken(*args, **kwargs):
        raise DatabaseError("The database is busy: another program is writing to it.")

    monkeypatch.setattr(correspondence, "list_followups", broken)
    view.refresh()
    wait_for_reads(qtbot)
    assert view.stack.currentWidget() is view.empty_label
    assert "could not be loaded" in plain(view.empty_label.text())
    assert "The database is busy" in plain(view.empty_label.text())


def test_the_list_is_read_off_the_gui_thread_and_shown(qtbot, make_view, ctx, three, monkeypatch):
    view = make_view(mine=True)
    threads = []
    real = correspondence.list_followups

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(correspondence, "list_followups", recording)
    follow_up(ctx, prospect(ctx, "New", "Person"), TODAY - timedelta(days=9))
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 4)
    assert threads and threading.main_thread() not in threads
    assert plain(view.counts_label.text()) == "2 overdue · 1 due today · 1 upcoming"
