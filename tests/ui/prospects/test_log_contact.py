"""Logging a contact: Ctrl+L, type, Ctrl+Enter, and everything that shows it."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import QDate, QDateTime, QPoint, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QTextBrowser, QWidget
from reads_support import wait_for_reads
from ui_tabs import FOLLOWUPS_TAB

from crm_desktop.domain.dates import format_date
from crm_desktop.domain.enums import ContactKind
from crm_desktop.domain.validation import ContactInput
from crm_desktop.services import Context, correspondence, prospects
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.prospects.log_contact_dialog import LogContactDialog
from crm_desktop.ui.prospects.prospect_model import LAST_CONTACT, NEXT_FOLLOW_UP

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture(autouse=True)
def _default_kind():
    """The dialog remembers the last kind for the session; start each test afresh."""
    LogContactDialog.last_kind = ContactKind.CALL
    yield
    LogContactDialog.last_kind = ContactKind.CALL


@pytest.fixture
def selected(qtbot, make_window, add_prospect):
    """A window with one prospect, selected, and the table focused."""
    pid = add_prospect("Katherine", "Johnson", school="Langley Primary")
    window = make_window()
    assert window.prospects.select_prospect(pid)
    wait_for_reads(qtbot)  # the detail pane reads the prospect on a worker
    window.prospects.table.setFocus()
    qtbot.waitUntil(window.prospects.table.hasFocus)
    return window, pid


def open_log_dialog(qtbot, window) -> LogContactDialog:
    qtbot.keyClick(window.prospects.table, Qt.Key.Key_L, CTRL)
    qtbot.waitUntil(lambda: window.findChild(LogContactDialog) is not None)
    dialog = window.findChild(LogContactDialog)
    qtbot.waitUntil(dialog.isActiveWindow)
    wait_for_reads(qtbot)  # the open follow-ups (Save waits for them)
    return dialog


def test_ctrl_l_type_ctrl_enter_logs_it_and_the_timeline_shows_it(qtbot, selected, ctx):
    window, pid = selected
    dialog = open_log_dialog(qtbot, window)
    assert QApplication.focusWidget() is dialog.summary  # the summary is focused first
    qtbot.keyClicks(dialog.summary, "Asked about the trial")
    qtbot.keyClick(dialog.summary, Qt.Key.Key_Return)  # a new line, not a save
    assert dialog.isVisible()
    qtbot.keyClicks(dialog.summary, "Call back after half term")
    with qtbot.waitSignal(dialog.bus.changed) as logged:
        qtbot.keyClick(dialog.summary, Qt.Key.Key_Return, CTRL)

    assert logged.args[0] == Change.of(Kind.CONTACTS, ids=(pid,))
    contact = dialog.logged
    assert contact.summary == "Asked about the trial\nCall back after half term"
    assert contact.kind == "call" and contact.logged_by == "alice"
    assert [c.id for c in correspondence.list_correspondence(ctx, pid)] == [contact.id]
    wait_for_reads(qtbot)
    timeline = window.prospects.detail.plain_text()
    assert "Phone call" in timeline and "Call back after half term" in timeline
    assert "Correspondence (1)" in timeline
    row = window.prospects.model.position_of(pid)
    assert window.prospects.model.index(row, LAST_CONTACT).data()  # last contact filled in
    assert window.prospects.selected_id() == pid  # the selection survived the refresh


def test_enter_outside_the_summary_saves(qtbot, selected, ctx):
    window, pid = selected
    dialog = open_log_dialog(qtbot, window)
    dialog.kind.setCurrentIndex(dialog.kind.findData("email-out"))
    dialog.summary.setPlainText("Sent the brochure")
    qtbot.keyClicks(dialog.subject, "Brochure")
    with qtbot.waitSignal(dialog.bus.changed):
        qtbot.keyClick(dialog.subject, Qt.Key.Key_Return)
    [entry] = correspondence.list_correspondence(ctx, pid)
    assert (entry.kind, entry.subject, entry.summary) == (
        "email-out",
        "Brochure",
        "Sent the brochure",
    )
    assert LogContactDialog.last_kind is ContactKind.EMAIL_OUT  # offered first next time


def test_a_follow_up_shows_in_the_table_and_the_follow_ups_view(qtbot, selected, ctx):
    window, pid = selected
    dialog = open_log_dialog(qtbot, window)
    qtbot.keyClicks(dialog.summary, "Wants a demo for the SLT")
    dialog.follow_up_set.setChecked(True)
    due = date.today() + timedelta(days=3)
    dialog.follow_up.setDate(QDate(due))
    with qtbot.waitSignal(dialog.bus.changed):
        qtbot.keyClick(dialog.summary, Qt.Key.Key_Enter, CTRL)  # keypad Enter too

    model = window.prospects.model
    wait_for_reads(qtbot)  # the table re-reads its rows on a worker
    assert model.index(model.position_of(pid), NEXT_FOLLOW_UP).data() == format_date(due)
    window.commands.show_followups.trigger()
    assert window.tabs.currentIndex() == FOLLOWUPS_TAB
    wait_for_reads(qtbot)  # the follow-ups are read on a worker
    rows = window.followups.model.rows()
    assert [(r.prospect_id, r.due, r.summary) for r in rows] == [
        (pid, due, "Wants a demo for the SLT")
    ]
    assert not window.commands.log_contact.isEnabled()  # acts on the Prospects tab only


def test_an_empty_summary_is_refused_in_the_form(qtbot, selected, ctx):
    window, pid = selected
    dialog = open_log_dialog(qtbot, window)
    qtbot.keyClicks(dialog.summary, "   ")
    qtbot.keyClick(dialog.summary, Qt.Key.Key_Return, CTRL)
    assert dialog.isVisible()
    assert dialog.errors() == {"summary": "Summary is required."}
    assert correspondence.list_correspondence(ctx, pid) == []
    dialog.reject()


def test_the_time_is_local_and_stored_as_utc(qtbot, ctx, add_prospect):
    pid = add_prospect("Dorothy", "Vaughan")
    dialog = LogContactDialog(ctx, prospects.get_prospect(ctx, pid))
    qtbot.addWidget(dialog)
    wait_for_reads(qtbot)
    local = datetime.now().replace(second=0, microsecond=0) - timedelta(days=2, hours=3)
    dialog.when.setDateTime(QDateTime(local))
    dialog.summary.setPlainText("Met at the conference")
    dialog.accept()
    assert dialog.logged is not None
    assert dialog.logged.occurred_at == local.astimezone().astimezone(UTC)


def test_log_contact_needs_a_selection(qtbot, window, add_prospect):
    add_prospect("Nobody", "Selected")
    window.prospects.reload()
    assert window.prospects.selected_id() is None
    assert not window.commands.log_contact.isEnabled()
    assert window.log_contact() is None


def test_naughty_strings_as_subject_and_summary(qtbot, ctx, add_prospect, naughty_strings):
    pid = add_prospect("Naughty", "Strings")
    dialog = LogContactDialog(ctx, prospects.get_prospect(ctx, pid))
    qtbot.addWidget(dialog)
    wait_for_reads(qtbot)
    saved = refused = 0
    for line in naughty_strings:
        dialog.logged = None
        dialog.subject.setText(line)
        dialog.summary.setPlainText(line)
        dialog.accept()
        clean = unicodedata.normalize("NFC", line).strip()
        if dialog.logged is not None:
            assert dialog.logged.summary == clean, repr(line)
            assert dialog.logged.subject == (clean or None), repr(line)
            saved += 1
        else:
            errors = dialog.errors()
            assert errors and set(errors) <= {"subject", "summary"}, (repr(line), errors)
            assert all(text.startswith(("Subject ", "Summary ")) for text in errors.values()), (
                errors
            )
            refused += 1
    assert saved > 400 and refused > 0
    assert len(correspondence.list_correspondence(ctx, pid)) == saved


def type_date(qtbot, dialog: LogContactDialog, text: str) -> None:
    qtbot.mouseClick(dialog.follow_up_set, Qt.MouseButton.LeftButton, pos=QPoint(4, 4))
    assert dialog.follow_up.isEnabled()
    dialog.follow_up.setFocus()
    typed_into = QApplication.focusWidget()  # whatever the field lets one type into
    qtbot.keyClick(typed_into, Qt.Key.Key_A, CTRL)  # select what is there
    qtbot.keyClicks(typed_into, text)


def test_the_follow_up_date_can_be_typed(qtbot, selected, ctx):
    window, pid = selected
    dialog = open_log_dialog(qtbot, window)
    qtbot.keyClicks(dialog.summary, "Wants a quote")
    type_date(qtbot, dialog, "12 3 2027")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # leaving shows it in full
    assert dialog.contact_input().follow_up_on == date(2027, 3, 12)
    assert dialog.follow_up.text() == "Fri 12 Mar 2027"
    with qtbot.waitSignal(dialog.bus.changed):
        qtbot.keyClick(dialog.summary, Qt.Key.Key_Return, CTRL)
    assert dialog.logged.follow_up_on == date(2027, 3, 12)
    assert prospects.get_prospect(ctx, pid).next_follow_up == date(2027, 3, 12)


def test_an_impossible_follow_up_date_is_refused_and_nothing_is_saved(qtbot, selected, ctx):
    window, pid = selected
    dialog = open_log_dialog(qtbot, window)
    qtbot.keyClicks(dialog.summary, "Wants a quote")
    type_date(qtbot, dialog, "31 Feb 2027")
    qtbot.keyClick(dialog.follow_up.edit, Qt.Key.Key_Return, CTRL)
    assert dialog.isVisible()
    assert dialog.follow_up.message.isVisible()
    assert dialog.follow_up.message.text() == (
        "31 Feb 2027 is not a date: February 2027 has 28 days."
    )
    assert correspondence.list_correspondence(ctx, pid) == []
    dialog.reject()


def test_a_follow_up_in_the_past_is_accepted_with_a_warning(qtbot, selected, ctx):
    window, pid = selected
    dialog = open_log_dialog(qtbot, window)
    qtbot.keyClicks(dialog.summary, "Should have rung last week")
    past = date.today() - timedelta(days=3)
    type_date(qtbot, dialog, past.strftime("%d/%m/%Y"))
    assert dialog.follow_up.message.isVisible()
    assert "has passed" in dialog.follow_up.message.text()
    with qtbot.waitSignal(dialog.bus.changed):
        qtbot.keyClick(dialog.summary, Qt.Key.Key_Return, CTRL)
    assert dialog.logged.follow_up_on == past


def test_logging_offers_to_mark_the_prospects_open_follow_ups_done(qtbot, selected, ctx):
    window, pid = selected
    bob = Context(ctx.db, user="bob")
    overdue = date.today() - timedelta(days=4)
    bobs = correspondence.log_contact(
        bob, pid, ContactInput(kind="call", summary="Ring back", follow_up_on=overdue)
    )
    mine = correspondence.log_contact(
        ctx, pid, ContactInput(kind="call", summary="Send the quote", follow_up_on=date.today())
    )
    window.prospects.refresh_rows()
    dialog = open_log_dialog(qtbot, window)
    boxes = dialog.open_follow_ups
    assert list(boxes) == [bobs.id, mine.id]  # overdue first
    assert not boxes[bobs.id].isChecked()  # a colleague's: offered, not ticked
    assert boxes[mine.id].isChecked()  # my own: ticked
    assert "overdue (bob's): Ring back" in boxes[bobs.id].text()
    qtbot.mouseClick(boxes[bobs.id], Qt.MouseButton.LeftButton, pos=QPoint(4, 4))
    assert boxes[bobs.id].isChecked()

    qtbot.keyClicks(dialog.summary, "Spoke at last; quote accepted")
    type_date(qtbot, dialog, "1 Feb 2030")
    with qtbot.waitSignal(dialog.bus.changed):
        qtbot.keyClick(dialog.summary, Qt.Key.Key_Return, CTRL)

    assert [f.contact_id for f in correspondence.list_followups(ctx)] == [dialog.logged.id]
    model = window.prospects.model
    wait_for_reads(qtbot)  # the table re-reads its rows on a worker
    row = model.position_of(pid)
    assert model.index(row, NEXT_FOLLOW_UP).data() == format_date(date(2030, 2, 1))
    wait_for_reads(qtbot)
    timeline = window.prospects.detail.plain_text()
    assert "overdue" not in timeline


def test_no_open_follow_ups_no_mark_done_row(qtbot, selected):
    window, _pid = selected
    dialog = open_log_dialog(qtbot, window)
    assert dialog.open_follow_ups == {}
    assert dialog.findChild(QWidget, "openFollowUps") is None
    dialog.reject()


def link_position(browser, href: str) -> QPoint:
    """Where the link to ``href`` is drawn in the browser's viewport."""
    block = browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(browser.document())
                cursor.setPosition(fragment.position() + 1)
                return browser.cursorRect(cursor).center()
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href}")


def test_the_prospect_pane_marks_a_follow_up_done(qtbot, selected, ctx):
    window, pid = selected
    bob = Context(ctx.db, user="bob")
    overdue = date.today() - timedelta(days=4)
    bobs = correspondence.log_contact(
        bob, pid, ContactInput(kind="call", summary="Ring back", follow_up_on=overdue)
    )
    later = correspondence.log_contact(
        ctx, pid, ContactInput(kind="note", summary="Term starts", follow_up_on=date(2030, 1, 6))
    )
    page = window.prospects
    page.refresh_rows()
    wait_for_reads(qtbot)
    detail = page.detail
    assert "overdue" in detail.plain_text()
    assert detail.plain_text().count("Mark done") == 2
    browser = detail.findChild(QTextBrowser, "prospectDetailText")
    with qtbot.waitSignal(window.bus.changed) as changed:
        qtbot.mouseClick(
            browser.viewport(),
            Qt.MouseButton.LeftButton,
            pos=link_position(browser, f"crm-mark-done:{bobs.id}"),
        )
    assert changed.args[0] == Change.of(Kind.CONTACTS, ids=(pid,), by="prospects")
    assert [f.contact_id for f in correspondence.list_followups(ctx)] == [later.id]
    wait_for_reads(qtbot)
    assert "overdue" not in detail.plain_text()
    assert detail.plain_text().count("Mark done") == 1
    model = page.model
    assert model.index(model.position_of(pid), NEXT_FOLLOW_UP).data() == format_date(
        date(2030, 1, 6)
    )
    assert page.selected_id() == pid
