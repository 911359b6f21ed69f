"""The Duplicates feature: Prospect > Find duplicates… and the merge screen.

Declared once here; the shell builds the menu item from :data:`FEATURE`.
Other features (an import's report) open the list with
``shell.run("find_duplicates")``.
"""

from __future__ import annotations

from crm_desktop.ui.common.registry import ActionSpec, Feature, Shell
from crm_desktop.ui.duplicates.duplicates_dialog import DuplicatesDialog


def find_duplicates(shell: Shell) -> DuplicatesDialog:
    dialog = DuplicatesDialog(shell.ctx, shell.window(), bus=shell.bus)
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
)
