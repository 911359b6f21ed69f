"""The people in an export: read on a worker when the dialog opens, and batch by batch as it scrolls."""

from __future__ import annotations

import threading

import pytest
from export_support import build_population
from PySide6.QtCore import Qt
from reads_support import wait_for_reads

from crm_desktop.errors import DatabaseError
from crm_desktop.services import exports
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services.exports import ExportRequest
from crm_desktop.ui.common import workers
from crm_desktop.ui.exports import exports_page
from crm_desktop.ui.exports.export_models import MembersModel
from crm_desktop.ui.exports.exports_page import ExportsView, MembersDialog

LEFT = Qt.MouseButton.LeftButton
TIMEOUT_MS = 10_000
NAMES = ["Connie Consent", "Lia Note", "Rita Refuses"]  # the three the export includes


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    yield
    assert workers.cancel_all_and_wait(TIMEOUT_MS)


@pytest.fixture
def view(qtbot, ctx, tmp_path) -> ExportsView:
    build_population(ctx)
    exports.run_export(ctx, ExportRequest("email", "Spring"), tmp_path / "spring.csv")
    view = ExportsView(ctx)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    wait_for_reads(qtbot)
    return view


def open_people(qtbot, view: ExportsView) -> MembersDialog:
    qtbot.mouseClick(view.people_button, LEFT)
    dialog = view.members_dialog
    assert isinstance(dialog, MembersDialog) and dialog.isVisible()
    return dialog


def names(dialog: MembersDialog) -> list[str]:
    model = dialog.model
    return [model.index(r, model.NAME).data() for r in range(model.rowCount())]


def recording(threads: list, real):
    def read(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    return read


def test_the_people_are_read_off_the_gui_thread(qtbot, view, monkeypatch):
    threads: list = []
    monkeypatch.setattr(exports, "export_members", recording(threads, exports.export_members))
    lookups: list = []
    real_get = prospect_service.get_prospect
    monkeypatch.setattr(prospect_service, "get_prospect", recording(lookups, real_get))
    dialog = open_people(qtbot, view)
    # The count is said at once, from the record.
    assert dialog.intro.text().startswith("3 people were in this email list exported on ")
    wait_for_reads(qtbot)
    assert names(dialog) == NAMES
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert len(lookups) == 3 and threading.main_thread() not in lookups
    assert dialog.intro.text().startswith("3 people were in this email list exported on ")
    dialog.reject()


def test_further_batches_are_read_on_a_worker_as_the_list_wants_them(qtbot, view, monkeypatch):
    monkeypatch.setattr(MembersModel, "BATCH", 1)
    lookups: list = []
    real_get = prospect_service.get_prospect
    monkeypatch.setattr(prospect_service, "get_prospect", recording(lookups, real_get))
    dialog = open_people(qtbot, view)
    # The list has room for all three: it asks for the next one as each arrives.
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 3, timeout=TIMEOUT_MS)
    wait_for_reads(qtbot)
    assert names(dialog) == NAMES
    assert len(lookups) == 3 and threading.main_thread() not in lookups
    assert not dialog.model.canFetchMore(dialog.model.index(-1, -1))
    dialog.reject()


def test_a_batch_that_cannot_be_read_is_said_and_no_more_are_asked_for(
    qtbot, view, monkeypatch, prompter
):
    monkeypatch.setattr(MembersModel, "BATCH", 1)
    real = exports_page.member_rows
    calls: list[list[int]] = []

    def failing_after_the_first(ctx, ids):
        calls.append(ids)
        if len(calls) > 1:
            raise DatabaseError("The database file went away.")
        return real(ctx, ids)

    monkeypatch.setattr(exports_page, "member_rows", failing_after_the_first)
    dialog = open_people(qtbot, view)
    qtbot.waitUntil(lambda: len(prompter.errors()) == 1, timeout=TIMEOUT_MS)
    wait_for_reads(qtbot)
    assert "The database file went away." in prompter.errors()[0]
    assert names(dialog) == NAMES[:1]  # what was read stays on show
    assert len(calls) == 2
    assert not dialog.model.canFetchMore(dialog.model.index(-1, -1))
    dialog.table.scrollToBottom()
    qtbot.wait(50)
    assert len(calls) == 2 and len(prompter.errors()) == 1
    dialog.reject()
