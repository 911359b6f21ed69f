"""The lawful-basis dialog reads its assessments on a worker; the choice holds meanwhile."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from reads_support import (
    TIMEOUT_MS,
    held_read,
    no_thread_left_running,  # noqa: F401 (autouse)
    recorded_read,
    wait_for_reads,
)

from crm_desktop.services import assessments, marketing, prospects
from crm_desktop.ui.marketing.basis_dialog import NO_ASSESSMENT, BasisDialog


@pytest.fixture
def relied_on(ctx, add_prospect):
    """A prospect on legitimate interest through an assessment: (prospect id, assessment)."""
    a = assessments.create_assessment(
        ctx, "SBM newsletter", purpose="News", necessity="Needed", balancing="Fair"
    )
    pid = add_prospect("Ada", "Lovelace")
    marketing.set_lawful_basis(ctx, pid, "legitimate-interest", li_assessment_id=a.id)
    return pid, a


@pytest.fixture
def held(monkeypatch):
    """The assessments' read waits on the worker until ``held.set()``."""
    with held_read(monkeypatch, assessments, "list_assessments") as read:
        yield read


def open_basis(qtbot, ctx, pid) -> BasisDialog:
    dialog = BasisDialog(ctx, prospects.get_prospect(ctx, pid), marketing.marketing_view(ctx, pid))
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    return dialog


def test_the_assessments_are_read_off_the_gui_thread(qtbot, ctx, relied_on, monkeypatch):
    pid, a = relied_on
    read = recorded_read(monkeypatch, assessments, "list_assessments")
    dialog = open_basis(qtbot, ctx, pid)
    wait_for_reads(qtbot)
    assert read.ran_off_the_gui_thread()
    combo = dialog.assessment
    assert [combo.itemText(i) for i in range(combo.count())] == [
        NO_ASSESSMENT,
        "SBM newsletter (1 prospect)",
    ]
    assert combo.currentData() == a.id


def test_saving_before_the_assessments_arrive_keeps_the_persons_assessment(
    qtbot, ctx, relied_on, held
):
    pid, a = relied_on
    dialog = open_basis(qtbot, ctx, pid)
    assert dialog.assessment.currentText() == "SBM newsletter"  # held under its name
    assert dialog.assessment.currentData() == a.id
    qtbot.keyClicks(dialog.note, "Asked at the Bett stand")
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        QTest.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)  # Save
    view = marketing.marketing_view(ctx, pid)
    assert view.li_assessment_id == a.id and view.li_note == "Asked at the Bett stand"


def test_a_choice_made_while_they_are_read_is_kept(qtbot, ctx, relied_on, held):
    pid, _a = relied_on
    dialog = open_basis(qtbot, ctx, pid)
    combo = dialog.assessment
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Up)  # to "No assessment"
    assert combo.currentData() is None
    held.set()
    wait_for_reads(qtbot)
    assert combo.count() == 2 and combo.currentText() == NO_ASSESSMENT
