"""Every menu item and shortcut of the main window, declared in one place.

The table below is the single source of truth for an action's text,
shortcut, tooltip and menu position; the main window only connects
``triggered`` to its slots. Keeping this out of the window is what stops a
main window from growing into the 2,000-line file that Picard, Anki and
napari each drifted into.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget

from crm_desktop.domain.roles import Action
from crm_desktop.ui.common.appearance import Scheme


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    menu: str
    shortcut: str = ""
    tip: str = ""
    separator_before: bool = False


MENUS: tuple[tuple[str, str], ...] = (
    ("file", "&File"),
    ("prospect", "&Prospect"),
    ("marketing", "&Marketing"),
    ("view", "&View"),
    ("help", "&Help"),
)

SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("new_database", "&New database…", "file", tip="Create an empty database file"),
    ActionSpec("open_database", "&Open database…", "file", "Ctrl+O", "Open another database file"),
    ActionSpec(
        "load_demo",
        "Load &demo data…",
        "file",
        tip="Add made-up schools and prospects to try the app",
        separator_before=True,
    ),
    ActionSpec("manage_interests", "Manage &interests…", "file", tip="The services we sell"),
    ActionSpec(
        "settings",
        "&Settings…",
        "file",
        tip="The data controller's details that access packs name, and your own name",
    ),
    ActionSpec(
        "manage_users",
        "&Users…",
        "file",
        tip="Who may use this database, and their roles",
        separator_before=True,
    ),
    ActionSpec("change_password", "&Change my password…", "file"),
    ActionSpec(
        "sign_out",
        "&Sign out…",
        "file",
        tip="Sign out so that someone else can sign in; your open windows close",
    ),
    ActionSpec(
        "back_up",
        "&Back up database…",
        "file",
        tip="A consistent, checked copy of the database, safe while in use",
        separator_before=True,
    ),
    ActionSpec(
        "retention_review",
        "&Retention review…",
        "file",
        tip="People we have not contacted for a long time: keep them or anonymise them",
    ),
    ActionSpec(
        "audit_trail",
        "&Audit trail…",
        "file",
        tip="Check that no audit entry was altered or removed; move the audit key",
    ),
    ActionSpec("quit", "&Quit", "file", "Ctrl+Q", separator_before=True),
    ActionSpec("new_prospect", "&New prospect…", "prospect", "Ctrl+N", "Add a prospect"),
    ActionSpec("edit_prospect", "&Edit prospect…", "prospect", "F2", "Edit the selected prospect"),
    ActionSpec(
        "delete_prospect", "&Delete prospect…", "prospect", "Del", "Delete the selected prospect"
    ),
    ActionSpec(
        "log_contact",
        "&Log contact…",
        "prospect",
        "Ctrl+L",
        "Record a call, email or meeting with the selected prospect",
        separator_before=True,
    ),
    ActionSpec(
        "subject_access_pack",
        "Subject &access pack…",
        "prospect",
        tip="Everything we hold on the selected person, as a PDF or JSON file to send them",
        separator_before=True,
    ),
    ActionSpec(
        "prospect_history",
        "&History…",
        "prospect",
        tip="Everything that happened to the selected person",
    ),
    ActionSpec(
        "new_request",
        "Record data-subject &request…",
        "prospect",
        tip="Log a request to see, correct, erase or move data, restrict it or object "
        "to marketing; the deadline is set from the day it arrived",
    ),
    ActionSpec(
        "restrict_prospect",
        "Re&strict processing…",
        "prospect",
        tip="Keep the selected person's data but stop its use until the restriction is lifted",
    ),
    ActionSpec("unrestrict_prospect", "&Lift restriction…", "prospect"),
    ActionSpec(
        "erase_prospect",
        "E&rase person…",
        "prospect",
        tip="Anonymise the selected person for good; their addresses stay suppressed",
    ),
    ActionSpec(
        "export_campaign",
        "&Export campaign list…",
        "marketing",
        "Ctrl+E",
        "Write an email, SMS, phone or online-audience list for the email or ads tool, "
        "leaving out everyone who may not be contacted",
    ),
    ActionSpec(
        "import_unsubscribes",
        "&Import unsubscribes from email tool…",
        "marketing",
        tip="Opt out everyone in the email tool's unsubscribe or bounce file",
    ),
    ActionSpec(
        "suppression_list",
        "&Suppression list…",
        "marketing",
        tip="Addresses that must never be marketed to",
        separator_before=True,
    ),
    ActionSpec(
        "li_assessments",
        "&Legitimate-interest assessments…",
        "marketing",
        tip="The written assessments that legitimate-interest marketing relies on",
    ),
    ActionSpec("show_prospects", "&Prospects", "view", "Ctrl+1"),
    ActionSpec("show_followups", "&Follow-ups", "view", "Ctrl+2"),
    ActionSpec("show_schools", "&Schools", "view", "Ctrl+3"),
    ActionSpec("show_exports", "&Exports", "view", "Ctrl+4", "Campaign lists exported so far"),
    ActionSpec("show_requests", "&Requests", "view", "Ctrl+5", "Data-subject requests by deadline"),
    ActionSpec(
        "find", "&Find…", "view", "Ctrl+F", "Search prospects by name, email or school", True
    ),
    ActionSpec("about", "&About CRM Desktop", "help"),
)

# The actions that act on the selected prospect (enabled only when there is one).
SELECTION_ACTIONS = (
    "edit_prospect",
    "delete_prospect",
    "log_contact",
    "subject_access_pack",
    "prospect_history",
    "restrict_prospect",
    "unrestrict_prospect",
    "erase_prospect",
)

# The actions that change the database (or record something in it, as an
# export or an access pack does): all disabled while it is open read-only.
# The suppression list and the assessments stay open for looking things up;
# the services refuse their changes.
EDITING_ACTIONS = (
    "load_demo",
    "manage_interests",
    "manage_users",
    "change_password",
    "back_up",
    "retention_review",
    "new_prospect",
    "edit_prospect",
    "delete_prospect",
    "log_contact",
    "subject_access_pack",
    "new_request",
    "restrict_prospect",
    "unrestrict_prospect",
    "erase_prospect",
    "export_campaign",
    "import_unsubscribes",
)


# What a role must be allowed to see an action at all (others need only to
# be signed in). The services refuse anyway; this keeps the GUI honest.
REQUIRES: dict[str, Action] = {
    "load_demo": Action.MANAGE_SETTINGS,
    "back_up": Action.BACKUP,
    "retention_review": Action.RETENTION_REVIEW,
    "audit_trail": Action.VIEW_AUDIT,
    "manage_users": Action.MANAGE_USERS,
    "manage_interests": Action.MANAGE_SETTINGS,
    "settings": Action.MANAGE_SETTINGS,
    "new_prospect": Action.EDIT_RECORDS,
    "edit_prospect": Action.EDIT_RECORDS,
    "delete_prospect": Action.EDIT_RECORDS,
    "log_contact": Action.LOG_CONTACT,
    "subject_access_pack": Action.DATA_SUBJECT_REQUESTS,
    "prospect_history": Action.VIEW_AUDIT,
    "new_request": Action.DATA_SUBJECT_REQUESTS,
    "restrict_prospect": Action.RESTRICT,
    "unrestrict_prospect": Action.RESTRICT,
    "erase_prospect": Action.ERASE,
    "show_requests": Action.DATA_SUBJECT_REQUESTS,
    "export_campaign": Action.EXPORT,
    "show_exports": Action.EXPORT,
    "import_unsubscribes": Action.SYNC_EMAIL_TOOL,
    "suppression_list": Action.MANAGE_SUPPRESSION,
    "li_assessments": Action.MANAGE_CONSENT,
}


class Actions:
    """The window's QActions, one attribute per :data:`SPECS` entry."""

    new_database: QAction
    open_database: QAction
    load_demo: QAction
    manage_interests: QAction
    settings: QAction
    back_up: QAction
    retention_review: QAction
    audit_trail: QAction
    manage_users: QAction
    change_password: QAction
    sign_out: QAction
    quit: QAction
    new_prospect: QAction
    edit_prospect: QAction
    delete_prospect: QAction
    log_contact: QAction
    subject_access_pack: QAction
    new_request: QAction
    restrict_prospect: QAction
    unrestrict_prospect: QAction
    erase_prospect: QAction
    export_campaign: QAction
    import_unsubscribes: QAction
    suppression_list: QAction
    li_assessments: QAction
    show_prospects: QAction
    show_followups: QAction
    show_schools: QAction
    show_exports: QAction
    show_requests: QAction
    find: QAction
    about: QAction

    def __init__(self, parent: QWidget):
        self._by_name: dict[str, QAction] = {}
        self._menus: dict = {}
        for spec in SPECS:
            action = QAction(spec.text, parent)
            action.setObjectName(f"action_{spec.name}")
            if spec.shortcut:
                action.setShortcut(QKeySequence(spec.shortcut))
            if spec.tip:
                action.setStatusTip(spec.tip)
                action.setToolTip(_tooltip(spec))
            if spec.name == "quit":
                action.setMenuRole(QAction.MenuRole.QuitRole)
            elif spec.name == "about":
                action.setMenuRole(QAction.MenuRole.AboutRole)
            self._by_name[spec.name] = action
            setattr(self, spec.name, action)
        # View > Appearance: one of System, Light, Dark (checkable, exclusive).
        self.appearance_group = QActionGroup(parent)
        self.appearance_group.setExclusive(True)
        self.appearance: dict[Scheme, QAction] = {}
        for scheme in Scheme:
            action = QAction(scheme.label, self.appearance_group)
            action.setObjectName(f"action_appearance_{scheme.value}")
            action.setCheckable(True)
            action.setData(scheme.value)
            action.setStatusTip(
                "Follow the desktop's light or dark setting"
                if scheme is Scheme.SYSTEM
                else f"Always use {scheme.value} colours"
            )
            self.appearance[scheme] = action

    def __iter__(self):
        return iter(self._by_name.values())

    def get(self, name: str) -> QAction:
        return self._by_name[name]

    def editing_actions(self) -> list[QAction]:
        return [self._by_name[name] for name in EDITING_ACTIONS]

    def selection_actions(self) -> list[QAction]:
        return [self._by_name[name] for name in SELECTION_ACTIONS]

    def apply_role(self, may: Callable[[Action], bool]) -> None:
        """Show only what the signed-in user's role may do; hide emptied menus."""
        for name, action in self._by_name.items():
            needed = REQUIRES.get(name)
            action.setVisible(needed is None or may(needed))
        for menu in self._menus.values():
            menu.menuAction().setVisible(
                any(a.isVisible() for a in menu.actions() if not a.isSeparator())
            )

    def build_menus(self, menubar: QMenuBar) -> None:
        menus = {key: menubar.addMenu(title) for key, title in MENUS}
        self._menus = menus
        for key, menu in menus.items():
            menu.setObjectName(f"menu_{key}")
        for spec in SPECS:
            menu = menus[spec.menu]
            if spec.separator_before:
                menu.addSeparator()
            menu.addAction(self._by_name[spec.name])
        menus["view"].addSeparator()
        appearance = menus["view"].addMenu("&Appearance")
        appearance.setObjectName("menu_appearance")
        appearance.addActions(list(self.appearance.values()))


def _tooltip(spec: ActionSpec) -> str:
    if not spec.shortcut:
        return spec.tip
    key = QKeySequence(spec.shortcut).toString(QKeySequence.SequenceFormat.NativeText)
    return f"{spec.tip} ({key})"
