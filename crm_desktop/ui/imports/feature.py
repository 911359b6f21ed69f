"""The Imports feature: File > Import contacts… (Ctrl+I) and the import wizard.

Declared once here; the shell builds the menu item and its shortcut from
:data:`FEATURE`. Other features open the wizard on a file without importing
this one: the prospect list, when a file is dropped on it, asks
``shell.provided(OPEN_FILE)(shell, path)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crm_desktop.domain.roles import Action
from crm_desktop.ui.common.registry import ActionSpec, Feature, Shell
from crm_desktop.ui.imports.import_models import shortened
from crm_desktop.ui.imports.import_wizard import ImportWizard

ACTION = "import_contacts"
OPEN_FILE = "imports.open_file"  # provided: (shell, path) -> the wizard, reading that file
# The duplicates review the duplicates feature lends: (shell, prospect ids, scope) -> its list.
DUPLICATES_REVIEW = "duplicates.review"
# The prospect list limited to one import, lent by the prospects feature:
# (shell, import id, prospect id to select) -> None.
SHOW_IMPORT = "prospects.show_import"
PROSPECTS_PAGE = "prospects"


def _provided(shell: Shell, name: str) -> Callable | None:
    try:
        return shell.provided(name)
    except StopIteration:
        return None


def duplicates_review(shell: Shell) -> Callable | None:
    """The window's duplicates review, if it has one (features may be left out)."""
    return _provided(shell, DUPLICATES_REVIEW)


def import_contacts(shell: Shell, path: str | Path | None = None) -> ImportWizard:
    """Open the import wizard (on ``path`` if given)."""
    review = duplicates_review(shell)
    wizard = ImportWizard(
        shell.ctx,
        shell.window(),
        path=path,
        can_review_duplicates=review is not None,
        bus=shell.bus,
    )

    def page_shown(page_id: int) -> None:
        # The report shows once the batch is in (the wizard has said so on the bus).
        report = wizard.report
        if page_id != ImportWizard.REPORT_PAGE or report is None:
            return
        shell.status(
            f"Imported {shortened(report.file_name)}: {report.created:,} created, {report.updated:,} "
            f"updated, {report.rejected:,} rejected."
        )

    def show_imported(report) -> None:
        first = report.prospect_ids[0] if report.prospect_ids else None
        show_import = _provided(shell, SHOW_IMPORT)
        if show_import is not None and report.batch_id is not None:
            show_import(shell, report.batch_id, first)  # the list limited to this batch
        else:
            shell.show_page(PROSPECTS_PAGE)
            if first is not None:
                shell.open_record("prospect", first)
        n = len(report.prospect_ids)
        shell.status(
            f"{n:,} {'prospect' if n == 1 else 'prospects'} imported from "
            f"{shortened(report.file_name)}."
        )

    def review_duplicates(report) -> None:
        n = len(report.prospect_ids)
        scope = f"the {n:,} {'prospect' if n == 1 else 'prospects'} just imported"
        review(shell, report.prospect_ids, scope)

    wizard.currentIdChanged.connect(page_shown)
    wizard.showImported.connect(show_imported)
    if review is not None:
        wizard.reviewDuplicates.connect(review_duplicates)
    return shell.open_dialog(wizard)


def open_file(shell: Shell, path: str | Path) -> ImportWizard | None:
    """The wizard on ``path`` (a file dropped on the prospect list), if this user may import."""
    action = shell.action(ACTION)
    if not (action.isVisible() and action.isEnabled()):
        return None
    return import_contacts(shell, path)


FEATURE = Feature(
    name="imports",
    actions=(
        ActionSpec(
            ACTION,
            "&Import contacts…",
            "file",
            25,
            import_contacts,
            "Ctrl+I",
            "Add or update prospects from a CSV or Excel file, a Google, Outlook or "
            "Mailchimp export, or vCards",
            separator_before=True,
            permission=Action.IMPORT_CONTACTS,
            edits=True,
        ),
    ),
    provides={OPEN_FILE: open_file},
)
