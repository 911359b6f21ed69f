"""Assessments and suppression-list dialogs, and naughty text through the consent forms."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from reads_support import wait_for_reads

from crm_desktop.domain.models import MAX_NOTE
from crm_desktop.domain.validation import clean_text
from crm_desktop.errors import DatabaseError
from crm_desktop.services import assessments, marketing, prospects, suppression
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.marketing.assessments_dialog import (
    PROSPECTS,
    AssessmentIdRole,
    AssessmentsDialog,
    AssessmentsModel,
    NewAssessmentDialog,
)
from crm_desktop.ui.marketing.consent_dialog import ConsentDialog
from crm_desktop.ui.marketing.opt_out_dialog import OptOutDialog
from crm_desktop.ui.marketing.suppression_dialog import SuppressionDialog

TIMEOUT_MS = 10_000

# ------------------------------------------------------------- assessments


@pytest.fixture
def assessments_dialog(qtbot, ctx) -> AssessmentsDialog:
    dialog = AssessmentsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.open()  # non-blocking, as the Marketing menu opens it
    qtbot.waitExposed(dialog)
    wait_for_reads(qtbot)  # the list is read on a worker
    return dialog


def test_add_an_assessment_and_see_how_many_rely_on_it(
    qtbot, ctx, add_prospect, assessments_dialog
):
    dialog = assessments_dialog
    assert dialog.model.rowCount() == 0
    assert "No assessments yet" in dialog.detail.toPlainText()

    qtbot.mouseClick(dialog.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.findChild(NewAssessmentDialog) is not None)
    form = dialog.findChild(NewAssessmentDialog)
    qtbot.keyClicks(form.name, "SBM newsletter 2026")
    qtbot.mouseClick(form.buttons.buttons()[0], Qt.MouseButton.LeftButton)  # Save
    assert form.isVisible()
    assert form.errors() == {
        "purpose": "The purpose is required.",
        "necessity": "Necessity is required.",
        "balancing": "The balancing test is required.",
    }
    assert assessments.list_assessments(ctx) == []

    form.texts["purpose"].setPlainText("Tell business managers about attendance analytics")
    form.texts["necessity"].setPlainText("They choose the school's software")
    form.texts["balancing"].setPlainText("A work address, about their job; one-click opt-out")
    with qtbot.waitSignal(dialog.bus.changed) as said:
        form.accept()
    wait_for_reads(qtbot)  # the list is read again on a worker
    [row] = assessments.list_assessments(ctx)
    assert said.args[0] == Change.of(Kind.ASSESSMENTS, ids=(row.id,), select=row.id)
    assert form.created.id == row.id
    assert dialog.model.rowCount() == 1
    assert dialog.model.index(0, 0).data() == "SBM newsletter 2026"
    assert dialog.model.index(0, PROSPECTS).data() == "0"
    assert dialog.selected_id() == row.id
    assert "They choose the school's software" in dialog.detail.toPlainText()

    for first in ("Ada", "Grace"):
        pid = add_prospect(first, "Smith")
        marketing.set_lawful_basis(ctx, pid, "legitimate-interest", li_assessment_id=row.id)
    dialog.refresh()
    wait_for_reads(qtbot)
    assert dialog.model.index(0, PROSPECTS).data() == "2"
    assert "2 prospects rely on it" in dialog.detail.toPlainText()


def test_a_duplicate_assessment_name_is_refused_beside_the_name(qtbot, ctx, assessments_dialog):
    assessments.create_assessment(ctx, "Events", purpose="p", necessity="n", balancing="b")
    form = assessments_dialog.new_assessment()
    form.name.setText("EVENTS")
    for edit in form.texts.values():
        edit.setPlainText("text")
    form.accept()
    assert "already an assessment called" in form.errors()["name"]
    assert len(assessments.list_assessments(ctx)) == 1


def test_the_assessments_are_read_off_the_gui_thread_and_shown(qtbot, ctx, monkeypatch):
    threads = []
    real = assessments.list_assessments

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(assessments, "list_assessments", recording)
    assessments.create_assessment(ctx, "Events", purpose="p", necessity="n", balancing="b")
    dialog = AssessmentsDialog(ctx)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1)
    assert threads and threading.main_thread() not in threads
    assert dialog.model.index(0, 0).data() == "Events"
    assert "Events" in dialog.detail.toPlainText()  # the first is selected and shown


def test_assessments_that_cannot_be_read_say_why(qtbot, ctx, monkeypatch, prompter):
    def broken(*_args, **_kwargs):
        raise DatabaseError("The database file went away.")

    monkeypatch.setattr(assessments, "list_assessments", broken)
    dialog = AssessmentsDialog(ctx)
    qtbot.addWidget(dialog)
    wait_for_reads(qtbot)
    assert dialog.model.rowCount() == 0
    assert prompter.messages == [
        ("error", "Could not load the assessments", "The database file went away.")
    ]


def test_assessments_model_passes_the_model_tester(qtmodeltester, ctx):
    for name in ("Events", "Newsletter", "Webinars"):
        assessments.create_assessment(ctx, name, purpose="p", necessity="n", balancing="b")
    model = AssessmentsModel()
    model.set_rows(assessments.list_assessments(ctx))
    qtmodeltester.check(model, force_py=True)
    assert model.index(1, 0).data(AssessmentIdRole) == model.assessment(1).id
    model.set_rows([])
    qtmodeltester.check(model, force_py=True)


# ------------------------------------------------------------- suppression


@pytest.fixture
def suppression_dialog(qtbot, ctx) -> SuppressionDialog:
    dialog = SuppressionDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    wait_for_reads(qtbot)  # the count is read on a worker
    return dialog


def test_paste_three_addresses_one_invalid(qtbot, ctx, suppression_dialog, prompter):
    dialog = suppression_dialog
    dialog.paste.setPlainText("jane@oak.sch.uk\nnot-an-address\n07700 900123\n")
    prompter.answers = [True]
    with qtbot.waitSignal(dialog.bus.changed, timeout=TIMEOUT_MS) as added:
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.task.is_running)
    assert added.args[0].kinds == {Kind.SUPPRESSION}

    assert "the 3 pasted addresses" in prompter.questions[0][1]
    result = dialog.last_result
    assert (result.added, result.already, result.invalid) == (2, 0, ["not-an-address"])
    report = dialog.report_message()
    assert report.startswith("Added 2 addresses to the suppression list.")
    assert "1 entry was not an email address or phone number" in report
    assert "“not-an-address”" in report
    assert [e.reason for e in suppression.lookup(ctx, "Jane@Oak.sch.uk")] == ["manual"]
    assert suppression.lookup(ctx, "+447700900123")
    assert dialog.paste.toPlainText() == ""
    wait_for_reads(qtbot)  # the count is read again on a worker
    assert "has 2 entries" in dialog.count_label.text()
    assert dialog.add_button.isEnabled()


def test_pasting_the_same_again_reports_already_there(qtbot, ctx, suppression_dialog, prompter):
    suppression.suppress(ctx, "jane@oak.sch.uk")
    dialog = suppression_dialog
    dialog.paste.setPlainText("jane@oak.sch.uk; kim@elm.sch.uk")
    prompter.answers = [True]
    task = dialog.add_pasted()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        pass
    assert dialog.last_result.added == 1 and dialog.last_result.already == 1
    assert "1 address was on it already." in dialog.report_message()


def test_declining_the_question_adds_nothing(qtbot, ctx, suppression_dialog, prompter):
    suppression_dialog.paste.setPlainText("jane@oak.sch.uk")
    prompter.answers = [False]
    assert suppression_dialog.add_pasted() is None
    assert suppression.count(ctx) == 0
    assert suppression_dialog.paste.toPlainText() == "jane@oak.sch.uk"


def test_load_a_csv_file_in_the_background(qtbot, ctx, suppression_dialog, prompter, tmp_path):
    path = tmp_path / "do-not-contact.csv"
    rows = ["Name,Email,Phone"] + [
        f"Person {i},person{i}@example.com,07700 9{i:05d}" for i in range(300)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    prompter.files = [str(path)]
    prompter.answers = [True]
    with qtbot.waitSignal(suppression_dialog.bus.changed, timeout=TIMEOUT_MS):
        task = suppression_dialog.load_file()
    qtbot.waitUntil(lambda: not task.is_running)
    added = suppression_dialog.last_result
    assert added.added == 600 and added.invalid == []
    assert "do-not-contact.csv" in prompter.questions[0][1]
    assert suppression.lookup(ctx, "person299@example.com")
    assert suppression.lookup(ctx, "07700 900299")


def test_an_unreadable_file_says_why_and_adds_nothing(
    qtbot, ctx, suppression_dialog, prompter, tmp_path
):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\x00\x00binary")
    prompter.files = [str(path)]
    prompter.answers = [True]
    task = suppression_dialog.load_file()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        pass
    assert "not a text file" in suppression_dialog.report_message()
    assert "not a text file" in prompter.errors()[0]
    assert suppression.count(ctx) == 0


def test_the_count_is_read_off_the_gui_thread(qtbot, ctx, monkeypatch):
    threads = []
    real = suppression.count

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(suppression, "count", recording)
    suppression.suppress(ctx, "jane@oak.sch.uk")
    dialog = SuppressionDialog(ctx)
    qtbot.addWidget(dialog)
    assert "has … entries" in dialog.count_label.text()  # its place kept meanwhile
    qtbot.waitUntil(lambda: "has 1 entry." in dialog.count_label.text())
    assert threads and threading.main_thread() not in threads


def test_check_an_address(qtbot, ctx, add_prospect, suppression_dialog):
    pid = add_prospect("Alan", "Turing", email="alan@bletchley.sch.uk")
    marketing.opt_out(ctx, pid, "email", source="phone")
    dialog = suppression_dialog

    qtbot.keyClicks(dialog.address, "ALAN@bletchley.sch.uk")
    qtbot.keyClick(dialog.address, Qt.Key.Key_Return)
    answer = dialog.answer_text()
    assert answer.startswith("Suppressed")
    assert "Email: opted out" in answer
    assert "alan@" not in answer.lower()  # channel, reason, date: never an address

    dialog.address.clear()
    qtbot.keyClicks(dialog.address, "grace@elm.sch.uk")
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    assert dialog.answer_text().startswith("Not suppressed")

    qtbot.keyClick(dialog.address, Qt.Key.Key_A)  # typing clears the old answer
    assert dialog.answer_text() == ""
    dialog.address.setText("hello")
    dialog.check()
    assert "neither an email address nor a phone number" in dialog.check_errors()["address"]
    assert dialog.answer_text() == ""


# ---------------------------------------------------------- naughty strings


@pytest.fixture
def bobby(ctx, add_prospect):
    pid = add_prospect("Bobby", "Tables", email="bobby@school.sch.uk")
    return prospects.get_prospect(ctx, pid)


def test_naughty_strings_as_consent_wording(qtbot, ctx, bobby, naughty_strings):
    """Every line is stored as the validator cleans it, or refused beside the field."""
    stored = refused = 0
    for line in naughty_strings:
        view = marketing.marketing_view(ctx, bobby.id)
        dialog = ConsentDialog(ctx, bobby, view, ["email"])
        dialog.method.setCurrentIndex(dialog.method.findData("web-form"))
        dialog.wording.setPlainText(line)
        dialog.accept()
        if dialog.view is not None:
            stored += 1
            typed = line.replace("\u2028", "\n").replace("\u2029", "\n")
            expected = clean_text(typed, max_len=MAX_NOTE, multiline=True)
            email = next(c for c in dialog.view.channels if c.channel == "email")
            assert email.consent_wording == expected
        else:
            refused += 1
            errors = dialog.errors()
            assert list(errors) == ["evidence"], (line, errors)
            message = errors["evidence"]
            assert message.startswith("What they were told "), (line, message)
            assert message.endswith("."), message
        dialog.deleteLater()
    assert stored > 400 and refused >= 1  # the list has control characters in it


def test_naughty_strings_as_opt_out_reason(qtbot, ctx, bobby, naughty_strings):
    """The opt-out always happens; the reason is stored or refused beside the field."""
    refused = 0
    for line in naughty_strings:
        out = OptOutDialog(ctx, bobby, "sms")
        out.reason.setText(line)
        out.accept()
        assert out.view is not None, line  # opted out, whatever the reason said
        sms = next(c for c in out.view.channels if c.channel == "sms")
        assert sms.opted_out
        if out.errors():
            refused += 1
            assert set(out.errors()) == {"reason", "_form"}, (line, out.errors())
            assert out.errors()["reason"].startswith("The reason "), out.errors()
            assert out.ok_button.text() == "Save reason"
        else:
            # What the field holds (a lone U+FEFF never gets into a QLineEdit).
            typed = out.reason.text()
            assert sms.opt_out_reason == clean_text(typed, max_len=MAX_NOTE, multiline=True)
        out.deleteLater()
    assert refused >= 1
