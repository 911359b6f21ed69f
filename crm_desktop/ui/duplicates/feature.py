"""The Duplicates feature: Prospect > Find duplicates… and the merge screen.

Declared once here; the shell builds the menu item from :data:`FEATURE`.
Other features open the list with ``shell.run("find_duplicates")``, or,
for some prospects only (an import's), with
``shell.provided("duplicates.review")(shell, prospect_ids)``.
"""

from __future__ import annotations

from collections.abc import Collection

from crm_desktop.ui.common.registry import ActionSpec, Feature, Shell
from crm_desktop.ui.duplicates.duplicates_dialog import DuplicatesDialog


def find_duplicates(
    shell: Shell, among: Collection[int] | None = None, scope: str | None = None
) -> DuplicatesDialog:
    """The list of probable duplicates (``among``: only pairs involving these
    prospects; ``scope`` says whose, e.g. "the 120 prospects just imported")."""
    dialog = DuplicatesDialog(
        shell.ctx, shell.window(), bus=shell.bus, among=among, scope=scope, status=shell.status
    )
    return shell.open_dialog(dialog)


def duplicates_of_selected(shell: Shell) -> DuplicatesDialog | None:
    """The probable duplicates of the prospect selected on the page on show."""
    prospect = shell.selected()
    if prospect is None:
        return None
    return find_duplicates(shell, [prospect.id], prospect.full_name)


FEATURE = Feature(
    name="duplicates",
    actions=(
        ActionSpec(
            "find_duplicates",
            "Find &duplicates…",
            "prospect",
            48,
            find_duplicates,
            "Ctrl+Shift+D",
            "Pairs of prospects that may be one person: merge them, or mark them as different",
            separator_before=True,
        ),
        ActionSpec(
            "duplicates_of_prospect",
            "Duplicates of this &person…",
            "prospect",
            49,
            duplicates_of_selected,
            tip="Records that may be the selected person too: merge them, or mark them as different",
            on_selection=True,
        ),
    ),
    provides={"duplicates.review": find_duplicates},
)
