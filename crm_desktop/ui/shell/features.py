"""The features the window is built from: one line per feature.

A new screen lands as one folder under ``ui/`` with a ``feature.py`` that
declares it, and one line in :data:`FEATURES`. The window's own menu items
(database, sign out, back up, quit, about) are declared here as :data:`WINDOW`.
"""

from __future__ import annotations

from PySide6.QtGui import QAction

from crm_desktop.domain.roles import Action
from crm_desktop.ui.admin.feature import FEATURE as ADMIN
from crm_desktop.ui.common.registry import ActionSpec, Feature, MenuSpec, PageSpec
from crm_desktop.ui.duplicates.feature import FEATURE as DUPLICATES
from crm_desktop.ui.exports.feature import FEATURE as EXPORTS
from crm_desktop.ui.followups.feature import FEATURE as FOLLOWUPS
from crm_desktop.ui.imports.feature import FEATURE as IMPORTS
from crm_desktop.ui.marketing.feature import FEATURE as MARKETING
from crm_desktop.ui.privacy.feature import FEATURE as PRIVACY
from crm_desktop.ui.prospects.feature import FEATURE as PROSPECTS
from crm_desktop.ui.schools.feature import FEATURE as SCHOOLS
from crm_desktop.ui.shell import database, housekeeping, signing

WINDOW = Feature(
    name="window",
    menus=(
        MenuSpec("file", "&File", 10),
        MenuSpec("view", "&View", 40),
        MenuSpec("help", "&Help", 50),
    ),
    actions=(
        ActionSpec(
            "new_database",
            "&New database…",
            "file",
            10,
            database.new_database,
            tip="Create an empty database file",
        ),
        ActionSpec(
            "open_database",
            "&Open database…",
            "file",
            20,
            database.open_database,
            "Ctrl+O",
            "Open another database file",
        ),
        ActionSpec(
            "load_demo",
            "Load &demo data…",
            "file",
            30,
            housekeeping.load_demo_data,
            tip="Add made-up schools and prospects to try the app",
            separator_before=True,
            permission=Action.MANAGE_SETTINGS,
            edits=True,
        ),
        ActionSpec(
            "sign_out",
            "&Sign out…",
            "file",
            80,
            signing.sign_out,
            tip="Sign out so that someone else can sign in; your open windows close",
        ),
        ActionSpec(
            "back_up",
            "&Back up database…",
            "file",
            90,
            housekeeping.back_up,
            tip="A consistent, checked copy of the database, safe while in use",
            separator_before=True,
            permission=Action.BACKUP,
            edits=True,
        ),
        ActionSpec(
            "quit",
            "&Quit",
            "file",
            200,
            lambda shell: shell.close(),
            "Ctrl+Q",
            separator_before=True,
            menu_role=QAction.MenuRole.QuitRole,
        ),
        ActionSpec(
            "about",
            "&About CRM Desktop",
            "help",
            10,
            housekeeping.show_about,
            menu_role=QAction.MenuRole.AboutRole,
        ),
    ),
    on_start=(
        housekeeping.offer_demo_data,
        housekeeping.finish_unfinished_work,
        housekeeping.daily_backup,
    ),
)

# Tabs and menus follow the declared order numbers; start-up tasks run in this order.
FEATURES: tuple[Feature, ...] = (
    WINDOW,
    PROSPECTS,
    DUPLICATES,
    FOLLOWUPS,
    SCHOOLS,
    EXPORTS,
    IMPORTS,
    PRIVACY,
    MARKETING,
    ADMIN,
)


def pages(features: tuple[Feature, ...] = FEATURES) -> list[PageSpec]:
    """Every declared page, in tab order."""
    return sorted((p for f in features for p in f.pages), key=lambda page: page.order)


def menus(features: tuple[Feature, ...] = FEATURES) -> list[MenuSpec]:
    return sorted((m for f in features for m in f.menus), key=lambda menu: menu.order)


def show_action(page: PageSpec) -> ActionSpec:
    """View > <page>: the menu item (and shortcut) that brings a page to the front."""
    return ActionSpec(f"show_{page.name}", page.show_text, "view", page.order,
                      lambda shell, name=page.name: shell.show_page(name), page.shortcut,
                      page.tip, permission=page.permission)  # fmt: skip


def actions(features: tuple[Feature, ...] = FEATURES) -> list[ActionSpec]:
    """Every declared action, with a View item per page, in declaration order."""
    declared = [a for f in features for a in f.actions]
    return declared + [show_action(page) for page in pages(features)]
