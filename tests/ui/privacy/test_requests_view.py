"""The Requests tab: recording through the dialog, highlighting, extend, close, roles."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialogButtonBox, QLabel
from reads_support import wait_for_reads
from ui_tabs import PROSPECTS_TAB, REQUESTS_TAB

from crm_desktop.domain.roles import Role
from crm_desktop.errors import DatabaseError
from crm_desktop.services import Context, audit
from crm_desktop.services import requests as R
from crm_desktop.ui.common.appearance import due_soon_color, overdue_color
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.privacy.request_dialogs import CloseDialog, ExtendDialog, RequestDialog
from crm_desktop.ui.privacy.requests_page import (
    OverdueBadge,
    RequestIdRole,
    RequestsModel,
    RequestsView,
    UrgencyRole,
)

TODAY = date.today()
LEFT = Qt.MouseButton.LeftButton
M = RequestsModel


@pytest.fixture
def view(qtbot, ctx) -> RequestsView:
    v = RequestsView(ctx)
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    wait_for_reads(qtbot)  # the register is read on a worker
    return v


def click_save(qtbot, dialog) -> None:
    button = next(
        b
        for b in dialog.buttons.buttons()
        if dialog.buttons.buttonRole(b) == QDialogButtonBox.ButtonRole.AcceptRole
    )
    qtbot.mouseClick(button, LEFT)


def column(view: RequestsView, col: int, role=Qt.ItemDataRole.DisplayRole) -> list:
    m = view.model
    return [m.index(r, col).data(role) for r in range(m.rowCount())]


def request_actions(ctx, request_id) -> list[str]:
    return [e.action for e in reversed(audit.entries(ctx, entity="request", entity_id=request_id))]


def test_the_model_passes_qtmodeltester(qtmodeltester, ctx):
    R.add_request(ctx, "access", requester_name="Late", received=TODAY - timedelta(days=40))
    R.add_request(ctx, "erasure", email="a@b.org", received=TODAY - timedelta(days=25))
    done = R.add_request(ctx, "objection", phone="020 7946 0000")
    R.close_request(ctx, done.id, "Opted out")
    model = RequestsModel()
    model.set_rows(R.list_requests(ctx, open_only=False))
    assert model.rowCount() == 3
    qtmodeltester.check(model, force_py=True)
    model.set_rows([])
    qtmodeltester.check(model, force_py=True)


def test_record_a_request_for_the_selected_prospect_through_the_dialog(
    qtbot, make_window, ctx, add_prospect
):
    pid = add_prospect("Katherine", "Johnson", school="Langley Primary")
    window = make_window()
    assert window.prospects.select_prospect(pid)
    window.commands.new_request.trigger()
    qtbot.waitUntil(lambda: window.findChild(RequestDialog) is not None)
    dialog = window.findChild(RequestDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.prospect.text() == str(pid)
    wait_for_reads(qtbot)  # whose request it is, looked up on a worker
    assert dialog.match.text().startswith("✓ Katherine Johnson, Langley Primary")
    assert dialog.received.date() == date.today()
    dialog.kind.setCurrentIndex(dialog.kind.findData("erasure"))
    dialog.received.setDate(TODAY - timedelta(days=3))
    qtbot.keyClicks(dialog.notes, "Asked on the phone to be forgotten")
    with qtbot.waitSignal(window.bus.changed) as changed:
        click_save(qtbot, dialog)

    v = dialog.saved
    assert changed.args[0] == Change.of(Kind.REQUESTS, ids=(v.id,), select=v.id, by="requests")
    assert (v.kind, v.prospect_id, v.received_on) == ("erasure", pid, TODAY - timedelta(days=3))
    assert v.notes == "Asked on the phone to be forgotten" and v.created_by == "alice"
    [stored] = R.list_requests(ctx)
    assert stored.id == v.id and stored.due_on == v.due_on
    assert request_actions(ctx, v.id) == ["request.created"]
    window.commands.show_requests.trigger()
    assert window.tabs.currentIndex() == REQUESTS_TAB
    wait_for_reads(qtbot)
    assert window.requests.selected_request().id == v.id
    assert "Katherine Johnson" in window.requests.detail_text()


def test_an_unmatched_requester_and_errors_beside_the_fields(qtbot, view, ctx):
    dialog = view.new_request()
    qtbot.waitUntil(dialog.isVisible)
    # No future dates: the date field refuses them, and the due date follows it.
    dialog.received.setDate(TODAY + timedelta(days=5))
    assert dialog.received.date() is None
    assert dialog.received.message.text() == "The date received cannot be in the future."
    dialog.received.setDate(date(2024, 1, 31))
    assert dialog.due.text().startswith("Thu 29 Feb 2024")

    click_save(qtbot, dialog)  # no requester at all
    assert dialog.isVisible()
    assert dialog.errors() == {
        "requester": "Give the prospect, or the requester's name, email address or phone number."
    }
    qtbot.keyClicks(dialog.prospect, "nobody@nowhere.org")
    wait_for_reads(qtbot)
    assert "No prospect has this id or email" in dialog.match.text()
    click_save(qtbot, dialog)
    assert dialog.match.text() == "No prospect has the id or email 'nobody@nowhere.org'."
    assert dialog.match.property("fieldError") is True
    dialog.prospect.clear()
    qtbot.keyClicks(dialog.name, "Sam Parent")
    qtbot.keyClicks(dialog.email, "not an address")
    click_save(qtbot, dialog)
    assert set(dialog.errors()) == {"email"}
    assert R.list_requests(ctx) == []  # nothing stored while the form is wrong

    dialog.email.setText("sam.parent@gmail.com")
    with qtbot.waitSignal(dialog.accepted):
        click_save(qtbot, dialog)
    v = dialog.saved
    assert v.prospect_id is None and v.requester == "Sam Parent <sam.parent@gmail.com>"
    assert (v.received_on, v.due_on) == (date(2024, 1, 31), date(2024, 2, 29))
    wait_for_reads(qtbot)
    assert view.selected_request().id == v.id


def test_overdue_rows_red_due_soon_amber_and_the_status_bar_count(
    qtbot, make_window, ctx, add_prospect
):
    late = R.add_request(ctx, "access", requester_name="Late", received=TODAY - timedelta(40))
    soon = R.add_request(ctx, "erasure", requester_name="Soon", received=TODAY - timedelta(25))
    fine = R.add_request(ctx, "portability", requester_name="Fine")
    window = make_window()
    badge = window.overdue
    assert badge.isVisible() and badge.text() == "1 request overdue"
    assert window.tabs.isTabVisible(REQUESTS_TAB)
    window.tabs.setCurrentIndex(PROSPECTS_TAB)
    qtbot.mouseClick(badge, LEFT)  # the count takes you to the requests
    assert window.tabs.currentIndex() == REQUESTS_TAB
    wait_for_reads(qtbot)

    view = window.requests
    assert column(view, M.ID, RequestIdRole) == [late.id, soon.id, fine.id]  # by due date
    assert column(view, M.ID, UrgencyRole) == ["overdue", "due-soon", "ok"]
    colours = column(view, M.REQUESTER, Qt.ItemDataRole.ForegroundRole)
    assert colours[:2] == [overdue_color(), due_soon_color()] and colours[2] is None
    assert all(view.model.index(0, c).data(Qt.ItemDataRole.ForegroundRole) == overdue_color()
               for c in range(view.model.columnCount()))  # fmt: skip
    font = view.model.index(0, M.DUE).data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    assert view.model.index(2, M.DUE).data(Qt.ItemDataRole.BackgroundRole) is None
    deadline = column(view, M.DEADLINE)
    assert deadline[0].startswith("Overdue by ") and deadline[2].endswith("days left")
    assert "1 overdue" in view.counts_label.text() and "3 open" in view.counts_label.text()

    # Closing the overdue one clears the count.
    R.update_request(ctx, late.id, identity_verified=True)
    view.select_request(late.id)
    dialog = view.close_selected()
    qtbot.keyClicks(dialog.outcome, "Sent the pack")
    with qtbot.waitSignal(dialog.accepted):
        click_save(qtbot, dialog)
    wait_for_reads(qtbot)  # the count and the register are read again on workers
    assert not badge.isVisible() and badge.count == 0
    assert column(view, M.ID, RequestIdRole) == [soon.id, fine.id]


def test_verify_extend_and_close_through_the_gui(qtbot, view, ctx, prompter):
    v = R.add_request(ctx, "access", requester_name="Jane", received=TODAY - timedelta(days=2))
    view.refresh(select_id=v.id)
    wait_for_reads(qtbot)
    assert view.verify_button.isEnabled() and view.extend_button.isEnabled()

    prompter.answers = [False]  # "Verify identity?" No: nothing recorded
    view.verify_button.click()
    assert not R.get_request(ctx, v.id).identity_verified
    prompter.answers = [True]
    view.verify_button.click()
    assert "identity of Jane" in prompter.questions[-1][1]
    assert R.get_request(ctx, v.id).verified_by == "alice"
    wait_for_reads(qtbot)
    assert not view.verify_button.isEnabled()

    view.extend_button.click()
    dialog = view.dialog
    assert isinstance(dialog, ExtendDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.months.setCurrentIndex(dialog.months.findData(1))
    click_save(qtbot, dialog)  # no reason yet
    assert set(dialog.errors()) == {"reason"} and dialog.isVisible()
    qtbot.keyClicks(dialog.reason, "Records in three systems")
    with qtbot.waitSignal(dialog.accepted):
        click_save(qtbot, dialog)
    extended = dialog.saved
    assert extended.extension_months == 1 and extended.due_on > v.due_on
    assert extended.extension_reason == "Records in three systems"
    wait_for_reads(qtbot)
    assert view.model.index(0, M.DUE).data().endswith("(extended)")
    assert not view.extend_button.isEnabled()  # once only

    view.close_button.click()
    dialog = view.dialog
    assert isinstance(dialog, CloseDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.refused.setChecked(True)
    qtbot.keyClicks(dialog.outcome, "Manifestly excessive: a repeat of last month's")
    with qtbot.waitSignal(dialog.accepted):
        click_save(qtbot, dialog)
    assert dialog.saved.status == "refused"
    wait_for_reads(qtbot)
    assert view.model.rowCount() == 0 and view.stack.currentWidget() is view.empty_label
    view.show_closed.setChecked(True)
    wait_for_reads(qtbot)
    assert column(view, M.STATUS) == ["Refused"]
    assert not view.close_button.isEnabled() and not view.edit_button.isEnabled()
    assert request_actions(ctx, v.id) == [
        "request.created",
        "request.updated",
        "request.extended",
        "request.closed",
    ]
    assert audit.verify(ctx).ok


def test_completing_needs_the_identity_verified(qtbot, view, ctx):
    v = R.add_request(ctx, "erasure", requester_name="Jane")
    view.refresh(select_id=v.id)
    wait_for_reads(qtbot)
    dialog = view.close_selected()
    qtbot.keyClicks(dialog.outcome, "Deleted everything")
    click_save(qtbot, dialog)
    assert dialog.isVisible()
    assert dialog.errors()["identity_verified"].startswith("Identity must be verified")
    assert R.get_request(ctx, v.id).status == "open"


def test_extend_is_offered_only_in_the_first_month(qtbot, view, ctx):
    v = R.add_request(ctx, "access", requester_name="Late", received=TODAY - timedelta(days=40))
    view.refresh(select_id=v.id)
    wait_for_reads(qtbot)
    assert not view.extend_button.isEnabled()
    assert "Too late" in view.extend_button.toolTip()


def test_link_a_prospect_later_through_the_edit_dialog(qtbot, view, ctx, add_prospect):
    v = R.add_request(ctx, "rectification", email="j.smith@home.org", requester_name="J Smith")
    pid = add_prospect("Jane", "Smith")
    view.refresh(select_id=v.id)
    wait_for_reads(qtbot)
    dialog = view.edit_selected()
    qtbot.waitUntil(dialog.isVisible)
    assert not dialog.kind.isEnabled() and not dialog.received.isEnabled()
    assert dialog.name.text() == "J Smith"
    qtbot.keyClicks(dialog.prospect, "jane.smith@example.sch.uk")
    wait_for_reads(qtbot)
    assert dialog.match.text().startswith("✓ Jane Smith")
    with qtbot.waitSignal(dialog.accepted):
        click_save(qtbot, dialog)
    assert dialog.saved.prospect_id == pid
    assert request_actions(ctx, v.id) == ["request.created", "request.updated"]
    wait_for_reads(qtbot)
    assert "#" + str(pid) + " Jane Smith" in view.detail_text()


@pytest.mark.parametrize("role", [Role.SALES, Role.MARKETING])
def test_other_roles_see_no_requests(make_window, ctx, role):
    R.add_request(ctx, "access", requester_name="Late", received=TODAY - timedelta(days=40))
    window = make_window(Context(ctx.db, user="pat", role=role))
    assert not window.tabs.isTabVisible(REQUESTS_TAB)
    assert not window.commands.new_request.isVisible()
    assert not window.commands.show_requests.isVisible()
    assert not window.overdue.isVisible()
    assert window.requests.model.rowCount() == 0


def test_managers_see_the_requests(make_window, ctx):
    R.add_request(ctx, "access", requester_name="Late", received=TODAY - timedelta(days=40))
    window = make_window(Context(ctx.db, user="meg", role=Role.MANAGER))
    assert window.tabs.isTabVisible(REQUESTS_TAB)
    assert window.commands.new_request.isVisible() and window.commands.show_requests.isVisible()
    assert window.overdue.isVisible() and window.overdue.text() == "1 request overdue"


def test_the_date_received_is_typed_and_an_impossible_one_refused(qtbot, view, ctx):
    dialog = view.new_request()
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.name, "Sam Parent")
    field = dialog.received.edit
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "30 Feb 2024")
    click_save(qtbot, dialog)
    assert dialog.isVisible() and R.list_requests(ctx) == []
    assert dialog.received.message.text() == (
        "30 Feb 2024 is not a date: February 2024 has 29 days."
    )
    field.selectAll()
    qtbot.keyClicks(field, "31 1 2024")
    assert dialog.due.text().startswith("Thu 29 Feb 2024")
    with qtbot.waitSignal(dialog.accepted):
        click_save(qtbot, dialog)
    assert dialog.saved.received_on == date(2024, 1, 31)


def test_the_register_and_the_overdue_count_are_read_off_the_gui_thread(
    qtbot, view, ctx, monkeypatch
):
    threads = []

    def recording(real):
        def read(*args, **kwargs):
            threads.append((real.__name__, threading.current_thread()))
            return real(*args, **kwargs)

        return read

    for name in ("list_requests", "overdue_count"):
        monkeypatch.setattr(R, name, recording(getattr(R, name)))
    late = R.add_request(ctx, "access", requester_name="Late", received=TODAY - timedelta(40))
    badge = OverdueBadge(ctx)
    qtbot.addWidget(badge)
    badge.refresh()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1 and badge.count == 1)
    assert {name for name, _thread in threads} == {"list_requests", "overdue_count"}
    assert threading.main_thread() not in {thread for _name, thread in threads}
    assert column(view, M.ID, RequestIdRole) == [late.id]
    assert badge.text() == "1 request overdue"
    assert "1 overdue" in view.counts_label.text()


def test_a_refresh_while_a_read_runs_still_selects_the_request_asked_for(qtbot, view, ctx):
    first = R.add_request(ctx, "access", requester_name="First", received=TODAY - timedelta(9))
    second = R.add_request(ctx, "access", requester_name="Second")
    view.refresh(select_id=first.id)
    wait_for_reads(qtbot)
    view.refresh(select_id=second.id)  # e.g. just saved
    view.refresh()  # e.g. the change signal, before the first read came back
    wait_for_reads(qtbot)
    assert view.selected_request().id == second.id
    assert "Second" in view.detail_text()


def test_a_register_that_cannot_be_read_says_why(qtbot, view, ctx, monkeypatch, prompter):
    R.add_request(ctx, "access", requester_name="Jane")

    def broken(*_args, **_kwargs):
        raise DatabaseError("The database file went away.")

    monkeypatch.setattr(R, "list_requests", broken)
    view.refresh()
    wait_for_reads(qtbot)
    assert view.model.rowCount() == 0 and view.stack.currentWidget() is view.empty_label
    assert "Requests could not be loaded." in view.empty_label.text()
    assert "The database file went away." in view.empty_label.text()
    assert prompter.errors() == []  # said on the page, not in a message box


def test_a_slow_read_covers_the_register_but_not_its_controls(qtbot, view, ctx, monkeypatch):
    R.add_request(ctx, "access", requester_name="Jane")
    release = threading.Event()
    real = R.list_requests

    def slow(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(R, "list_requests", slow)
    view.refresh()
    try:
        qtbot.waitUntil(lambda: view.stack.findChild(QLabel, "loadingCover") is not None)
        cover = view.stack.findChild(QLabel, "loadingCover")
        qtbot.waitUntil(cover.isVisible)
        assert cover.text() == "Loading…" and cover.geometry() == view.stack.rect()
        assert view.show_closed.isVisible() and view.new_button.isVisible()
    finally:
        release.set()
    wait_for_reads(qtbot)
    assert not cover.isVisible()
    assert column(view, M.REQUESTER) == ["Jane"]


def test_a_request_selected_while_the_register_is_read_stays_selected(qtbot, view, ctx):
    first = R.add_request(ctx, "access", requester_name="First", received=TODAY - timedelta(9))
    second = R.add_request(ctx, "access", requester_name="Second")
    view.refresh(select_id=first.id)
    wait_for_reads(qtbot)
    view.refresh()  # e.g. the change signal...
    assert view.select_request(second.id)  # ...and the person clicks another meanwhile
    wait_for_reads(qtbot)
    assert view.selected_request().id == second.id


def test_the_requester_is_looked_up_off_the_gui_thread_as_it_is_typed(
    qtbot, view, ctx, add_prospect, monkeypatch
):
    import threading

    from crm_desktop.services import prospects as prospect_service

    add_prospect("Jane", "Smith")
    threads = []
    real = prospect_service.find_prospect

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(prospect_service, "find_prospect", recording)
    dialog = view.new_request()
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.prospect, "jane.smith@example.sch.uk")
    wait_for_reads(qtbot)
    assert threads and threading.main_thread() not in threads
    assert dialog.match.text() == "✓ Jane Smith <jane.smith@example.sch.uk>"
    assert dialog.match.property("fieldError") is False
    # Only the latest text counts: typing on past a match says so at once.
    qtbot.keyClicks(dialog.prospect, "x")
    wait_for_reads(qtbot)
    assert dialog.match.text().startswith("No prospect has this id or email address.")
    dialog.prospect.clear()
    assert dialog.match.text() == "Not linked: give the requester's details below."
    wait_for_reads(qtbot)
    assert dialog.match.text() == "Not linked: give the requester's details below."
    dialog.reject()
