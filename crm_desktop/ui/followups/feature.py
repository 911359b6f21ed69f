"""The Follow-ups feature: the Follow-ups tab.

Declared once here; the shell builds the tab and its shortcut from :data:`FEATURE`.
"""

from __future__ import annotations

from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.common.registry import Feature, PageSpec, Shell, named_controls
from crm_desktop.ui.followups.followups_page import PAGE, FollowUpsView

CARES = frozenset({Kind.PROSPECTS, Kind.CONTACTS, Kind.MARKETING, Kind.DATABASE, Kind.APPEARANCE})


def make_page(shell: Shell) -> FollowUpsView:
    page = FollowUpsView(shell.ctx, shell.window(), settings=shell.settings, bus=shell.bus)
    page.load_on_show = False  # read when the window first shows it (see refresh)
    page.prospectActivated.connect(lambda pid: shell.open_record("prospect", pid))
    return page


def refresh(page: FollowUpsView, _change: Change | None) -> None:
    page.refresh()


def editing_controls(page: FollowUpsView) -> list:
    names = ("mark_done_action", "mark_done_button")
    return named_controls(page, names)


FEATURE = Feature(
    name="followups",
    pages=(
        PageSpec(
            name=PAGE,
            title="Follow-ups",
            order=20,
            factory=make_page,
            show_text="&Follow-ups",
            shortcut="Ctrl+2",
            cares=CARES,
            refresh=refresh,
            editing_controls=editing_controls,
        ),
    ),
)
