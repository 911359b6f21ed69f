"""The Prospects feature: its tab, the Prospect menu, and what it does with changes.

Declared once here (see :mod:`crm_desktop.ui.common.registry`); the shell
builds the tab, menu items and shortcuts from :data:`FEATURE`.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from crm_desktop.domain.roles import Action
from crm_desktop.errors import CrmError
from crm_desktop.services import bulk
from crm_desktop.services import prospects as prospect_service
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.registry import (
    STATUS_MS,
    ActionSpec,
    Feature,
    MenuSpec,
    PageSpec,
    Shell,
    named_controls,
)
from crm_desktop.ui.prospects.bulk_dialog import BulkDialog
from crm_desktop.ui.prospects.history_dialog import HistoryDialog
from crm_desktop.ui.prospects.interests_dialog import InterestsDialog
from crm_desktop.ui.prospects.log_contact_dialog import LogContactDialog
from crm_desktop.ui.prospects.prospect_dialog import ProspectDialog
from crm_desktop.ui.prospects.prospects_page import PAGE, ProspectsPage

# QSettings keys; bump the suffix if the saved layout stops fitting.
SPLITTER_KEY = "prospects/splitter"
HEADER_KEY = "prospects/header.v1"
# Changes after which the rows (and the detail pane) are read again.
ROWS = frozenset(
    {Kind.CONTACTS, Kind.MARKETING, Kind.SUPPRESSION, Kind.ASSESSMENTS, Kind.SCHOOLS}
    | {Kind.INTERESTS, Kind.APPEARANCE}
)
CARES = ROWS | {Kind.PROSPECTS, Kind.SIGN_IN, Kind.DATABASE}


def make_page(shell: Shell) -> ProspectsPage:
    marketing = shell.provided("prospect.marketing")
    return ProspectsPage(
        shell.ctx, shell.action, shell.window(), marketing=marketing, bus=shell.bus
    )


def refresh(page: ProspectsPage, change: Change | None) -> None:
    """Show ``change``: re-run the query, re-read rows, refill the filters."""
    kinds = change.kinds if change is not None else frozenset({Kind.DATABASE})
    if Kind.SIGN_IN in kinds:
        page.detail.marketing.apply_role()
    if Kind.DATABASE in kinds:
        page.reload_filters()
        page.reload()
        return
    if kinds & {Kind.SCHOOLS, Kind.INTERESTS}:
        page.reload_filters()
    if Kind.PROSPECTS in kinds:
        page.reload(select_id=change.select)
    elif kinds & ROWS:
        page.refresh_rows()
    if Kind.MARKETING in kinds and change.by != PAGE:  # opt-outs saved elsewhere
        page.detail.marketing.refresh()


def save_layout(page: ProspectsPage, settings: QSettings) -> None:
    splitter, header = page.save_state()
    settings.setValue(SPLITTER_KEY, splitter)
    settings.setValue(HEADER_KEY, header)


def restore_layout(page: ProspectsPage, settings: QSettings, width: int) -> None:
    page.restore_state(settings.value(SPLITTER_KEY), settings.value(HEADER_KEY), width)


def editing_controls(page: ProspectsPage) -> list:
    marketing = page.detail.marketing
    names = ("opt_out_action", "object_button", "consent_button", "basis_button",
             "subscriber", "personalisation")  # fmt: skip
    return named_controls(marketing, names)


# ----------------------------------------------------------------- actions


def page_of(shell: Shell) -> ProspectsPage:
    return shell.page(PAGE)


def new_prospect(shell: Shell) -> ProspectDialog:
    dialog = ProspectDialog(shell.ctx, parent=shell.window(), bus=shell.bus)
    dialog.accepted.connect(lambda: prospect_saved(shell, dialog.saved))
    return shell.open_dialog(dialog)


def edit_prospect(shell: Shell) -> ProspectDialog | None:
    prospect = shell.selected()
    if prospect is None:
        return None
    dialog = ProspectDialog(shell.ctx, prospect, parent=shell.window(), bus=shell.bus)
    dialog.accepted.connect(lambda: prospect_saved(shell, dialog.saved))
    return shell.open_dialog(dialog)


def prospect_saved(shell: Shell, saved) -> None:
    """What the window says once the dialog has saved (and said so on the bus)."""
    page = page_of(shell)
    if page.filters_lack(saved.record):  # a new school, role or owner to filter on
        page.reload_filters()
    if saved.warnings:
        shell.status(" ".join(saved.warnings), 4 * STATUS_MS)
    else:
        shell.status(f"Saved {saved.record.full_name}.")


def delete_prospect(shell: Shell) -> bool:
    prospect = shell.selected()
    if prospect is None:
        return False
    question = (
        f"Delete {prospect.full_name} and all their correspondence?\n\n"
        "Their details are also blanked in the audit trail. Their addresses are not "
        "suppressed, so they can be added again: to remove a person for good, use "
        "Erase person instead.\n\nThis cannot be undone."
    )
    if not messages.ask(shell.window(), "Delete prospect", question):
        return False
    try:
        prospect_service.delete_prospect(shell.ctx, prospect.id)
    except CrmError as exc:
        messages.show_error(shell.window(), exc, "Could not delete the prospect")
        return False
    shell.bus.publish(Change.of(Kind.PROSPECTS, ids=(prospect.id,)))
    shell.status(f"Deleted {prospect.full_name}.")
    return True


def log_contact(shell: Shell) -> LogContactDialog | None:
    prospect = shell.selected()
    if prospect is None:
        return None
    dialog = LogContactDialog(shell.ctx, prospect, parent=shell.window(), bus=shell.bus)
    dialog.accepted.connect(lambda: shell.status("Contact logged."))
    return shell.open_dialog(dialog)


def prospect_history(shell: Shell) -> HistoryDialog | None:
    prospect = shell.selected()
    if prospect is None:
        return None
    return shell.open_dialog(HistoryDialog(shell.ctx, prospect, shell.window()))


def manage_interests(shell: Shell) -> InterestsDialog:
    return shell.open_dialog(InterestsDialog(shell.ctx, shell.window(), bus=shell.bus))


def find(shell: Shell) -> None:
    shell.show_page(PAGE)
    page_of(shell).focus_search()


def show_prospect(shell: Shell, prospect_id: int) -> bool:
    """Bring ``prospect_id`` into view on the Prospects tab (clearing filters if needed)."""
    shell.show_page(PAGE)
    return page_of(shell).select_prospect(prospect_id, clear_filters=True)


def bulk_change(shell: Shell, action: str = bulk.SET_STAGE) -> BulkDialog | None:
    """Change every selected prospect at once (or every one the filter matches);
    the dialog opens on ``action``."""
    shell.show_page(PAGE)
    picked = page_of(shell).bulk_selection()
    if picked is None:
        shell.status("Select prospects first: Shift/Ctrl-click rows, or Ctrl+A for all matching.")
        return None
    selection, count = picked
    dialog = BulkDialog(
        shell.ctx, selection, count, shell.window(), bus=shell.bus, status=shell.status,
        action=action,
    )  # fmt: skip
    return shell.open_dialog(dialog)


def delete_selected(shell: Shell) -> BulkDialog | None:
    """Del with several prospects selected: the bulk dialog on Delete (it asks first),
    if this user may change prospects (the same rule as Change selected prospects…)."""
    action = shell.action("bulk_change")
    if not (action.isVisible() and action.isEnabled()):
        return None
    return bulk_change(shell, bulk.DELETE)


def show_import(shell: Shell, import_id: int, select_id: int | None = None) -> None:
    """The Prospects tab showing only the people import ``import_id`` brought in
    (lent to the import wizard's "Show imported" as ``prospects.show_import``)."""
    shell.show_page(PAGE)
    page_of(shell).show_import(import_id, select_id=select_id)


# ------------------------------------------------------------------- setup


def setup(shell: Shell) -> None:
    """The prospect count in the status bar, and the page's own signals."""
    page = page_of(shell)
    count = QLabel(shell.window())
    count.setObjectName("countLabel")
    shell.add_part("count_label", count)
    shell.add_status_widget(count, 20)

    # The total beside a filtered count is read on a worker; meanwhile the last
    # total read stands ("…" before the first).
    total_reader = Reader(count, cover=None)
    last_total: list[str] = ["…"]

    def show_total(shown: str, total: int) -> None:
        last_total[0] = f"{total:,}"
        count.setText(f"{shown} of {total:,} prospects")

    def update_count() -> None:
        # "1,000+" while a long list is still being counted.
        shown = page.model.count_text()
        if not page.is_filtered():
            total_reader.cancel()
            last_total[0] = shown
            plural = page.model.rowCount() != 1 or not page.model.count_is_exact
            count.setText(f"{shown} prospect" + ("s" if plural else ""))
            return
        count.setText(f"{shown} of {last_total[0]} prospects")
        ctx = shell.ctx
        total_reader.read(
            lambda: prospect_service.count_prospects(ctx),
            lambda total: show_total(shown, total),
            failed=lambda _error: True,  # the table says why; the count keeps its place
        )

    page.countChanged.connect(update_count)
    # The prospect count belongs to the Prospects tab only.
    shell.pageShown.connect(lambda name: count.setVisible(name == PAGE))
    shell.bus.changed.connect(lambda change: Kind.DATABASE in change.kinds and update_count())
    page.selectionChanged.connect(shell.update_actions)
    page.activated.connect(lambda: shell.run("edit_prospect"))
    page.bulkRequested.connect(lambda: shell.run("bulk_change"))
    page.deleteManyRequested.connect(lambda: delete_selected(shell))
    # Only emitted when the window has the import action, so the imports feature is there.
    page.fileDropped.connect(lambda path: shell.provided("imports.open_file")(shell, path))
    update_count()


FEATURE = Feature(
    name="prospects",
    menus=(MenuSpec("prospect", "&Prospect", 20),),
    pages=(
        PageSpec(
            name=PAGE,
            title="Prospects",
            order=10,
            factory=make_page,
            show_text="&Prospects",
            shortcut="Ctrl+1",
            cares=CARES,
            refresh=refresh,
            lazy=False,
            selected_id=lambda page: page.selected_id(),
            selected=lambda page: page.selected_prospect(),
            editing_controls=editing_controls,
            focus=lambda page: page.focus_search(),
            forget=lambda page: page.clear_filters(),
            save=save_layout,
            restore=restore_layout,
        ),
    ),
    actions=(
        ActionSpec(
            "manage_interests",
            "Manage &interests…",
            "file",
            40,
            manage_interests,
            tip="The services we sell",
            permission=Action.MANAGE_SETTINGS,
            edits=True,
        ),
        ActionSpec(
            "new_prospect",
            "&New prospect…",
            "prospect",
            10,
            new_prospect,
            "Ctrl+N",
            "Add a prospect",
            permission=Action.EDIT_RECORDS,
            edits=True,
        ),
        ActionSpec(
            "edit_prospect",
            "&Edit prospect…",
            "prospect",
            20,
            edit_prospect,
            "F2",
            "Edit the selected prospect",
            permission=Action.EDIT_RECORDS,
            edits=True,
            on_selection=True,
        ),
        ActionSpec(
            "delete_prospect",
            "&Delete prospect…",
            "prospect",
            30,
            delete_prospect,
            "Del",
            "Delete the selected prospect",
            permission=Action.EDIT_RECORDS,
            edits=True,
            on_selection=True,
        ),
        ActionSpec(
            "log_contact",
            "&Log contact…",
            "prospect",
            40,
            log_contact,
            "Ctrl+L",
            "Record a call, email or meeting with the selected prospect",
            separator_before=True,
            permission=Action.LOG_CONTACT,
            edits=True,
            on_selection=True,
        ),
        ActionSpec(
            "bulk_change",
            "Change &selected prospects…",
            "prospect",
            45,
            bulk_change,
            "Ctrl+Shift+B",
            "Set owner or stage, add or remove an interest, log a contact, opt out or "
            "delete, for every selected prospect",
            permission=Action.EDIT_RECORDS,
            edits=True,
        ),
        ActionSpec(
            "prospect_history",
            "&History…",
            "prospect",
            60,
            prospect_history,
            tip="Everything that happened to the selected person",
            permission=Action.VIEW_AUDIT,
            on_selection=True,
        ),
        ActionSpec(
            "find",
            "&Find…",
            "view",
            60,
            find,
            "Ctrl+F",
            "Search prospects by name, email or school",
            separator_before=True,
        ),
    ),
    setup=setup,
    openers={"prospect": show_prospect},
    provides={"prospects.show_import": show_import},
)
