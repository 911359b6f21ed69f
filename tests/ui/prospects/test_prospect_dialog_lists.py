"""The prospect form reads its lists on a worker; typing and saving need not wait for them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox
from reads_support import (
    TIMEOUT_MS,
    all_ran_off_the_gui_thread,
    held_read,
    no_thread_left_running,  # noqa: F401 (autouse)
    recorded_reads,
    wait_for_reads,
)

from crm_desktop.domain.validation import SchoolInput
from crm_desktop.services import interests as interest_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import schools as school_service
from crm_desktop.ui.common.reads import LOADING_TEXT, LoadingCover
from crm_desktop.ui.prospects import prospect_dialog
from crm_desktop.ui.prospects.prospect_dialog import ProspectDialog

READS = (
    (school_service, "school_names"),
    (prospect_service, "list_roles"),
    (prospect_service, "list_owners"),
    (interest_service, "list_interests"),
)


@pytest.fixture
def held(monkeypatch):
    """The lists' read waits on the worker until ``held.set()``."""
    with held_read(monkeypatch, prospect_dialog, "read_lists") as read:
        yield read


def show(qtbot, dialog: ProspectDialog) -> ProspectDialog:
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    return dialog


def combo_texts(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def click_save(dialog: ProspectDialog) -> None:
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    QTest.mouseClick(save, Qt.MouseButton.LeftButton)


def test_the_lists_are_read_off_the_gui_thread(qtbot, ctx, add_prospect, monkeypatch):
    interest_service.add_interest(ctx, "Robotics club")
    add_prospect("Ada", "Lovelace", school="Oakfield Primary", role="Bursar of Engines",
                 owner="bob")  # fmt: skip
    recorded = recorded_reads(monkeypatch, *READS)
    dialog = show(qtbot, ProspectDialog(ctx))
    wait_for_reads(qtbot)
    assert all_ran_off_the_gui_thread(recorded)
    assert combo_texts(dialog.school) == ["Oakfield Primary"]
    assert "Bursar of Engines" in combo_texts(dialog.role) and "Teacher" in combo_texts(dialog.role)
    assert combo_texts(dialog.owner) == ["alice", "bob"]
    names = [dialog.interests.item(r).text() for r in range(dialog.interests.count())]
    assert names == [name for _id, name, _n in interest_service.list_interests(ctx)]
    assert "Robotics club" in names
    # Nothing became chosen by itself when the lists arrived.
    assert dialog.school.currentIndex() == -1 and dialog.school.currentText() == ""
    assert dialog.owner.currentText() == "alice"
    assert dialog.lists_loaded


def test_typing_starts_at_once_and_is_kept_when_the_lists_arrive(qtbot, ctx, held):
    school_service.create_school(ctx, SchoolInput(name="Oakfield Primary"))
    interest_service.add_interest(ctx, "Robotics club")
    dialog = show(qtbot, ProspectDialog(ctx))
    assert not dialog.lists_loaded and dialog.school.count() == 0
    assert dialog.interests.count() == 0
    # "Loading…" covers the interests while they are being read.
    qtbot.waitUntil(lambda: _cover_shown(dialog), timeout=TIMEOUT_MS)
    assert dialog.interests.findChild(LoadingCover).text() == LOADING_TEXT

    QTest.mouseClick(dialog.school.lineEdit(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.school.lineEdit(), "Oakf")
    dialog.school.lineEdit().setCursorPosition(2)
    qtbot.keyClicks(dialog.role.lineEdit(), "Head of ICT")
    held.set()
    wait_for_reads(qtbot)

    assert dialog.lists_loaded
    assert combo_texts(dialog.school) == ["Oakfield Primary"]
    assert dialog.school.currentText() == "Oakf"
    assert dialog.school.lineEdit().cursorPosition() == 2
    assert dialog.school.currentIndex() == -1
    assert dialog.role.currentText() == "Head of ICT"
    assert dialog.owner.currentText() == "alice"
    assert not dialog.interests.findChild(LoadingCover).isVisible()
    assert dialog.interests.count() == len(interest_service.list_interests(ctx)) > 1


def _cover_shown(dialog: ProspectDialog) -> bool:
    cover = dialog.interests.findChild(LoadingCover)
    return cover is not None and cover.isVisible()


def test_an_edit_saved_before_the_lists_arrive_keeps_school_and_interests(
    qtbot, ctx, add_prospect, held
):
    interest_service.add_interest(ctx, "Robotics club")
    interest_service.add_interest(ctx, "Coding club")
    # Two schools of one name: only the id tells which is hers.
    first = school_service.create_school(ctx, SchoolInput(name="St Mary's", urn="100001"))
    school_service.create_school(ctx, SchoolInput(name="St Mary's", urn="100002"))
    first_id = first.record.id
    pid = add_prospect("Mary", "Somerville", school_id=first_id,
                       interests=["Robotics club"], role="Teacher")  # fmt: skip
    before = prospect_service.get_prospect(ctx, pid)
    dialog = show(qtbot, ProspectDialog(ctx, before))
    assert not dialog.lists_loaded
    assert dialog.school.currentText() == "St Mary's"
    dialog.last_name.selectAll()
    qtbot.keyClicks(dialog.last_name, "Fairfax")
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        click_save(dialog)
    after = prospect_service.get_prospect(ctx, pid)
    assert after.last_name == "Fairfax"
    assert after.school_id == first_id
    assert after.interests == ["Robotics club"]
    assert after.role == "Teacher" and after.owner == before.owner


def test_the_lists_arriving_tick_the_prospects_interests_and_pick_their_school(
    qtbot, ctx, add_prospect, held
):
    interest_service.add_interest(ctx, "Robotics club")
    interest_service.add_interest(ctx, "Coding club")
    first = school_service.create_school(ctx, SchoolInput(name="St Mary's", urn="100001"))
    school_service.create_school(ctx, SchoolInput(name="St Mary's", urn="100002"))
    first_id = first.record.id
    pid = add_prospect("Mary", "Somerville", school_id=first_id, interests=["Coding club"])
    dialog = show(qtbot, ProspectDialog(ctx, prospect_service.get_prospect(ctx, pid)))
    held.set()
    wait_for_reads(qtbot)
    checked = {
        dialog.interests.item(r).text(): dialog.interests.item(r).checkState()
        for r in range(dialog.interests.count())
    }
    assert [name for name, state in checked.items() if state == Qt.CheckState.Checked] == [
        "Coding club"
    ]
    assert "Robotics club" in checked
    assert dialog.school.currentData() == first_id and dialog.school.currentText() == "St Mary's"
    assert dialog.prospect_input().school_id == first_id


def test_a_new_prospect_saved_before_the_lists_arrive_finds_the_school_by_name(qtbot, ctx, held):
    school = school_service.create_school(ctx, SchoolInput(name="Harbour Academy"))
    school_id = school.record.id
    dialog = show(qtbot, ProspectDialog(ctx))
    qtbot.keyClicks(dialog.first_name, "Grace")
    qtbot.keyClicks(dialog.last_name, "Hopper")
    qtbot.keyClicks(dialog.email, "grace@harbour.sch.uk")
    qtbot.keyClicks(dialog.school.lineEdit(), "harbour academy")
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        click_save(dialog)
    assert not dialog.lists_loaded
    stored = prospect_service.get_prospect(ctx, dialog.saved.record.id)
    assert stored.school_id == school_id and stored.interests == []
    assert stored.owner == "alice"
    assert len(school_service.school_names(ctx)) == 1  # no second Harbour Academy
