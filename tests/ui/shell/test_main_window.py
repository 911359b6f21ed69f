"""The main window: search, filters, sort, menus, database switching, demo data, layout memory."""

from __future__ import annotations

import sqlite3
import threading

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
from reads_support import wait_for_reads
from ui_tabs import FOLLOWUPS_TAB, PROSPECTS_TAB, SCHOOLS_TAB

from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.persistence import open_database
from crm_desktop.services import correspondence, prospects
from crm_desktop.services.context import Context
from crm_desktop.services.demo import generate_demo
from crm_desktop.services.prospects import ProspectQuery
from crm_desktop.ui.common import workers
from crm_desktop.ui.prospects.interests_dialog import InterestsDialog
from crm_desktop.ui.prospects.prospect_model import NAME, SCHOOL, ProspectIdRole
from crm_desktop.ui.shell import features, housekeeping
from crm_desktop.ui.shell.actions import in_menu_order

TIMEOUT_MS = 20_000


def shown_ids(qtbot, window) -> list[int]:
    """The rows on show once the reads asked for (the query's, its pages) arrived."""
    model = window.prospects.model
    wait_for_reads(qtbot)
    for r in range(model.rowCount()):
        model.index(r, NAME).data()  # as painting would: missing pages are read
    wait_for_reads(qtbot)
    return [model.index(r, NAME).data(ProspectIdRole) for r in range(model.rowCount())]


def test_opens_with_focus_in_search_and_counts_in_the_status_bar(qtbot, make_window, demo_ctx):
    window = make_window()
    assert QApplication.focusWidget() is window.prospects.search
    assert window.prospects.model.rowCount() == 60
    db_label = window.findChild(type(window.count_label), "databaseLabel")
    assert str(demo_ctx.db.path) in db_label.text()
    assert window.count_label.text() == "60 prospects"
    assert "Select a prospect" in window.prospects.detail.plain_text()
    assert not window.commands.edit_prospect.isEnabled()


def test_search_as_you_type_narrows_the_table_with_one_query(qtbot, window, ctx, add_prospect):
    for first, last in [("Grace", "Hopper"), ("Grace", "Kelly"), ("Alan", "Turing")]:
        add_prospect(first, last, school="Hopwood Hall College" if last == "Turing" else None)
    window.refresh_all()
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert window.prospects.model.rowCount() == 3

    resets = []
    window.prospects.model.modelReset.connect(lambda: resets.append(1))
    qtbot.keyClicks(window.prospects.search, "hop")
    assert window.prospects.model.rowCount() == 3  # not yet: the rows are read on a worker
    qtbot.waitUntil(lambda: window.prospects.model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert len(resets) == 1  # three keystrokes, one query
    names = {window.prospects.model.index(r, NAME).data() for r in range(2)}
    assert names == {"Grace Hopper", "Alan Turing"}  # by name, and by school
    # The total is read on a worker; the last total read stands meanwhile.
    assert window.count_label.text() == "2 of 3 prospects"
    wait_for_reads(qtbot)
    assert window.count_label.text() == "2 of 3 prospects"

    qtbot.keyClicks(window.prospects.search, "per")
    qtbot.waitUntil(lambda: window.prospects.model.rowCount() == 1, timeout=TIMEOUT_MS)
    qtbot.keyClick(window.prospects.search, Qt.Key.Key_Escape)  # Esc clears the search
    qtbot.waitUntil(lambda: window.prospects.model.rowCount() == 3, timeout=TIMEOUT_MS)


def test_filters_query_sql_and_clear(qtbot, make_window, demo_ctx):
    window = make_window()
    page = window.prospects
    stage = page.filters["stage"]
    assert stage.itemText(0) == "Any stage"
    stage.setCurrentIndex(stage.findData("customer"))
    expected = prospects.list_prospects(demo_ctx, ProspectQuery(stage="customer"))
    assert shown_ids(qtbot, window) == [p.id for p in expected]
    owner = page.filters["owner"]
    assert owner.count() > 1
    owner.setCurrentIndex(1)
    query = ProspectQuery(stage="customer", owner=owner.currentData())
    wait_for_reads(qtbot)
    assert page.model.rowCount() == prospects.count_prospects(demo_ctx, query)
    wait_for_reads(qtbot)  # the total is read on a worker
    assert window.count_label.text().endswith("of 60 prospects")
    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    wait_for_reads(qtbot)
    assert page.model.rowCount() == 60 and stage.currentIndex() == 0


def test_clicking_a_header_sorts_in_sql(qtbot, make_window, demo_ctx):
    window = make_window()
    header = window.prospects.table.horizontalHeader()
    x = header.sectionViewportPosition(SCHOOL) + header.sectionSize(SCHOOL) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert window.prospects.model.query.sort == "school"
    ascending = [p.id for p in prospects.list_prospects(demo_ctx, ProspectQuery(sort="school"))]
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert window.prospects.model.query.descending
    descending = prospects.list_prospects(demo_ctx, ProspectQuery(sort="school", descending=True))
    assert shown_ids(qtbot, window) == [p.id for p in descending] != ascending


def test_delete_asks_naming_the_person(qtbot, make_window, ctx, add_prospect, prompter):
    keep = add_prospect("Marie", "Curie")
    gone = add_prospect("Pierre", "Curie")
    window = make_window()
    window.prospects.select_prospect(gone)
    window.prospects.table.setFocus()
    prompter.answers = [False, True]
    qtbot.keyClick(window.prospects.table, Qt.Key.Key_Delete)
    assert "Delete Pierre Curie" in prompter.questions[0][1]
    assert prospects.count_prospects(ctx) == 2  # said no
    qtbot.keyClick(window.prospects.table, Qt.Key.Key_Delete)
    assert shown_ids(qtbot, window) == [keep]
    assert prospects.count_prospects(ctx) == 1
    assert "Select a prospect" in window.prospects.detail.plain_text()


def test_window_restores_geometry_splitter_and_header(qtbot, make_window, demo_ctx, tmp_path):
    settings = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)
    first = make_window(window_settings=settings)
    # Within the offscreen screen (800x600): restoreGeometry() keeps windows on screen.
    first.resize(760, 540)
    first.move(12, 24)
    first.prospects.splitter.setSizes([420, 320])
    header = first.prospects.table.horizontalHeader()
    header.resizeSection(NAME, 263)
    header.moveSection(header.visualIndex(SCHOOL), 0)
    first.prospects.table.sortByColumn(SCHOOL, Qt.SortOrder.DescendingOrder)
    first.tabs.setCurrentIndex(SCHOOLS_TAB)
    sizes = first.prospects.splitter.sizes()
    first.close()

    second = make_window(window_settings=settings)
    assert (second.width(), second.height()) == (760, 540)
    assert (second.x(), second.y()) == (12, 24)
    assert second.tabs.currentIndex() == SCHOOLS_TAB
    second.commands.show_prospects.trigger()
    assert second.prospects.splitter.sizes() == sizes
    restored = second.prospects.table.horizontalHeader()
    assert restored.sectionSize(NAME) == 263
    assert restored.visualIndex(SCHOOL) == 0
    assert restored.sortIndicatorSection() == SCHOOL
    assert second.prospects.model.query.sort == "school"
    assert second.prospects.model.query.descending


def test_empty_database_offers_demo_data(qtbot, window, ctx, prompter):
    assert "No prospects yet" in window.prospects._empty.text()
    prompter.answers = [True]
    task = housekeeping.offer_demo_data(window)
    assert "no prospects yet" in prompter.questions[0][1]
    with qtbot.waitSignal(task.finished, timeout=60_000):
        pass
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert window.prospects.model.rowCount() == 200
    assert window.count_label.text() == "200 prospects"
    wait_for_reads(qtbot)  # the filter lists are read on a worker
    assert window.prospects.filters["school"].count() > 1  # the filters know the new schools
    assert window.prospects._empty.isHidden()


def test_declining_demo_data_or_a_full_database_adds_nothing(
    qtbot, window, ctx, add_prospect, prompter
):
    prompter.answers = [False]
    assert housekeeping.offer_demo_data(window) is None
    assert prospects.count_prospects(ctx) == 0
    add_prospect("Already", "Here")
    assert (
        housekeeping.offer_demo_data(window) is None
    )  # no question asked (it would fail the test)
    assert len(prompter.questions) == 1


def test_open_and_new_database(qtbot, window, ctx, tmp_path, prompter):
    other = open_database(tmp_path / "other.db", create=True)
    generate_demo(Context(other, user="bob"), 12, seed=3)
    other.dispose()

    prompter.files = [str(tmp_path / "other.db")]
    with qtbot.waitSignal(window.databaseChanged):
        window.commands.open_database.trigger()
    assert window.ctx.db.path == (tmp_path / "other.db").resolve()
    wait_for_reads(qtbot)
    assert window.prospects.model.rowCount() == 12
    assert "other.db" in window.windowTitle()

    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("shopping list\n" * 20)
    prompter.files = [str(not_a_db)]
    window.commands.open_database.trigger()
    assert "not a CRM Desktop database" in prompter.errors()[-1]
    assert window.ctx.db.path.name == "other.db"  # still on the good one

    prompter.files = [str(tmp_path / "fresh")]
    prompter.answers = [False]  # no demo data
    window.commands.new_database.trigger()
    assert window.ctx.db.path == (tmp_path / "fresh.db").resolve()
    wait_for_reads(qtbot)
    assert window.prospects.model.rowCount() == 0
    assert prompter.questions[-1][0] == "Load demo data?"

    prompter.files = [str(tmp_path / "other.db")]
    window.commands.new_database.trigger()
    assert "already exists" in prompter.errors()[-1]
    assert window.ctx.db.path.name == "fresh.db"


def test_every_menu_item_is_there_and_works(qtbot, make_window, demo_ctx, prompter):
    window = make_window()
    declared = features.menus()
    specs = in_menu_order(declared, features.actions())
    bar_menus = [action.menu() for action in window.menuBar().actions()]
    assert [m.title() for m in bar_menus] == [menu.title for menu in declared]
    menus = {m.objectName(): m for m in bar_menus}
    for key in (menu.key for menu in declared):
        actions = [a for a in menus[f"menu_{key}"].actions() if not a.isSeparator()]
        assert [a.text() for a in actions if a.menu() is None] == [
            s.text for s in specs if s.menu == key
        ]
        submenus = [a.menu().title() for a in actions if a.menu() is not None]
        assert submenus == (["&Appearance"] if key == "view" else [])
    assert window.commands.new_prospect.shortcut().toString() == "Ctrl+N"
    assert window.commands.log_contact.shortcut().toString() == "Ctrl+L"

    window.commands.show_followups.trigger()
    assert window.tabs.currentIndex() == FOLLOWUPS_TAB
    window.commands.show_schools.trigger()
    assert window.tabs.currentIndex() == SCHOOLS_TAB
    window.commands.find.trigger()
    assert window.tabs.currentIndex() == PROSPECTS_TAB
    assert QApplication.focusWidget() is window.prospects.search
    window.commands.show_prospects.trigger()
    assert window.tabs.currentIndex() == PROSPECTS_TAB

    window.commands.about.trigger()
    assert prompter.messages[-1][0] == "info" and "CRM Desktop" in prompter.messages[-1][2]

    window.commands.manage_interests.trigger()
    qtbot.waitUntil(lambda: window.findChild(InterestsDialog) is not None)
    dialog = window.findChild(InterestsDialog)
    dialog.reject()

    prompter.answers = [True]
    window.commands.load_demo.trigger()
    qtbot.waitUntil(lambda: window.prospects.model.rowCount() == 260, timeout=60_000)

    window.commands.quit.trigger()
    assert not window.isVisible()


def test_a_follow_up_opens_its_prospect(qtbot, make_window, ctx, add_prospect):
    ids = [add_prospect("Person", f"Number{i}") for i in range(5)]
    correspondence.log_contact(
        ctx, ids[3], ContactInput(kind="call", summary="Chase", follow_up_on="2030-01-01")
    )
    window = make_window()
    window.prospects.search.setText("Number1")
    window.prospects.apply_query()
    window.commands.show_followups.trigger()
    window.followups.prospectActivated.emit(ids[3])
    assert window.tabs.currentIndex() == PROSPECTS_TAB
    wait_for_reads(qtbot)  # selected once the cleared search's rows arrive
    assert window.prospects.selected_id() == ids[3]
    assert window.prospects.search.text() == ""  # filters cleared to show them
    wait_for_reads(qtbot)  # the detail pane reads on a worker
    assert "Chase" in window.prospects.detail.plain_text()


def test_long_names_and_naughty_search_text(qtbot, window, ctx, naughty_strings):
    long_name = "Wolfeschlegelsteinhausenbergerdorff" * 2
    pid = prospects.create_prospect(
        ctx, ProspectInput(first_name=long_name, last_name="Sr", email="w@x.sch.uk")
    ).record.id
    window.prospects.reload()
    wait_for_reads(qtbot)
    window.prospects.select_prospect(pid)
    wait_for_reads(qtbot)  # the detail pane reads on a worker
    detail = window.prospects.detail
    assert long_name in detail.plain_text()
    assert detail.width() <= window.width()  # the pane wraps, it does not grow
    for line in naughty_strings:
        window.prospects.search.setText(line)
        window.prospects.apply_query()
        wait_for_reads(qtbot)
        expected = prospects.count_prospects(ctx, ProspectQuery(search=line))
        assert window.prospects.model.rowCount() == expected, repr(line)
        if expected:
            assert window.prospects.model.index(0, NAME).data()


def test_app_main_explains_a_database_from_a_newer_version(qapp, tmp_path, prompter):
    from crm_desktop.ui.shell.app import main

    path = tmp_path / "future.db"
    open_database(path, create=True).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
    assert main(["crm-desktop", "--db", str(path)]) == 1
    [(level, title, text)] = prompter.messages
    assert level == "error" and "newer version" in text and "Traceback" not in text


def test_app_main_opens_the_database_and_offers_demo_data(qapp, tmp_path, prompter):
    from crm_desktop.ui.shell.app import main
    from crm_desktop.ui.shell.main_window import MainWindow

    windows: list[MainWindow] = []

    def answer(parent, title, text):
        prompter.questions.append((title, text))
        if title == "Create a new database?":  # --db names a file that is not there yet
            return True
        windows.extend(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        QTimer.singleShot(0, windows[0].close)  # closing the last window ends app.exec()
        return False

    prompter.question = answer
    try:
        assert main(["crm-desktop", "--db", str(tmp_path / "first.db")]) == 0
    finally:
        qapp.setStyleSheet("")
    assert [title for title, _text in prompter.questions] == [
        "Create a new database?",
        "Load demo data?",
    ]
    assert windows[0].ctx.db.path == (tmp_path / "first.db").resolve()
    assert QApplication.focusWidget() in (None, windows[0].prospects.search)
    assert qapp.applicationName() == "CRM Desktop"


def test_closing_the_window_waits_for_reads_still_running(qtbot, make_window, ctx, monkeypatch):
    window = make_window()
    started, release = threading.Event(), threading.Event()
    real = correspondence.list_followups

    def slow(*args, **kwargs):
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(correspondence, "list_followups", slow)
    window.followups.refresh()  # a read on a worker...
    assert started.wait(10)
    reads_running = [task for task in workers.running_tasks() if task.quiet]
    assert reads_running
    threading.Timer(0.3, release.set).start()
    window.close()  # ...which the window waits for: no thread outlives it
    assert all(task.wait(0) for task in reads_running)
