"""What the window does at start, and what it leaves until later.

The first paint shows the prospect list; the other tabs read nothing until a
person first shows them (then on a worker); the start-up tasks wait for the
first paint; the app's module loads the data layer before PySide6, and an
at-head database opens without Alembic.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from reads_support import wait_for_reads
from ui_tabs import EXPORTS_TAB, FOLLOWUPS_TAB, REQUESTS_TAB, SCHOOLS_TAB

from crm_desktop.domain.validation import ContactInput, ProspectInput, SchoolInput
from crm_desktop.persistence import open_database
from crm_desktop.services import Context, correspondence, exports, prospects, requests, schools
from crm_desktop.ui.common import workers
from crm_desktop.ui.common.registry import Feature
from crm_desktop.ui.schools.schools_page import SchoolQuery, SchoolsModel, read_window
from crm_desktop.ui.shell import features
from crm_desktop.ui.shell.main_window import MainWindow


@pytest.fixture
def recorded(monkeypatch) -> dict[str, list[threading.Thread]]:
    """The Schools and Follow-ups services the tabs read through, recording each call's thread."""
    calls: dict[str, list[threading.Thread]] = {}
    for module, name in (
        (schools, "count_schools"),
        (schools, "list_schools"),
        (correspondence, "list_followups"),
        (exports, "list_exports"),
        (requests, "list_requests"),
    ):
        real = getattr(module, name)

        def recording(*args, _real=real, _name=name, **kwargs):
            calls.setdefault(_name, []).append(threading.current_thread())
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, recording)
    return calls


def click_tab(qtbot, window, index: int) -> None:
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert window.tabs.currentIndex() == index


def test_tabs_read_nothing_until_first_shown(qtbot, make_window, ctx, add_prospect, recorded):
    schools.create_school(ctx, SchoolInput(name="Oakfield Primary"))
    pid = add_prospect("Ada", "Lovelace", school="Hill Top Academy")
    correspondence.log_contact(
        ctx, pid, ContactInput(kind="call", summary="Chase", follow_up_on="2030-01-01")
    )
    window = make_window()  # shown, its first reads finished
    assert recorded == {}
    assert not window.schools.loaded and window.schools.model.rowCount() == 0

    click_tab(qtbot, window, SCHOOLS_TAB)
    wait_for_reads(qtbot)
    assert set(recorded) == {"count_schools", "list_schools"}
    assert threading.main_thread() not in recorded["count_schools"] + recorded["list_schools"]
    assert len(recorded["list_schools"]) == 1  # shown once: read once
    assert window.schools.model.rowCount() == 2
    assert window.schools.count_label.text() == "2 schools"
    assert "list_followups" not in recorded

    window.followups.set_mine(False)  # everyone's (the choice alone reads nothing yet)
    assert "list_followups" not in recorded
    click_tab(qtbot, window, FOLLOWUPS_TAB)
    wait_for_reads(qtbot)
    assert len(recorded["list_followups"]) == 1
    assert threading.main_thread() not in recorded["list_followups"]
    assert window.followups.model.rowCount() == 1

    for tab, service in ((EXPORTS_TAB, "list_exports"), (REQUESTS_TAB, "list_requests")):
        assert service not in recorded
        click_tab(qtbot, window, tab)
        wait_for_reads(qtbot)
        assert len(recorded[service]) == 1
        assert threading.main_thread() not in recorded[service]


def with_probe(seen: list[str]) -> tuple[Feature, ...]:
    """The window's features, with one start-up task (recording that it ran) instead of
    the window's own (which back up, finish earlier work, ...)."""
    probe = Feature(name="probe", on_start=(lambda shell: seen.append("task"),))
    window = replace(features.WINDOW, on_start=())
    return (window, *features.FEATURES[1:], probe)


def test_start_up_tasks_wait_for_the_first_paint(qtbot, ctx, settings, styled_app, add_prospect):
    add_prospect("Ada", "Lovelace")  # not an empty database: no demo data is offered
    seen: list[str] = []

    class Painted(QObject):
        def eventFilter(self, watched, event):  # noqa: N802
            if event.type() == QEvent.Type.UpdateRequest and "paint" not in seen:
                seen.append("paint")
            return False

    window = MainWindow(ctx, settings, feature_list=with_probe(seen))
    qtbot.addWidget(window)
    watcher = Painted()
    window.installEventFilter(watcher)
    window.show()
    window.start()
    assert seen == []  # nothing runs inside start()
    qtbot.waitUntil(lambda: "task" in seen, timeout=10_000)
    assert seen == ["paint", "task"]
    wait_for_reads(qtbot)
    assert workers.cancel_all_and_wait(10_000)  # the prospect list's reads too


def test_a_window_never_shown_still_runs_its_start_up_tasks(
    qtbot, ctx, settings, styled_app, add_prospect
):
    add_prospect("Ada", "Lovelace")
    seen: list[str] = []
    window = MainWindow(ctx, settings, feature_list=with_probe(seen))
    qtbot.addWidget(window)
    window.start()
    qtbot.waitUntil(lambda: seen == ["task"], timeout=10_000)
    wait_for_reads(qtbot)
    assert workers.cancel_all_and_wait(10_000)  # the prospect list's reads too


def test_the_app_loads_the_data_layer_first_and_no_alembic(tmp_path):
    path = tmp_path / "crm.db"
    db = open_database(path, create=True)
    prospects.create_prospect(Context(db, "alice"), ProspectInput(first_name="Ada",
                              last_name="Lovelace", email="ada@example.sch.uk"))  # fmt: skip
    db.dispose()
    code = textwrap.dedent(
        f"""
        import json, os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from crm_desktop.ui.shell import app  # as the crm-desktop entry point does
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        qt = QApplication(["crm-desktop"])
        windows = []
        def shown():
            windows.extend(w for w in qt.topLevelWidgets() if w.objectName() == "mainWindow")
            for window in windows:
                window.close()  # its start-up tasks stop before the loop ends
            qt.quit()
        QTimer.singleShot(2500, shown)
        status = app.main(["crm-desktop", "--db", {str(path)!r}])
        names = list(sys.modules)
        print(json.dumps({{
            "status": status,
            "window": len(windows),
            "alembic": "alembic" in sys.modules,
            "data_first": names.index("sqlalchemy") < names.index("PySide6"),
        }}))
        """
    )
    env = {"XDG_DATA_HOME": str(tmp_path / "d"), "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "HOME": str(tmp_path / "h"), "PATH": "/usr/bin:/bin"}  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"status": 0, "window": 1, "alembic": False, "data_first": True}


def test_the_schools_model_is_a_window_onto_sql(qtmodeltester, ctx):
    for i in range(25):
        schools.create_school(ctx, SchoolInput(name=f"School {i:02d}", urn=f"1{i:05d}"))
    model = SchoolsModel(ctx=ctx, page_size=10)
    model.show_window(read_window(ctx, SchoolQuery(), page_size=10))
    assert model.rowCount() == 25 and model.cached_pages == 1
    assert model.index(24, SchoolsModel.NAME).data() == "School 24"  # page 3, read now
    assert model.cached_pages == 2
    qtmodeltester.check(model, force_py=True)
