"""Pages and actions declared, not wired; one change signal refreshes the pages that care."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QWidget
from reads_support import wait_for_reads

from crm_desktop.domain.roles import Action, Role
from crm_desktop.domain.validation import SchoolInput
from crm_desktop.services import schools as school_service
from crm_desktop.services.context import Context
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind
from crm_desktop.ui.common.registry import ActionSpec, Feature, PageSpec, merge
from crm_desktop.ui.shell import features
from crm_desktop.ui.shell.actions import in_menu_order

# The menus as declared (object names; "-" a separator): as they were before
# the declarations, plus the actions features added since.
MENUS_BEFORE = {
    "menu_file": "new_database open_database - import_contacts - load_demo manage_interests "
    "settings - "
    "manage_users change_password sign_out - back_up retention_review audit_trail - quit",
    "menu_prospect": "new_prospect edit_prospect delete_prospect - log_contact bulk_change - "
    "find_duplicates duplicates_of_prospect - subject_access_pack prospect_history new_request "
    "restrict_prospect unrestrict_prospect erase_prospect",
    "menu_marketing": "export_campaign import_unsubscribes - suppression_list li_assessments",
    "menu_view": "show_prospects show_followups show_schools show_exports show_requests - "
    "find - appearance",
    "menu_help": "about",
}
SHORTCUTS_BEFORE = {
    "open_database": "Ctrl+O", "quit": "Ctrl+Q", "new_prospect": "Ctrl+N", "edit_prospect": "F2",
    "delete_prospect": "Del", "log_contact": "Ctrl+L", "export_campaign": "Ctrl+E",
    "show_prospects": "Ctrl+1", "show_followups": "Ctrl+2", "show_schools": "Ctrl+3",
    "show_exports": "Ctrl+4", "show_requests": "Ctrl+5", "find": "Ctrl+F",
    "find_duplicates": "Ctrl+Shift+D",
    "import_contacts": "Ctrl+I", "bulk_change": "Ctrl+Shift+B",
}  # fmt: skip


# ------------------------------------------------------ the declarations


def test_every_action_has_a_handler_a_menu_and_a_unique_name():
    specs = features.actions()
    menus = {menu.key for menu in features.menus()}
    names = Counter(spec.name for spec in specs)
    assert [name for name, n in names.items() if n > 1] == []
    for spec in specs:
        assert callable(spec.handler), spec.name
        assert spec.menu in menus, spec.name
        assert spec.text, spec.name
        assert spec.enabled_for is None or spec.on_selection, spec.name
    assert len({menu.key for menu in features.menus()}) == len(features.menus())


def test_no_two_actions_share_a_shortcut():
    keys = Counter(
        QKeySequence(spec.shortcut).toString() for spec in features.actions() if spec.shortcut
    )
    assert [key for key, n in keys.items() if n > 1] == []


def test_every_page_is_declared_whole():
    pages = features.pages()
    assert [page.name for page in pages] == [
        "prospects", "followups", "schools", "exports", "requests"
    ]  # fmt: skip
    assert len({page.order for page in pages}) == len(pages)
    for page in pages:
        assert callable(page.factory) and page.title and page.shortcut
        assert page.refresh is not None or not page.cares, page.name
    # Whatever a page selects, the actions on a selection can ask for it.
    assert any(page.selected is not None for page in pages)


def test_the_shortcut_list_is_as_it_was():
    shortcuts = {spec.name: spec.shortcut for spec in features.actions() if spec.shortcut}
    assert shortcuts == SHORTCUTS_BEFORE


def test_menu_order_follows_the_order_numbers_across_features():
    ordered = in_menu_order(features.menus(), features.actions())
    file_items = [spec.name for spec in ordered if spec.menu == "file"]
    # declared in five features (window, imports, prospects, admin, privacy), shown as one menu
    assert file_items[:7] == [
        "new_database", "open_database", "import_contacts", "load_demo", "manage_interests",
        "settings", "manage_users",
    ]  # fmt: skip


def test_features_reach_the_window_only_through_the_shell_api():
    """No module of a feature imports the shell or another feature (they meet in ui/common)."""
    import ast
    from pathlib import Path

    import crm_desktop.ui as ui_package

    root = Path(ui_package.__file__).parent
    paths = [p for p in root.glob("*/*.py") if p.parent.name not in {"shell", "common"}]
    assert len(paths) > 30
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        ] + [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        assert not [m for m in imported if m.startswith("crm_desktop.ui.shell")], path
        feature = path.parent.name
        others = [
            m for m in imported
            if m.startswith("crm_desktop.ui.")
            and m.split(".")[2] not in {"common", feature}
        ]  # fmt: skip
        assert others == [], path


# --------------------------------------------------- the window builds them


def test_the_menus_are_as_they_were(window):
    for name, expected in MENUS_BEFORE.items():
        menu = window.menuBar().findChild(QWidget, name)
        shown = []
        for action in menu.actions():
            if action.isSeparator():
                shown.append("-")
            elif action.menu() is not None:
                shown.append("appearance")
            else:
                shown.append(action.objectName().removeprefix("action_"))
        assert " ".join(shown) == expected, name


def _pinned_page(made: list) -> PageSpec:
    def factory(shell) -> QLabel:
        page = QLabel("A page for the test", shell.window())
        made.append(page)
        return page

    return PageSpec(
        name="pinboard",
        title="Pinboard",
        order=60,
        factory=factory,
        show_text="&Pinboard",
        shortcut="Ctrl+6",
        tip="Notes pinned for the team",
        permission=Action.VIEW_AUDIT,
    )


@pytest.fixture
def with_pinboard(qtbot, settings, styled_app):
    """A window with one more feature: a page and an action of its own."""
    from crm_desktop.ui.shell.main_window import MainWindow

    made: list = []
    ran: list = []
    pinboard = Feature(
        name="pinboard",
        pages=(_pinned_page(made),),
        actions=(
            ActionSpec(
                "pin_note",
                "&Pin a note…",
                "view",
                70,
                lambda shell: ran.append(shell),
                "Ctrl+Shift+P",
                permission=Action.VIEW_AUDIT,
            ),
        ),  # fmt: skip
    )

    def make(ctx: Context):
        window = MainWindow(ctx, settings, feature_list=(*features.FEATURES, pinboard))
        qtbot.addWidget(window)
        return window

    return make, made, ran


def test_a_declared_page_is_a_tab_with_its_shortcut(with_pinboard, ctx, qtbot):
    make, made, ran = with_pinboard
    window = make(ctx)  # an admin
    assert len(made) == 1
    index = window.tabs.indexOf(made[0])
    assert index == window.tabs.count() - 1  # order 60: after Requests
    assert window.tabs.tabText(index) == "Pinboard" and window.tabs.isTabVisible(index)
    show = window.commands.show_pinboard
    assert show.shortcut().toString() == "Ctrl+6" and show.isVisible()
    assert show.statusTip() == "Notes pinned for the team"
    show.trigger()
    assert window.tabs.currentIndex() == index and window.current_page() == "pinboard"
    assert window.pinboard is made[0]
    window.commands.pin_note.trigger()
    assert ran == [window]
    assert window.pin_note() is None and len(ran) == 2  # the handler, by name


def test_a_declared_page_is_hidden_from_a_role_without_its_permission(with_pinboard, ctx):
    make, made, _ran = with_pinboard
    sales = make(Context(db=ctx.db, user="sam", role=Role.SALES))
    index = sales.tabs.indexOf(made[0])
    assert not sales.tabs.isTabVisible(index)
    assert not sales.commands.show_pinboard.isVisible()
    assert not sales.commands.pin_note.isVisible()
    assert sales.tabs.isTabVisible(0)  # Prospects needs no permission


# ------------------------------------------------------------ one change


def test_a_change_needs_a_kind_and_merges():
    with pytest.raises(ValueError):
        ChangeBus().publish(Change(frozenset()))
    first = Change.of(Kind.EXPORTS, ids=(1,), select=1, by="exports")
    second = Change.of(Kind.PROSPECTS, ids=(2,), by="prospects")
    both = merge(first, second)
    assert both.kinds == {Kind.EXPORTS, Kind.PROSPECTS} and both.ids == {1, 2}
    assert both.select == 1 and both.by == ""
    assert merge(None, second) is second


def _record_refreshes(monkeypatch, window) -> list[str]:
    calls: list[str] = []
    for name in ("followups", "schools", "exports", "requests"):
        page = window.pages[name]
        monkeypatch.setattr(page, "refresh", lambda *a, _n=name, **k: calls.append(_n))
    prospects = window.prospects
    for method in ("reload", "refresh_rows", "reload_filters"):
        original = getattr(prospects, method)

        def spy(*args, _m=method, _original=original, **kwargs):
            calls.append(f"prospects.{_m}")
            return _original(*args, **kwargs)

        monkeypatch.setattr(prospects, method, spy)
    return calls


def test_a_change_refreshes_exactly_the_pages_that_care(window, monkeypatch):
    window.commands.show_schools.trigger()
    calls = _record_refreshes(monkeypatch, window)

    window.bus.publish(Change.of(Kind.INTERESTS))  # only the Prospects filters and rows
    assert calls == ["prospects.reload_filters", "prospects.refresh_rows"]

    calls.clear()
    window.bus.publish(Change.of(Kind.CONTACTS))  # Prospects at once; Schools is on show
    assert calls == ["prospects.refresh_rows", "schools"]

    calls.clear()
    window.bus.publish(Change.of(Kind.SCHOOLS, by="schools"))  # Schools made it: not again
    assert calls == ["prospects.reload_filters", "prospects.refresh_rows"]

    calls.clear()
    window.bus.publish(Change.of(Kind.EXPORTS, select=5))  # Exports is off screen: later
    assert calls == []


def test_a_page_off_screen_shows_what_it_missed_when_shown(window, monkeypatch):
    selected: list = []
    monkeypatch.setattr(
        window.exports, "refresh", lambda select_id=None: selected.append(select_id)
    )
    window.bus.publish(Change.of(Kind.EXPORTS, ids=(5,), select=5))
    assert selected == []
    window.commands.show_exports.trigger()
    assert selected == [5]  # the list just exported, selected
    window.commands.show_prospects.trigger()
    window.commands.show_exports.trigger()
    assert selected == [5, None]  # shown again: refreshed, nothing missed


def test_a_schools_change_reaches_the_real_prospects_filters(qtbot, window, ctx):
    combo = window.prospects.filters["school"]
    assert combo.findText("Brand New Academy") < 0
    school_service.create_school(ctx, SchoolInput(name="Brand New Academy"))
    window.bus.publish(Change.of(Kind.SCHOOLS, by="schools"))
    wait_for_reads(qtbot)  # the filter lists are read on a worker
    assert combo.findText("Brand New Academy") >= 0


def test_the_title_follows_a_users_change(window, ctx):
    ctx.user = "somebody-else"
    assert "somebody-else" not in window.windowTitle()
    window.bus.publish(Change.of(Kind.USERS))
    assert "somebody-else" in window.windowTitle()
