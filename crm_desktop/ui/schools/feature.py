"""The Schools feature: the Schools tab.

Declared once here; the shell builds the tab and its shortcut from :data:`FEATURE`.
"""

from __future__ import annotations

from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.common.registry import Feature, PageSpec, Shell, named_controls
from crm_desktop.ui.schools.schools_page import PAGE, SchoolsView

CARES = frozenset(
    {Kind.PROSPECTS, Kind.CONTACTS, Kind.MARKETING, Kind.SCHOOLS, Kind.DATABASE} | {Kind.APPEARANCE}
)


def make_page(shell: Shell) -> SchoolsView:
    page = SchoolsView(shell.ctx, shell.window(), bus=shell.bus)
    page.load_on_show = False  # read when the window first shows it (see refresh)
    return page


def refresh(page: SchoolsView, _change: Change | None) -> None:
    page.refresh()


def editing_controls(page: SchoolsView) -> list:
    names = ("add_action", "edit_action", "delete_action",
             "add_button", "edit_button", "delete_button")  # fmt: skip
    return named_controls(page, names)


FEATURE = Feature(
    name="schools",
    pages=(
        PageSpec(
            name=PAGE,
            title="Schools",
            order=30,
            factory=make_page,
            show_text="&Schools",
            shortcut="Ctrl+3",
            cares=CARES,
            refresh=refresh,
            editing_controls=editing_controls,
        ),
    ),
)
