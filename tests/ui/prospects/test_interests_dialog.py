"""The interests (our services) dialog: counts, add, rename, delete, clear errors."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from reads_support import wait_for_reads

from crm_desktop.domain.enums import DEFAULT_INTERESTS
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import interests
from crm_desktop.services.prospects import create_prospect, get_prospect
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.prospects.interests_dialog import InterestsDialog


class Script:
    """Stands in for a seam: records each prompt and returns the next scripted answer."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.prompts: list[tuple] = []

    def __call__(self, parent, *prompt):
        self.prompts.append(prompt)
        if not self.answers:
            raise AssertionError(f"unexpected prompt: {prompt}")
        return self.answers.pop(0)


@pytest.fixture
def dialog(qtbot, ctx) -> InterestsDialog:
    widget = InterestsDialog(ctx)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    wait_for_reads(qtbot)  # the list is read on a worker
    return widget


def counts(dialog: InterestsDialog) -> dict[str, str]:
    tree = dialog.tree
    return {
        tree.topLevelItem(i).text(0): tree.topLevelItem(i).text(1)
        for i in range(tree.topLevelItemCount())
    }


def prospect_with(ctx, first: str, *services: str) -> int:
    data = ProspectInput(
        first_name=first, last_name="Smith", email=f"{first}@example.org", interests=services
    )
    return create_prospect(ctx, data).record.id


def test_lists_every_interest_with_its_prospect_count(qtbot, ctx):
    prospect_with(ctx, "ann", "Safeguarding", "SEND support")
    prospect_with(ctx, "bob", "Safeguarding")
    dialog = InterestsDialog(ctx)
    qtbot.addWidget(dialog)
    wait_for_reads(qtbot)
    assert dialog.names() == sorted(DEFAULT_INTERESTS, key=str.lower)
    shown = counts(dialog)
    assert shown["Safeguarding"] == "2"
    assert shown["SEND support"] == "1"
    assert shown["Staff CPD"] == "0"
    assert not dialog.rename_button.isEnabled() and not dialog.delete_button.isEnabled()


def test_add_with_enter_then_duplicate_and_blank_are_refused(qtbot, ctx, dialog):
    with qtbot.waitSignal(dialog.bus.changed, timeout=2000) as changed:
        qtbot.keyClicks(dialog.new_edit, "  Careers guidance ")
        qtbot.keyClick(dialog.new_edit, Qt.Key.Key_Return)
    assert changed.args[0] == Change.of(Kind.INTERESTS)
    wait_for_reads(qtbot)
    assert "Careers guidance" in dialog.names()
    assert dialog.new_edit.text() == ""
    assert dialog.tree.selectedItems()[0].text(0) == "Careers guidance"
    assert dialog.isVisible()  # Enter added; it did not close the dialog
    assert dialog.error_text() == ""

    # Case-insensitive duplicate: refused with a clear message, input kept.
    with qtbot.assertNotEmitted(dialog.bus.changed):
        qtbot.keyClicks(dialog.new_edit, "careers GUIDANCE")
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert dialog.error_text() == "'careers GUIDANCE' is already on the list."
    assert dialog.new_edit.text() == "careers GUIDANCE"

    # Typing clears the message.
    qtbot.keyClick(dialog.new_edit, Qt.Key.Key_Backspace)
    assert dialog.error_text() == ""

    dialog.new_edit.clear()
    with qtbot.assertNotEmitted(dialog.bus.changed):
        dialog.add_from_field()
    assert dialog.error_text() == "The name is required."
    names = [n for _i, n, _c in interests.list_interests(ctx)]
    assert names.count("Careers guidance") == 1
    assert len(names) == len(DEFAULT_INTERESTS) + 1


def test_rename_changes_it_for_every_prospect(qtbot, ctx, dialog, monkeypatch):
    pid = prospect_with(ctx, "ann", "Staff CPD")
    dialog.refresh()
    wait_for_reads(qtbot)
    script = Script("Staff training & CPD")
    monkeypatch.setattr(InterestsDialog, "ask_text", staticmethod(script))
    assert dialog.select_name("Staff CPD")

    with qtbot.waitSignal(dialog.bus.changed, timeout=2000):
        qtbot.mouseClick(dialog.rename_button, Qt.MouseButton.LeftButton)
    wait_for_reads(qtbot)

    title, label, text = script.prompts[0]
    assert text == "Staff CPD"
    assert "1 prospect" in label
    assert "Staff training & CPD" in dialog.names() and "Staff CPD" not in dialog.names()
    assert dialog.tree.selectedItems()[0].text(0) == "Staff training & CPD"
    assert get_prospect(ctx, pid).interests == ["Staff training & CPD"]


def test_rename_to_an_existing_name_or_blank_shows_why(qtbot, ctx, dialog, monkeypatch):
    script = Script("safeguarding", "   ", None)
    monkeypatch.setattr(InterestsDialog, "ask_text", staticmethod(script))
    dialog.select_name("Staff CPD")

    with qtbot.assertNotEmitted(dialog.bus.changed):
        dialog.rename_selected()
    assert (
        dialog.error_text() == "“Staff CPD” was not renamed. 'safeguarding' is already on the list."
    )

    with qtbot.assertNotEmitted(dialog.bus.changed):
        dialog.rename_selected()
    assert dialog.error_text() == "“Staff CPD” was not renamed. The name is required."

    with qtbot.assertNotEmitted(dialog.bus.changed):
        dialog.rename_selected()  # Cancel
    assert "Staff CPD" in dialog.names()
    assert sorted(dialog.names(), key=str.lower) == sorted(DEFAULT_INTERESTS, key=str.lower)


def test_delete_says_how_many_prospects_lose_it(qtbot, ctx, dialog, monkeypatch):
    ann = prospect_with(ctx, "ann", "Safeguarding", "SEND support")
    bob = prospect_with(ctx, "bob", "Safeguarding")
    dialog.refresh()
    wait_for_reads(qtbot)
    script = Script(False, True)
    monkeypatch.setattr(InterestsDialog, "ask", staticmethod(script))
    dialog.select_name("Safeguarding")

    with qtbot.assertNotEmitted(dialog.bus.changed):
        qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    title, text = script.prompts[0]
    assert "Remove “Safeguarding” from the list?" in text
    assert "2 prospects have it and will lose it." in text
    assert "Safeguarding" in dialog.names()

    with qtbot.waitSignal(dialog.bus.changed, timeout=2000):
        dialog.delete_selected()
    wait_for_reads(qtbot)
    assert "Safeguarding" not in dialog.names()
    assert get_prospect(ctx, ann).interests == ["SEND support"]
    assert get_prospect(ctx, bob).interests == []
    assert not dialog.delete_button.isEnabled()  # nothing selected any more


def test_delete_of_an_unused_interest_says_none_lose_it(qtbot, ctx, dialog, monkeypatch):
    script = Script(True)
    monkeypatch.setattr(InterestsDialog, "ask", staticmethod(script))
    dialog.select_name("Staff CPD")
    dialog.delete_selected()
    assert "No prospects have it." in script.prompts[0][1]
    assert "Staff CPD" not in [n for _i, n, _c in interests.list_interests(ctx)]


def test_an_interest_deleted_elsewhere_is_reported_not_crashed(qtbot, ctx, dialog, monkeypatch):
    monkeypatch.setattr(InterestsDialog, "ask", staticmethod(Script(True)))
    dialog.select_name("Staff CPD")
    interest_id = dialog.selected_id()
    interests.delete_interest(ctx, interest_id)  # someone else, meanwhile

    with qtbot.assertNotEmitted(dialog.bus.changed):
        dialog.delete_selected()
    wait_for_reads(qtbot)
    assert dialog.error_text() == f"“Staff CPD” was not deleted. No interest with id {interest_id}."
    assert "Staff CPD" not in dialog.names()  # reloaded


def test_empty_list_says_what_to_do(qtbot, ctx):
    for interest_id, _name, _count in interests.list_interests(ctx):
        interests.delete_interest(ctx, interest_id)
    dialog = InterestsDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.empty_label.isHidden()  # not said before the list is read
    wait_for_reads(qtbot)
    assert dialog.names() == []
    assert not dialog.empty_label.isHidden()
    assert "empty" in dialog.empty_label.text()


def test_escape_closes(qtbot, dialog):
    qtbot.keyClick(dialog.tree, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_the_list_is_read_off_the_gui_thread_keeping_the_selection(qtbot, ctx, dialog, monkeypatch):
    threads = []
    real = interests.list_interests

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(interests, "list_interests", recording)
    assert dialog.select_name("Staff CPD")
    prospect_with(ctx, "ann", "Staff CPD")
    dialog.refresh()
    assert counts(dialog)["Staff CPD"] == "0"  # until the read arrives
    wait_for_reads(qtbot)
    assert threads and threading.main_thread() not in threads
    assert counts(dialog)["Staff CPD"] == "1"
    assert dialog.tree.selectedItems()[0].text(0) == "Staff CPD"
    assert dialog.rename_button.isEnabled()


def test_a_list_that_cannot_be_read_is_said(qtbot, ctx, dialog, monkeypatch):
    from crm_desktop.errors import DatabaseError

    def broken(*_args, **_kwargs):
        raise DatabaseError("The database file went away.")

    monkeypatch.setattr(interests, "list_interests", broken)
    dialog.refresh()
    wait_for_reads(qtbot)
    assert dialog.error_text() == "The list could not be loaded. The database file went away."
    assert dialog.names() == [] and dialog.empty_label.isHidden()
    assert not dialog.rename_button.isEnabled()
