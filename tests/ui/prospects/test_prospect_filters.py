"""The prospects page's filter lists: read on a worker, with "Any" and the stages at once."""

from __future__ import annotations

import threading

from PySide6.QtGui import QAction
from reads_support import wait_for_reads

from crm_desktop.domain.enums import Stage
from crm_desktop.domain.validation import ProspectInput, SchoolInput
from crm_desktop.services import interests as interest_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import schools as school_service
from crm_desktop.ui.marketing.feature import MARKETING_PANE
from crm_desktop.ui.prospects.prospects_page import ProspectsPage

READS = (
    (school_service, "school_names"),
    (prospect_service, "list_roles"),
    (interest_service, "list_interests"),
    (prospect_service, "list_owners"),
)


def make_page(qtbot, ctx) -> ProspectsPage:
    actions: dict[str, QAction] = {}  # the window's actions, kept alive as the window would
    page = ProspectsPage(
        ctx, lambda name: actions.setdefault(name, QAction(name)), marketing=MARKETING_PANE
    )
    page.test_actions = actions
    qtbot.addWidget(page)
    return page


def texts(page: ProspectsPage, name: str) -> list[str]:
    combo = page.filters[name]
    return [combo.itemText(i) for i in range(combo.count())]


def test_the_filter_lists_are_read_off_the_gui_thread(qtbot, ctx, monkeypatch):
    school_service.create_school(ctx, SchoolInput(name="Oakfield Primary"))
    prospect_service.create_prospect(
        ctx,
        ProspectInput(
            first_name="Ada", last_name="Lovelace", email="ada@oak.sch.uk",
            school="Oakfield Primary", role="Bursar of Engines",
        ),
    )  # fmt: skip
    threads: dict[str, list] = {}

    def recording(name, real):
        def read(*args, **kwargs):
            threads.setdefault(name, []).append(threading.current_thread())
            return real(*args, **kwargs)

        return read

    for module, name in READS:
        monkeypatch.setattr(module, name, recording(name, getattr(module, name)))
    page = make_page(qtbot, ctx)
    assert len(texts(page, "school")) == 1  # "Any" only, until the read arrives
    wait_for_reads(qtbot)
    assert set(threads) == {name for _module, name in READS}
    assert threading.main_thread() not in {t for ts in threads.values() for t in ts}
    assert "Oakfield Primary" in texts(page, "school")
    assert "Bursar of Engines" in texts(page, "role")
    assert ctx.user in texts(page, "owner")


def test_any_and_the_stages_are_offered_before_the_lists_arrive(qtbot, ctx):
    page = make_page(qtbot, ctx)
    assert texts(page, "stage")[1:] == [stage.label for stage in Stage]
    for name in page.filters:
        assert page.filters[name].currentIndex() == 0 and page.filters[name].currentData() is None
    wait_for_reads(qtbot)
    assert texts(page, "stage")[1:] == [stage.label for stage in Stage]


def test_a_chosen_filter_is_kept_when_the_lists_are_read_again(qtbot, ctx):
    school_service.create_school(ctx, SchoolInput(name="Oakfield Primary"))
    page = make_page(qtbot, ctx)
    wait_for_reads(qtbot)
    combo = page.filters["school"]
    combo.setCurrentIndex(combo.findText("Oakfield Primary"))
    school_service.create_school(ctx, SchoolInput(name="Hill Top Academy"))
    page.reload_filters()
    assert combo.currentText() == "Oakfield Primary"
    wait_for_reads(qtbot)
    assert combo.currentText() == "Oakfield Primary"
    assert "Hill Top Academy" in texts(page, "school")
    assert page.clear_button.isEnabled()
