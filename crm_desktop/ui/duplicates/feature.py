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


def find_duplicates(shell: Shell, among: Collection[int] | None = None) -> DuplicatesDialog:
    """The list of probable duplicates (``among``: only pairs involving these prospects)."""
    dialog = DuplicatesDialog(shell.ctx, shell.window(), bus=shell.bus, among=among)
    dialog.merged.connect(lambda view: shell.status(f"Merged into {view.full_name} (#{view.id})."))
    return shell.open_dialog(dialog)


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
    ),
    provides={"duplicates.review": find_duplicates},
)
