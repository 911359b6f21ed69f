"""Tab positions of the main window, from the declared pages (tests only).

The window has no tab index constants; its tabs follow the pages' declared
order (see ``crm_desktop.ui.shell.features``). Tests that click a tab by
position take it from here.
"""

from __future__ import annotations

from crm_desktop.ui.shell import features

PAGE_NAMES = [page.name for page in features.pages()]


def tab_of(name: str) -> int:
    return PAGE_NAMES.index(name)


PROSPECTS_TAB = tab_of("prospects")
FOLLOWUPS_TAB = tab_of("followups")
SCHOOLS_TAB = tab_of("schools")
EXPORTS_TAB = tab_of("exports")
REQUESTS_TAB = tab_of("requests")
