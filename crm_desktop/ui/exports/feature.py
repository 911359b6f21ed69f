"""The Exports feature: the Exports tab and Marketing > Export campaign list.

Declared once here; the shell builds the tab, the menu item and its
shortcut from :data:`FEATURE`.
"""

from __future__ import annotations

from pathlib import Path

from crm_desktop.domain.roles import Action
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.common.registry import ActionSpec, Feature, PageSpec, Shell
from crm_desktop.ui.exports.export_wizard import ExportWizard
from crm_desktop.ui.exports.exports_page import ExportsView

PAGE = "exports"
EXPORT_FOLDER_KEY = "exports/folder"
# INTERESTS: a record's interest filter is named as the interest is called now.
CARES = frozenset(
    {Kind.PROSPECTS, Kind.CONTACTS, Kind.MARKETING, Kind.EXPORTS, Kind.DATABASE}
    | {Kind.INTERESTS, Kind.APPEARANCE}
)


def make_page(shell: Shell) -> ExportsView:
    page = ExportsView(shell.ctx, shell.action("export_campaign"), shell.window())
    page.load_on_show = False  # read when the window first shows it (see refresh)
    return page


def refresh(page: ExportsView, change: Change | None) -> None:
    """Show the lists again; the one just exported selected."""
    exported = change is not None and Kind.EXPORTS in change.kinds
    page.refresh(select_id=change.select if exported else None)


def export_campaign(shell: Shell) -> ExportWizard:
    folder = shell.settings.value(EXPORT_FOLDER_KEY, "", type=str)
    wizard = ExportWizard(
        shell.ctx,
        shell.window(),
        folder=folder if folder and Path(folder).is_dir() else None,
        bus=shell.bus,
    )

    def page_shown(page_id: int) -> None:
        # The result page shows once the list is written (the wizard has said so on the bus).
        record = wizard.record
        if page_id != ExportWizard.RESULT_PAGE or record is None:
            return
        shell.settings.setValue(EXPORT_FOLDER_KEY, str(Path(record.file_name).parent))
        shell.status(
            f"Exported {record.included:,} of {record.included + record.excluded:,} "
            f"to {Path(record.file_name).name}."
        )

    wizard.currentIdChanged.connect(page_shown)
    return shell.open_dialog(wizard)


FEATURE = Feature(
    name="exports",
    pages=(
        PageSpec(
            name=PAGE,
            title="Exports",
            order=40,
            factory=make_page,
            show_text="&Exports",
            shortcut="Ctrl+4",
            tip="Campaign lists exported so far",
            permission=Action.EXPORT,
            cares=CARES,
            refresh=refresh,
        ),
    ),
    actions=(
        ActionSpec(
            "export_campaign",
            "&Export campaign list…",
            "marketing",
            10,
            export_campaign,
            "Ctrl+E",
            "Write an email, SMS, phone or online-audience list for the email or ads "
            "tool, leaving out everyone who may not be contacted",
            permission=Action.EXPORT,
            edits=True,
        ),
    ),
)
