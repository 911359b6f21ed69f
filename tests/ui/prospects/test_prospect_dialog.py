"""The prospect form, driven by keyboard through the real window and dialog."""

from __future__ import annotations

import unicodedata
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from reads_support import wait_for_reads

from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import interests, prospects, schools
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.prospects.prospect_dialog import ProspectDialog
from crm_desktop.ui.prospects.prospect_model import NAME, SCHOOL, STAGE


def open_dialog(qtbot, window) -> ProspectDialog:
    qtbot.waitUntil(lambda: window.findChild(ProspectDialog) is not None)
    dialog = window.findChild(ProspectDialog)
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def table_names(window) -> list[str]:
    model = window.prospects.model
    return [model.index(r, NAME).data() for r in range(model.rowCount())]


def test_create_a_prospect_through_the_form(qtbot, window, ctx):
    qtbot.keyClick(window.prospects.search, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = open_dialog(qtbot, window)
    assert QApplication.focusWidget() is dialog.first_name
    assert dialog.bus is window.bus  # what it saves, the window's pages hear

    qtbot.keyClicks(dialog.first_name, "Grace")
    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Tab)
    qtbot.keyClicks(QApplication.focusWidget(), "Hopper")  # Tab moved to last name
    qtbot.keyClicks(dialog.email, "grace.hopper@navy.sch.uk")
    qtbot.keyClicks(dialog.phone, "07700 900123")  # Ofcom drama range: saved, with a warning
    qtbot.keyClicks(dialog.school.lineEdit(), "Harbour Academy")
    qtbot.keyClicks(dialog.role.lineEdit(), "Data manager")
    with qtbot.waitSignal(dialog.bus.changed) as saved:
        qtbot.keyClick(dialog.role.lineEdit(), Qt.Key.Key_Return)

    record = dialog.saved.record
    assert saved.args[0] == Change.of(Kind.PROSPECTS, ids=(record.id,), select=record.id)
    stored = prospects.get_prospect(ctx, record.id)
    assert (stored.first_name, stored.last_name) == ("Grace", "Hopper")
    assert stored.email == "grace.hopper@navy.sch.uk"
    assert stored.phone == "+447700900123"
    assert stored.school_name == "Harbour Academy"  # created on the fly
    assert stored.role == "Data manager"
    assert stored.owner == "alice"  # defaults to the current user
    assert stored.stage == "lead"
    qtbot.waitUntil(lambda: "Grace Hopper" in table_names(window))
    assert window.prospects.selected_id() == record.id  # the new row is selected
    wait_for_reads(qtbot)
    assert "Grace Hopper" in window.prospects.detail.plain_text()
    assert "not in a known allocated range" in window.statusBar().currentMessage()


def test_invalid_email_is_refused_under_the_field(qtbot, window, ctx):
    window.commands.new_prospect.trigger()
    dialog = open_dialog(qtbot, window)
    qtbot.keyClicks(dialog.first_name, "Ada")
    qtbot.keyClicks(dialog.last_name, "Lovelace")
    qtbot.keyClicks(dialog.email, "ada@@example")
    qtbot.keyClick(dialog.email, Qt.Key.Key_Return)

    assert dialog.isVisible()
    errors = dialog.errors()
    assert list(errors) == ["email"]
    assert errors["email"].startswith("'ada@@example' is not a valid email address")
    label = dialog.findChild(type(dialog._general_error), "error_email")
    assert label.isVisible() and label.text() == errors["email"]
    assert QApplication.focusWidget() is dialog.email
    assert dialog.email.text() == "ada@@example"  # input intact
    assert dialog.first_name.text() == "Ada"
    assert prospects.count_prospects(ctx) == 0

    # Fixing it clears the message and saves.
    dialog.email.setText("ada@example.sch.uk")
    with qtbot.waitSignal(dialog.bus.changed):
        qtbot.keyClick(dialog.email, Qt.Key.Key_Return)
    assert prospects.count_prospects(ctx) == 1


def test_missing_fields_each_get_a_message(qtbot, ctx):
    dialog = ProspectDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    errors = dialog.errors()
    assert errors["first_name"] == "First name is required."
    assert errors["last_name"] == "Last name is required."
    assert errors["email"] == "Give an email address or a phone number."
    assert dialog.focusWidget() is dialog.first_name
    assert dialog.isVisible()


def test_duplicate_email_is_a_message_and_the_dialog_stays(qtbot, ctx, add_prospect, prompter):
    add_prospect("Alan", "Turing", email="alan@bletchley.sch.uk")
    dialog = ProspectDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.first_name.setText("Another")
    dialog.last_name.setText("Alan")
    dialog.email.setText("ALAN@bletchley.sch.uk")
    qtbot.keyClick(dialog.email, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.saved is None
    assert "already the email of Alan Turing" in prompter.errors()[0]
    assert prospects.count_prospects(ctx) == 1


def test_edit_with_enter_on_the_table(qtbot, make_window, ctx, add_prospect):
    interests.add_interest(ctx, "Robotics club")
    pid = add_prospect("Mary", "Somerville", school="Burntisland School", role="Teacher")
    window = make_window()
    window.prospects.select_prospect(pid)
    wait_for_reads(qtbot)
    qtbot.keyClick(window.prospects.table, Qt.Key.Key_Return)
    dialog = open_dialog(qtbot, window)
    wait_for_reads(qtbot)  # the form's lists (the interests to tick)
    assert dialog.first_name.text() == "Mary"
    assert dialog.school.currentText() == "Burntisland School"
    assert dialog.role.currentText() == "Teacher"

    dialog.stage.setCurrentIndex(dialog.stage.findData("trial"))
    robotics = dialog.interests.findItems("Robotics club", Qt.MatchFlag.MatchExactly)[0]
    robotics.setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(dialog.bus.changed) as saved:
        qtbot.keyClick(dialog.first_name, Qt.Key.Key_Return)
    assert saved.args[0] == Change.of(Kind.PROSPECTS, ids=(pid,), select=pid)

    stored = prospects.get_prospect(ctx, pid)
    assert stored.stage == "trial" and stored.interests == ["Robotics club"]
    assert stored.school_name == "Burntisland School" and stored.version == 2
    assert len(schools.school_names(ctx)) == 1  # the existing school, not a new one
    model = window.prospects.model
    qtbot.waitUntil(lambda: model.index(0, STAGE).data() == "Trial")
    assert model.index(0, SCHOOL).data() == "Burntisland School"
    wait_for_reads(qtbot)
    assert "Robotics club" in window.prospects.detail.plain_text()


def _conflict(qtbot, ctx, add_prospect):
    """Open Rosalind's form, then someone else renames her and changes her stage."""
    pid = add_prospect("Rosalind", "Franklin", role="Teacher")
    dialog = ProspectDialog(ctx, prospects.get_prospect(ctx, pid))
    qtbot.addWidget(dialog)
    dialog.show()
    prospects.update_prospect(
        ctx,
        pid,
        ProspectInput(
            first_name="Ros", last_name="Franklin", email="rosalind.franklin@example.sch.uk",
            role="Teacher", stage="trial",
        ),
    )  # fmt: skip
    dialog.last_name.setText("Franklin-Smith")  # my edit
    return pid, dialog


def test_a_conflict_shows_what_changed_and_reapplies_my_edit_on_top(
    qtbot, ctx, add_prospect, prompter
):
    pid, dialog = _conflict(qtbot, ctx, add_prospect)
    prompter.answers.append(True)  # reapply
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.last_name, Qt.Key.Key_Return)
    title, text = prompter.questions[0]
    assert title == "Changed by someone else"
    assert "First name: Rosalind → Ros" in text and "Stage: Lead → Trial" in text
    saved = prospects.get_prospect(ctx, pid)
    # Their changes stay; mine goes on top; nothing was silently overwritten.
    assert (saved.first_name, saved.last_name, saved.stage) == ("Ros", "Franklin-Smith", "trial")


def test_a_conflict_can_reload_their_version_instead(qtbot, ctx, add_prospect, prompter):
    pid, dialog = _conflict(qtbot, ctx, add_prospect)
    prompter.answers.append(False)  # reload theirs
    qtbot.keyClick(dialog.last_name, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert (dialog.first_name.text(), dialog.last_name.text()) == ("Ros", "Franklin")
    assert prospects.get_prospect(ctx, pid).last_name == "Franklin"  # nothing saved
    # Saving now works against their version.
    dialog.last_name.setText("Franklin-Smith")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.last_name, Qt.Key.Key_Return)
    assert prospects.get_prospect(ctx, pid).last_name == "Franklin-Smith"


def test_escape_cancels_and_saves_nothing(qtbot, window, ctx):
    window.commands.new_prospect.trigger()
    dialog = open_dialog(qtbot, window)
    qtbot.keyClicks(dialog.first_name, "Nobody")
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog.first_name, Qt.Key.Key_Escape)
    assert prospects.count_prospects(ctx) == 0


def test_tab_order_runs_top_to_bottom(qtbot, ctx):
    dialog = ProspectDialog(ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    expected = [
        dialog.first_name,
        dialog.last_name,
        dialog.email,
        dialog.phone,
        dialog.school,
        dialog.role,
        dialog.interests,
        dialog.stage,
        dialog.owner,
        dialog.source,
        dialog.source_detail,
        dialog.source_date_set,
    ]
    seen = []
    widget = dialog.first_name
    for _ in expected:
        seen.append(widget)
        widget = widget.nextInFocusChain()
        while not (widget.focusPolicy() & Qt.FocusPolicy.TabFocus) or widget.focusProxy():
            widget = widget.nextInFocusChain()
    focusable = [w if w.focusProxy() is None else w.focusProxy() for w in seen]
    # Editable combos take focus through their line edit.
    assert [w.objectName() or type(w).__name__ for w in focusable] == [
        w.objectName() or type(w).__name__ for w in expected
    ]


def test_naughty_strings_as_names_round_trip_or_get_a_field_message(qtbot, ctx, naughty_strings):
    saved = refused = 0
    dialog = ProspectDialog(ctx)  # one form, reused: each accept() adds a new prospect
    qtbot.addWidget(dialog)
    for n, line in enumerate(naughty_strings):
        dialog.saved = None
        dialog.first_name.setText(line)
        dialog.last_name.setText("Naughty")
        dialog.email.setText(f"n{n}@example.sch.uk")
        dialog.source_detail.setText(line)
        dialog.accept()
        if dialog.saved is not None:
            stored = prospects.get_prospect(ctx, dialog.saved.record.id)
            clean = unicodedata.normalize("NFC", line).strip()
            assert stored.first_name == clean and stored.source_detail == clean, repr(line)
            saved += 1
        else:
            errors = dialog.errors()
            assert "first_name" in errors, (repr(line), errors)
            assert set(errors) <= {"first_name", "source_detail"}, (repr(line), errors)
            assert errors["first_name"].startswith("First name "), errors
            assert errors.get("source_detail", "Source detail ").startswith("Source detail ")
            refused += 1
    assert saved > 400 and refused > 0
    assert prospects.count_prospects(ctx) == saved


def test_an_edit_can_say_why_and_the_audit_trail_keeps_it(qtbot, ctx, add_prospect):
    from crm_desktop.services import audit

    pid = add_prospect("Rosalind", "Franklyn")
    dialog = ProspectDialog(ctx, prospects.get_prospect(ctx, pid))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.last_name.setText("Franklin")
    qtbot.keyClicks(dialog.reason, "Rectification request #7: surname misspelt")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    entry = audit.entries(ctx, entity="prospect", entity_id=pid)[0]
    assert entry.action == "prospect.edited"
    assert entry.values == {"last_name": {"old": "Franklyn", "new": "Franklin"}}
    assert entry.reason == "Rectification request #7: surname misspelt"


def test_the_reason_field_is_only_for_edits(qtbot, ctx):
    dialog = ProspectDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.reason.isVisible()


def test_the_source_date_is_typed_and_a_future_one_refused(qtbot, ctx):
    dialog = ProspectDialog(ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    qtbot.keyClicks(dialog.first_name, "Ada")
    qtbot.keyClicks(dialog.last_name, "Lovelace")
    qtbot.keyClicks(dialog.email, "ada@example.sch.uk")
    dialog.source_date_set.setChecked(True)
    edit = dialog.source_date.edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "1 Jan 2999")
    dialog.accept()
    assert dialog.isVisible() and prospects.count_prospects(ctx) == 0
    assert dialog.source_date.message.text() == "The source date cannot be in the future."
    edit.selectAll()
    qtbot.keyClicks(edit, "3/2/2025")
    with qtbot.waitSignal(dialog.bus.changed):
        dialog.accept()
    assert dialog.saved.record.source_date == date(2025, 2, 3)
