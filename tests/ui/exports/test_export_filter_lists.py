"""The export wizard's filter lists are read on a worker; a filter chosen meanwhile is kept."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from reads_support import (
    all_ran_off_the_gui_thread,
    held_read,
    no_thread_left_running,  # noqa: F401 (autouse)
    recorded_reads,
    wait_for_reads,
)

from crm_desktop.domain.enums import Stage
from crm_desktop.domain.validation import ProspectInput, SchoolInput
from crm_desktop.services import interests as interest_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import schools as school_service
from crm_desktop.ui.common.reads import LOADING_TEXT
from crm_desktop.ui.exports import export_pages
from crm_desktop.ui.exports.export_pages import FiltersPage

READS = (
    (interest_service, "list_interests"),
    (prospect_service, "list_roles"),
    (prospect_service, "list_owners"),
    (school_service, "list_schools"),
)


@pytest.fixture
def data(ctx):
    school_service.create_school(
        ctx, SchoolInput(name="Oakfield Primary", local_authority="Kent", phase="primary")
    )
    prospect_service.create_prospect(
        ctx,
        ProspectInput(
            first_name="Ada", last_name="Lovelace", email="ada@oak.sch.uk",
            school="Oakfield Primary", role="Bursar of Engines", owner="bob",
        ),
    )  # fmt: skip
    return interest_service.add_interest(ctx, "Robotics club")


@pytest.fixture
def held(monkeypatch):
    """The lists' read waits on the worker until ``held.set()`` (the choices needing no
    database, asked for with no context on the GUI thread, come at once)."""
    with held_read(
        monkeypatch, export_pages, "filter_choices", hold_if=lambda ctx: ctx is not None
    ) as read:
        yield read


def make_page(qtbot, ctx) -> FiltersPage:
    page = FiltersPage(ctx)
    qtbot.addWidget(page)
    page.resize(640, 480)
    with qtbot.waitExposed(page):
        page.show()
    return page


def texts(page: FiltersPage, name: str) -> list[str]:
    combo = page.combos[name]
    return [combo.itemText(i) for i in range(combo.count())]


def test_the_filter_lists_are_read_off_the_gui_thread(qtbot, ctx, data, monkeypatch):
    recorded = recorded_reads(monkeypatch, *READS)
    page = make_page(qtbot, ctx)
    # What needs no database is there at once.
    assert texts(page, "stage") == ["Any stage", *(s.label for s in Stage)]
    assert texts(page, "interest") == ["Any interest"]
    wait_for_reads(qtbot)
    assert all_ran_off_the_gui_thread(recorded)
    assert "Robotics club" in texts(page, "interest")
    assert "Bursar of Engines" in texts(page, "role")
    assert texts(page, "region") == ["Any region", "Kent"]
    assert texts(page, "owner") == ["Any owner", "bob"]
    assert all(combo.currentIndex() == 0 for combo in page.combos.values())


def test_a_filter_set_while_the_lists_are_read_is_applied_when_they_arrive(qtbot, ctx, data, held):
    interest_id = data
    page = make_page(qtbot, ctx)
    assert not page.choices_loaded
    page.set_filter("interest", interest_id)
    page.set_filter("owner", "bob")
    page.set_filter("stage", "lead")  # offered already
    interest = page.combos["interest"]
    assert interest.currentText() == LOADING_TEXT
    # Moving on now would already filter on them.
    chosen = page.filters()
    assert (chosen.interest_id, chosen.owner, chosen.stage) == (interest_id, "bob", "lead")

    held.set()
    wait_for_reads(qtbot)
    assert page.choices_loaded
    assert interest.currentText() == "Robotics club" and interest.currentData() == interest_id
    assert LOADING_TEXT not in texts(page, "interest")
    assert page.combos["owner"].currentText() == "bob"
    assert page.combos["stage"].currentText() == "Lead"
    assert page.filters() == chosen
    assert page.choices_error.text() == ""  # no message row


def test_a_filter_set_meanwhile_that_the_lists_lack_is_said_not_dropped_silently(
    qtbot, ctx, data, held
):
    page = make_page(qtbot, ctx)
    page.set_filter("owner", "carol")  # nobody owns anything as carol
    assert page.filters().owner == "carol"
    held.set()
    wait_for_reads(qtbot)
    assert page.combos["owner"].currentText() == "Any owner"
    assert page.filters().owner is None
    assert page.choices_error.isVisible()
    assert page.choices_error.text() == (
        "The owner chosen for this export is no longer on the list: “Any” is chosen instead."
    )
    # Choosing a filter by hand puts the message away.
    owner = page.combos["owner"]
    owner.setFocus()
    QTest.keyClick(owner, Qt.Key.Key_Down)
    assert owner.currentText() == "bob"
    assert page.choices_error.text() == "" and not page.choices_error.isVisible()


def test_once_the_lists_are_read_an_unknown_filter_value_is_refused(qtbot, ctx, data):
    page = make_page(qtbot, ctx)
    wait_for_reads(qtbot)
    with pytest.raises(ValueError, match="not offered in the owner filter"):
        page.set_filter("owner", "carol")
    page.set_filter("owner", "bob")
    assert page.filters().owner == "bob"


def test_a_choice_made_by_hand_while_the_lists_are_read_is_kept(qtbot, ctx, data, held):
    page = make_page(qtbot, ctx)
    stage = page.combos["stage"]
    stage.setFocus()
    QTest.keyClick(stage, Qt.Key.Key_Down)
    assert stage.currentIndex() == 1
    picked = stage.currentData()
    assert picked is not None
    held.set()
    wait_for_reads(qtbot)
    assert stage.currentData() == picked
