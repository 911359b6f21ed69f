"""The main window: prospects, follow-ups, schools, exports and requests in five tabs.

:class:`ProspectsPage` is the search box, filters, SQL-backed table and
detail pane; :class:`MainWindow` wires the actions (declared in
``actions.py``) to services and dialogs, switches database, loads demo data
in the background and remembers its layout in :class:`QSettings`. The
Marketing menu opens the export wizard, the unsubscribe import, the
suppression list and the legitimate-interest assessments.

Every screen shares one :class:`Context`; File > New/Open swaps ``ctx.db``
and refreshes them all, so the embedded views need no "set database" API.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QActionGroup, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from crm_desktop import APP_NAME, __version__
from crm_desktop.domain.requests import REQUEST_RETENTION_YEARS
from crm_desktop.domain.roles import Action
from crm_desktop.errors import CrmError
from crm_desktop.services import backups, recovery, users
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import requests as request_service
from crm_desktop.services.context import Context
from crm_desktop.services.demo import DEFAULT_PROSPECTS as DEMO_PROSPECTS
from crm_desktop.services.demo import generate_demo
from crm_desktop.ui.admin.audit_dialog import AuditTrailDialog
from crm_desktop.ui.admin.settings_dialog import SettingsDialog
from crm_desktop.ui.admin.users_dialog import ChangePasswordDialog, UsersDialog
from crm_desktop.ui.common import appearance, messages, workers
from crm_desktop.ui.common.read_only import EditingLock, ReadOnlyBanner
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress
from crm_desktop.ui.exports.export_wizard import ExportWizard
from crm_desktop.ui.exports.exports_page import ExportsView
from crm_desktop.ui.followups.followups_page import FollowUpsView
from crm_desktop.ui.marketing.assessments_dialog import AssessmentsDialog
from crm_desktop.ui.marketing.pending_opt_outs import PendingOptOutsBanner
from crm_desktop.ui.marketing.suppression_dialog import SuppressionDialog
from crm_desktop.ui.marketing.unsubscribe_import import UnsubscribeImport
from crm_desktop.ui.privacy import access_pack
from crm_desktop.ui.privacy.request_dialogs import RequestDialog
from crm_desktop.ui.privacy.requests_page import OverdueBadge, RequestsView
from crm_desktop.ui.privacy.retention_page import RetentionDialog
from crm_desktop.ui.privacy.rights_dialogs import EraseDialog, RestrictDialog
from crm_desktop.ui.prospects.history_dialog import HistoryDialog
from crm_desktop.ui.prospects.interests_dialog import InterestsDialog
from crm_desktop.ui.prospects.log_contact_dialog import LogContactDialog
from crm_desktop.ui.prospects.prospect_dialog import ProspectDialog
from crm_desktop.ui.prospects.prospects_page import ProspectsPage
from crm_desktop.ui.schools.schools_page import SchoolsView
from crm_desktop.ui.shell.actions import Actions
from crm_desktop.ui.shell.opening import Stopped, open_and_sign_in

DB_FILTERS = "CRM databases (*.db *.sqlite *.sqlite3);;All files (*)"
STATUS_MS = 8000

# QSettings keys; bump the suffix if the saved layout stops fitting.
GEOMETRY_KEY = "mainWindow/geometry"
STATE_KEY = "mainWindow/state"
TAB_KEY = "mainWindow/tab"
SPLITTER_KEY = "prospects/splitter"
HEADER_KEY = "prospects/header.v1"
EXPORT_FOLDER_KEY = "exports/folder"

PROSPECTS_TAB, FOLLOWUPS_TAB, SCHOOLS_TAB, EXPORTS_TAB = range(4)
REQUESTS_TAB = 4
BACKUP_FILTERS = "CRM Desktop backup (*.db);;All files (*)"


class MainWindow(QMainWindow):
    """The application window over one :class:`Context`.

    ``settings`` defaults to the application's ``QSettings()``; tests pass
    their own file. ``commands`` holds the window's :class:`Actions` (not
    ``actions``, which would hide ``QWidget.actions()``). Slots return the
    dialog or task they start, so callers (and tests) can follow it.

    Signals:
        databaseChanged(str): File > New/Open switched to another database;
            the argument is its display name.
    """

    databaseChanged = Signal(str)

    def __init__(self, ctx: Context, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._signed_out = False
        self._settings = settings if settings is not None else QSettings()
        messages.set_settings(self._settings)  # file dialogs remember their folders here
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)

        self.commands = Actions(self)
        self.commands.build_menus(self.menuBar())
        self.addActions(list(self.commands))

        self.prospects = ProspectsPage(ctx, self.commands, self)
        self.followups = FollowUpsView(ctx, self, settings=self._settings)
        self.schools = SchoolsView(ctx, self)
        self.exports = ExportsView(ctx, self.commands.export_campaign, self)
        self.unsubscribes = UnsubscribeImport(ctx, self)
        self.requests = RequestsView(ctx, self)
        self.overdue = OverdueBadge(ctx, self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        # No mnemonics: Alt+P / Alt+F belong to the menus; the tabs have Ctrl+1..4.
        self.tabs.addTab(self.prospects, "Prospects")
        self.tabs.addTab(self.followups, "Follow-ups")
        self.tabs.addTab(self.schools, "Schools")
        self.tabs.addTab(self.exports, "Exports")
        self.tabs.addTab(self.requests, "Requests")
        self.apply_role()
        self.read_only_banner = ReadOnlyBanner(self)
        # Opt-outs the database could not take yet: shown until saved, retried meanwhile.
        self.pending_opt_outs = PendingOptOutsBanner(ctx, self)
        self.pending_opt_outs.saved.connect(self._pending_opt_outs_saved)
        self.databaseChanged.connect(self.pending_opt_outs.refresh)
        central = QWidget(self)
        central.setObjectName("mainCentral")
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.read_only_banner)
        column.addWidget(self.pending_opt_outs)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        # Disabling the group keeps its actions off whatever the selection says.
        self._editing = QActionGroup(self)
        self._editing.setExclusionPolicy(QActionGroup.ExclusionPolicy.None_)
        for action in self.commands.editing_actions():
            self._editing.addAction(action)
        self._editing_lock = EditingLock(self)

        self._db_label = QLabel(self)
        self._db_label.setObjectName("databaseLabel")
        self._count_label = QLabel(self)
        self._count_label.setObjectName("countLabel")
        self._user_label = QLabel(self)
        self._user_label.setObjectName("userLabel")
        self.statusBar().addWidget(self._db_label, 1)
        self.statusBar().addPermanentWidget(self.overdue)
        self.statusBar().addPermanentWidget(self._count_label)
        self.statusBar().addPermanentWidget(self._user_label)
        file_menu = self.menuBar().findChild(QMenu, "menu_file")
        if file_menu is not None:  # says why Sign out is greyed out in single-user mode
            file_menu.setToolTipsVisible(True)

        self._connect()
        self._show_database_name()
        self._apply_read_only()
        self._update_sign_out()
        self._restore_settings()
        self._update_actions()
        self._update_count()
        self.prospects.focus_search()

    # ------------------------------------------------------------- wiring

    def _connect(self) -> None:
        a = self.commands
        a.new_database.triggered.connect(self.new_database)
        a.open_database.triggered.connect(self.open_database)
        a.load_demo.triggered.connect(self.load_demo_data)
        a.back_up.triggered.connect(self.back_up)
        a.retention_review.triggered.connect(self.retention_review)
        a.audit_trail.triggered.connect(self.show_audit_trail)
        a.manage_users.triggered.connect(self.manage_users)
        a.change_password.triggered.connect(self.change_password)
        a.sign_out.triggered.connect(self.sign_out)
        a.manage_interests.triggered.connect(self.manage_interests)
        a.settings.triggered.connect(self.show_settings)
        a.quit.triggered.connect(self.close)
        a.new_prospect.triggered.connect(self.new_prospect)
        a.edit_prospect.triggered.connect(self.edit_prospect)
        a.delete_prospect.triggered.connect(self.delete_prospect)
        a.log_contact.triggered.connect(self.log_contact)
        a.subject_access_pack.triggered.connect(self.subject_access_pack)
        a.prospect_history.triggered.connect(self.prospect_history)
        a.restrict_prospect.triggered.connect(lambda: self.restrict_prospect(lifting=False))
        a.unrestrict_prospect.triggered.connect(lambda: self.restrict_prospect(lifting=True))
        a.erase_prospect.triggered.connect(self.erase_prospect)
        a.show_prospects.triggered.connect(lambda: self.tabs.setCurrentIndex(PROSPECTS_TAB))
        a.show_followups.triggered.connect(lambda: self.tabs.setCurrentIndex(FOLLOWUPS_TAB))
        a.show_schools.triggered.connect(lambda: self.tabs.setCurrentIndex(SCHOOLS_TAB))
        a.show_exports.triggered.connect(lambda: self.tabs.setCurrentIndex(EXPORTS_TAB))
        a.show_requests.triggered.connect(lambda: self.tabs.setCurrentIndex(REQUESTS_TAB))
        a.new_request.triggered.connect(self.new_request)
        self.requests.requestsChanged.connect(self.overdue.refresh)
        self.requests.statusMessage.connect(self._status)
        self.requests.prospectChanged.connect(self._rights_changed)
        self.overdue.clicked.connect(a.show_requests.trigger)
        a.export_campaign.triggered.connect(self.export_campaign)
        a.import_unsubscribes.triggered.connect(self.import_unsubscribes)
        a.suppression_list.triggered.connect(self.show_suppression_list)
        a.li_assessments.triggered.connect(self.show_assessments)
        a.find.triggered.connect(self.find)
        a.about.triggered.connect(self.show_about)
        a.appearance[appearance.current_scheme()].setChecked(True)
        for scheme, action in a.appearance.items():
            action.triggered.connect(lambda _checked=False, s=scheme: self.set_appearance(s))
        appearance.notifier().changed.connect(self._palette_changed)

        self.tabs.currentChanged.connect(self._tab_changed)
        self.prospects.selectionChanged.connect(self._update_actions)
        self.prospects.activated.connect(self.edit_prospect)
        self.prospects.countChanged.connect(self._update_count)
        self.followups.prospectActivated.connect(self.show_prospect)
        self.followups.followUpsChanged.connect(self.prospects.refresh_rows)
        self.schools.schoolsChanged.connect(self._schools_changed)
        self.unsubscribes.imported.connect(self._unsubscribes_imported)

    def _tab_changed(self, index: int) -> None:
        # A message about the tab we left is stale now, and the prospect count
        # belongs to the Prospects tab only.
        self.statusBar().clearMessage()
        self._count_label.setVisible(index == PROSPECTS_TAB)
        self._refresh_visible_view()
        self._update_actions()

    def _refresh_visible_view(self) -> None:
        """Refresh the Follow-ups, Schools or Exports tab if it is the one on show.

        Hidden tabs are refreshed when they are shown instead: on a large
        database each of them costs a query, and nobody is looking.
        """
        index = self.tabs.currentIndex()
        if index == FOLLOWUPS_TAB:
            self.followups.refresh()
        elif index == SCHOOLS_TAB:
            self.schools.refresh()
        elif index == EXPORTS_TAB:
            self.exports.refresh()
        elif index == REQUESTS_TAB:
            self.requests.refresh()

    def _update_actions(self) -> None:
        on_prospects = self.tabs.currentIndex() == PROSPECTS_TAB
        selected = on_prospects and self.prospects.selected_id() is not None
        for action in self.commands.selection_actions():
            action.setEnabled(selected)
        if selected:
            view = self.prospects.selected_prospect()
            restricted = view is not None and view.restricted_at is not None
            erased = view is not None and view.erased_at is not None
            self.commands.restrict_prospect.setEnabled(not restricted and not erased)
            self.commands.unrestrict_prospect.setEnabled(restricted)
            self.commands.erase_prospect.setEnabled(not erased)

    def _update_count(self) -> None:
        shown = self.prospects.model.rowCount()
        if self.prospects.is_filtered():
            total = prospect_service.count_prospects(self.ctx)
            text = f"{shown:,} of {total:,} prospects"
        else:
            text = f"{shown:,} prospect" + ("" if shown == 1 else "s")
        self._count_label.setText(text)

    def _show_database_name(self) -> None:
        """The window title and status bar say which database, and who is signed in."""
        name = self.ctx.db.display_name
        self._db_label.setText(f"Database: {name}")
        self._db_label.setToolTip(name)
        title = f"{Path(name).name} — {APP_NAME}" if self.ctx.db.path else APP_NAME
        if self._signed_out:
            self.setWindowTitle(f"{title} — signed out")
            self._user_label.setText("Signed out")
            self._user_label.setToolTip("")
            return
        try:
            person = users.display_name(self.ctx)
        except CrmError:  # the database went away; the user name still says who
            person = self.ctx.user
        role = self.ctx.role.label
        self.setWindowTitle(f"{title} — {person} ({role.lower()})")
        self._user_label.setText(f"{person} · {role}")
        self._user_label.setToolTip(f"Signed in as {self.ctx.user} ({role.lower()})")

    def set_appearance(self, scheme: appearance.Scheme) -> None:
        """View > Appearance: System, Light or Dark, remembered for next time."""
        self.commands.appearance[scheme].setChecked(True)
        self._settings.setValue(appearance.SCHEME_KEY, scheme.value)
        appearance.apply_scheme(QApplication.instance(), scheme)

    def _palette_changed(self) -> None:
        """Panes that wrote colours into their HTML draw again in the new ones."""
        self.prospects.refresh_rows()
        self._refresh_visible_view()

    def _schools_changed(self) -> None:
        self.prospects.reload_filters()
        self.prospects.refresh_rows()

    def _status(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MS)

    # ----------------------------------------------------------- prospects

    def new_prospect(self) -> ProspectDialog:
        dialog = ProspectDialog(self.ctx, parent=self)
        dialog.prospectSaved.connect(self._prospect_saved)
        self._open(dialog)
        return dialog

    def edit_prospect(self) -> ProspectDialog | None:
        prospect = self._selected_prospect()
        if prospect is None:
            return None
        dialog = ProspectDialog(self.ctx, prospect, parent=self)
        dialog.prospectSaved.connect(self._prospect_saved)
        self._open(dialog)
        return dialog

    def _prospect_saved(self, saved) -> None:
        if self.prospects.filters_lack(saved.record):
            self.prospects.reload_filters()
        self.prospects.reload(select_id=saved.record.id)
        self._refresh_visible_view()
        if saved.warnings:
            self.statusBar().showMessage(" ".join(saved.warnings), 4 * STATUS_MS)
        else:
            self._status(f"Saved {saved.record.full_name}.")

    def restrict_prospect(self, *, lifting: bool) -> RestrictDialog | None:
        prospect = self._selected_prospect()
        if prospect is None:
            return None
        dialog = RestrictDialog(self.ctx, prospect, lifting=lifting, parent=self)
        dialog.changed.connect(self._rights_changed)
        return self._open(dialog)

    def erase_prospect(self) -> EraseDialog | None:
        prospect = self._selected_prospect()
        if prospect is None:
            return None
        dialog = EraseDialog(self.ctx, prospect, self)
        dialog.erased.connect(self._rights_changed)
        dialog.erased.connect(
            lambda pid: self._status(
                f"Erased {prospect.full_name} (prospect #{pid}): anonymised and their "
                "addresses suppressed."
            )
        )
        return self._open(dialog)

    def _rights_changed(self, prospect_id: int) -> None:
        self.prospects.reload(select_id=prospect_id)
        self._refresh_visible_view()
        self._update_actions()

    def delete_prospect(self) -> bool:
        prospect = self._selected_prospect()
        if prospect is None:
            return False
        question = (
            f"Delete {prospect.full_name} and all their correspondence?\n\n"
            "Their details are also blanked in the audit trail. Their addresses are not "
            "suppressed, so they can be added again: to remove a person for good, use "
            "Erase person instead.\n\nThis cannot be undone."
        )
        if not messages.ask(self, "Delete prospect", question):
            return False
        try:
            prospect_service.delete_prospect(self.ctx, prospect.id)
        except CrmError as exc:
            messages.show_error(self, exc, "Could not delete the prospect")
            return False
        self.prospects.reload()
        self._refresh_visible_view()
        self._status(f"Deleted {prospect.full_name}.")
        return True

    def log_contact(self) -> LogContactDialog | None:
        prospect = self._selected_prospect()
        if prospect is None:
            return None
        dialog = LogContactDialog(self.ctx, prospect, parent=self)
        dialog.contactLogged.connect(self._contact_logged)
        self._open(dialog)
        return dialog

    def prospect_history(self) -> HistoryDialog | None:
        prospect = self._selected_prospect()
        return None if prospect is None else self._open(HistoryDialog(self.ctx, prospect, self))

    def subject_access_pack(self) -> BackgroundTask | None:
        """Prospect > Subject access pack: a PDF (or .json) file, written in the background."""
        prospect = self.prospects.selected_prospect()
        if prospect is None:
            return None
        task = access_pack.start_access_pack(self, self.ctx, prospect.id, name=prospect.full_name)
        if task is None:
            return None
        task.succeeded.connect(lambda path: self._status(f"Subject access pack written to {path}."))
        task.cancelled.connect(lambda: self._status("Cancelled; no pack was written."))
        return task

    def _contact_logged(self, _contact) -> None:
        self.prospects.refresh_rows()
        self._refresh_visible_view()
        self._status("Contact logged.")

    def show_prospect(self, prospect_id: int) -> bool:
        """Bring ``prospect_id`` into view on the Prospects tab (clearing filters if needed)."""
        self.tabs.setCurrentIndex(PROSPECTS_TAB)
        return self.prospects.select_prospect(prospect_id, clear_filters=True)

    def _selected_prospect(self):
        if self.tabs.currentIndex() != PROSPECTS_TAB:
            return None
        return self.prospects.selected_prospect()

    def find(self) -> None:
        self.tabs.setCurrentIndex(PROSPECTS_TAB)
        self.prospects.focus_search()

    def _open(self, dialog):
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # ------------------------------------------------------------ database

    def new_database(self) -> bool:
        path = messages.save_file(self, "New database", DB_FILTERS)
        if not path:
            return False
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".db")
        if target.exists() and target.stat().st_size:
            messages.show_error(
                self,
                f"{target} already exists. Use File > Open database… to open it.",
                "Could not create the database",
            )
            return False
        if not self.switch_database(target, create=True):
            return False
        self.offer_demo_data()
        return True

    def open_database(self) -> bool:
        path = messages.open_file(self, "Open database", DB_FILTERS)
        return bool(path) and self.switch_database(path)

    def switch_database(self, spec: str | Path, *, create: bool = False) -> bool:
        """Open ``spec`` and show it everywhere; the current one stays on error.

        A database that is not there is refused unless ``create`` (File > New).
        """
        try:
            acting = open_and_sign_in(self, spec, create=create)
        except CrmError as exc:
            messages.show_error(self, exc, "Could not open the database")
            return False
        if isinstance(acting, Stopped):  # no password given, or signing in cancelled: stay
            return False
        database = acting.db
        # Views share this context object: switch it in place.
        self.ctx.user, self.ctx.role = acting.user, acting.role
        self.apply_role()
        previous, self.ctx.db = self.ctx.db, database
        if previous is not database:
            previous.dispose()
        self._show_database_name()
        self._apply_read_only()
        self._update_sign_out()
        self.refresh_all()
        self.databaseChanged.emit(database.display_name)
        self._status(f"Opened {database.display_name}.")
        return True

    def _apply_read_only(self) -> None:
        """A read-only database: say so above the tabs and switch every editing action off."""
        read_only = self.ctx.db.read_only
        self.read_only_banner.show_for(read_only, self.ctx.db.display_name)
        self._editing.setEnabled(not read_only)
        self._editing_lock.set_items(self._editing_controls())
        self._editing_lock.set_locked(read_only)

    def _editing_controls(self) -> list:
        """The tabs' own buttons and actions that change the database."""
        marketing = self.prospects.detail.marketing
        names = {
            self.followups: ("mark_done_action", "mark_done_button"),
            self.schools: ("add_action", "edit_action", "delete_action",
                           "add_button", "edit_button", "delete_button"),
            self.requests: ("new_button", "verify_button", "start_button", "edit_button",
                            "extend_button", "close_button", "pack_button", "restrict_button",
                            "erase_button"),
            marketing: ("opt_out_action", "object_button", "consent_button", "basis_button",
                        "subscriber", "personalisation"),
        }  # fmt: skip
        found = [getattr(view, name, None) for view, attrs in names.items() for name in attrs]
        return [item for item in found if item is not None]

    def apply_role(self) -> None:
        """Hide what the signed-in user's role may not do (the services refuse it too)."""
        self.commands.apply_role(self.ctx.may)
        self.tabs.setTabVisible(EXPORTS_TAB, self.ctx.may(Action.EXPORT))
        self.tabs.setTabVisible(REQUESTS_TAB, self.ctx.may(Action.DATA_SUBJECT_REQUESTS))
        self.overdue.refresh()
        self.prospects.detail.marketing.apply_role()

    def _pending_opt_outs_saved(self, sentences: list[str]) -> None:
        self.prospects.refresh_rows()
        self.prospects.detail.marketing.refresh()
        self._status(" ".join(sentences))

    def refresh_all(self) -> None:
        self.prospects.reload_filters()
        self.prospects.reload()
        self._refresh_visible_view()
        self._update_count()
        self.overdue.refresh()

    def offer_demo_data(self) -> BackgroundTask | None:
        """On an empty database, offer to fill it with demo data."""
        if prospect_service.has_prospects(self.ctx):
            return None
        question = (
            "This database has no prospects yet.\n\n"
            f"Load {DEMO_PROSPECTS} made-up prospects, with schools and correspondence, "
            "to try the app? You can delete them later or start a new database."
        )
        if not messages.ask(self, "Load demo data?", question):
            return None
        return self._start_demo()

    def load_demo_data(self) -> BackgroundTask | None:
        question = (
            f"Add {DEMO_PROSPECTS} made-up prospects, with schools and correspondence, "
            f"to {self.ctx.db.display_name}?"
        )
        if not messages.ask(self, "Load demo data", question):
            return None
        return self._start_demo()

    def retention_review(self) -> RetentionDialog:
        dialog = RetentionDialog(self.ctx, self)
        dialog.changed.connect(self.refresh_all)
        return self._open(dialog)

    def manage_users(self) -> UsersDialog | None:
        try:
            dialog = UsersDialog(self.ctx, self)
        except CrmError as exc:
            messages.show_error(self, exc, "Cannot show the users")
            return None
        # The first added user turns on signing in (and with it, Sign out).
        dialog.usersChanged.connect(self._update_sign_out)
        dialog.usersChanged.connect(self._show_database_name)
        return self._open(dialog)

    def _update_sign_out(self) -> None:
        """Sign out only means something once people sign in (team mode)."""
        try:
            team = users.sign_in_required(self.ctx.db)
        except CrmError:
            team = False
        action = self.commands.sign_out
        action.setEnabled(team)
        tip = (
            "Sign out so that someone else can sign in; your open windows close"
            if team
            else "Only you use this database, so nobody signs in or out. "
            "Add a user (File > Users) to share it."
        )
        action.setToolTip(tip)
        action.setStatusTip(tip)

    def sign_out(self) -> bool:
        """File > Sign out: close the user's windows, hide their data, ask who signs in.

        Signing in again (as anyone) shows what that user's role may see.
        Cancelling the sign-in closes the window, as cancelling it at start
        does, so nobody's data is left on screen. Returns True when someone
        signed in.
        """
        if not users.sign_in_required(self.ctx.db):
            return False
        if workers.active_tasks():
            if not messages.ask(
                self, "Sign out", "A task is still running. Cancel it and sign out?"
            ):
                return False
            workers.cancel_all_and_wait()
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                dialog.reject()
        # A read-only or unreachable database cannot record it; sign out all the same.
        with contextlib.suppress(CrmError):
            users.sign_out(self.ctx)
        self._signed_out = True
        self.prospects.clear_filters()
        self.tabs.hide()
        self.menuBar().setEnabled(False)
        self.statusBar().clearMessage()
        self._show_database_name()
        try:
            acting = messages.acting_context(self, self.ctx.db)
        except CrmError as exc:
            messages.show_error(self, exc, "Could not sign in")
            acting = None
        if acting is None:
            self.close()
            return False
        self.ctx.user, self.ctx.role = acting.user, acting.role
        self._signed_out = False
        self.apply_role()
        self.menuBar().setEnabled(True)
        self.tabs.setCurrentIndex(PROSPECTS_TAB)
        self.tabs.show()
        self._show_database_name()
        self._update_sign_out()
        self.refresh_all()
        self._update_actions()
        self.prospects.focus_search()
        self._status(f"Signed in as {self.ctx.user}.")
        return True

    def change_password(self) -> ChangePasswordDialog | None:
        try:
            dialog = ChangePasswordDialog(self.ctx, self)
        except CrmError as exc:
            messages.show_error(self, exc, "Cannot change the password")
            return None
        dialog.accepted.connect(lambda: self._status("Your password was changed."))
        return self._open(dialog)

    def back_up(self) -> BackgroundTask | None:
        """File > Back up: a checked copy, made in the background (Cancel leaves none)."""
        chosen = messages.save_file(self, "Back up database", BACKUP_FILTERS)
        if not chosen:
            return None
        target = Path(chosen)
        if target.exists():
            messages.show_error(
                self, f"{target} already exists; choose a new name.", "Backup not made"
            )
            return None
        ctx = self.ctx

        def work(progress, should_cancel):
            return backups.back_up(ctx, target, progress, should_cancel)

        task = run_with_progress(self, "Back up database", "Copying and checking…", work)
        task.succeeded.connect(lambda path: self._status(f"Backed up to {path} (checked)."))
        task.failed.connect(lambda text: messages.show_error(self, text, "Backup not made"))
        task.cancelled.connect(lambda: self._status("Backup cancelled; no file was written."))
        return task

    def daily_backup(self) -> BackgroundTask | None:
        """On the first start of a day, copy the local database (7 daily, 4 weekly kept)."""
        if self.ctx.db.path is None or self.ctx.db.read_only:
            return None  # nothing changes in a read-only database
        ctx = self.ctx
        task = run_with_progress(
            self, "Daily backup", "Making today's backup…",
            lambda progress, should_cancel: backups.daily_backup(ctx),
        )  # fmt: skip
        task.succeeded.connect(
            lambda result: result.made and self._status(f"Daily backup made: {result.made[0]}")
        )
        task.failed.connect(
            lambda text: messages.show_error(self, text, "The daily backup could not be made")
        )
        return task

    def forget_expired_requests(self) -> BackgroundTask | None:
        """On start, blank who asked on requests closed longer ago than they are kept.

        Only for those who handle requests, and never on a read-only database.
        """
        if self.ctx.db.read_only or not self.ctx.may(Action.DATA_SUBJECT_REQUESTS):
            return None
        ctx = self.ctx
        task = run_with_progress(
            self, "Request register", "Forgetting who asked on old requests…",
            lambda progress, should_cancel: request_service.forget_expired(ctx),
        )  # fmt: skip
        task.succeeded.connect(self._expired_requests_forgotten)
        task.failed.connect(
            lambda text: messages.show_error(self, text, "Old requests could not be tidied")
        )
        return task

    def finish_unfinished_work(self) -> BackgroundTask | None:
        """On start, finish what a killed or failed run left (see services.recovery)."""
        if self.ctx.db.read_only:
            return None
        ctx = self.ctx
        task = run_with_progress(
            self, "Finishing earlier work", "Finishing work an earlier run left unfinished…",
            lambda progress, should_cancel: recovery.recover(ctx),
        )  # fmt: skip
        task.succeeded.connect(lambda done: done and self._status(" ".join(done)))
        task.failed.connect(
            lambda text: messages.show_error(self, text, "Earlier work could not be finished")
        )
        return task

    def _expired_requests_forgotten(self, count: int) -> None:
        if count:
            self.requests.refresh()
            self._status(
                f"Forgot who asked on {count:,} request{'' if count == 1 else 's'} "
                f"closed more than {REQUEST_RETENTION_YEARS} years ago."
            )

    def _start_demo(self) -> BackgroundTask:
        ctx = self.ctx

        def work(progress, should_cancel):
            return generate_demo(
                ctx, DEMO_PROSPECTS, progress=progress, should_cancel=should_cancel
            )

        task = run_with_progress(self, "Load demo data", "Creating demo prospects…", work)
        task.succeeded.connect(self._demo_loaded)
        task.failed.connect(lambda text: messages.show_error(self, text, "Demo data not loaded"))
        task.cancelled.connect(lambda: self._status("Demo data cancelled; nothing was added."))
        return task

    def _demo_loaded(self, result) -> None:
        self.refresh_all()
        self._status(
            f"Added {result.prospects:,} demo prospects at {result.schools:,} schools "
            f"with {result.contacts:,} contacts."
        )

    # ----------------------------------------------------------- marketing

    def export_campaign(self) -> ExportWizard:
        folder = self._settings.value(EXPORT_FOLDER_KEY, "", type=str)
        wizard = ExportWizard(
            self.ctx, self, folder=folder if folder and Path(folder).is_dir() else None
        )
        wizard.exported.connect(self._exported)
        self._open(wizard)
        return wizard

    def _exported(self, record) -> None:
        self._settings.setValue(EXPORT_FOLDER_KEY, str(Path(record.file_name).parent))
        self.exports.refresh(select_id=record.id)
        self._status(
            f"Exported {record.included:,} of {record.included + record.excluded:,} "
            f"to {Path(record.file_name).name}."
        )

    def import_unsubscribes(self) -> BackgroundTask | None:
        return self.unsubscribes.start()

    def _unsubscribes_imported(self, report) -> None:
        # Opt-outs change what the detail pane and the marketing columns say.
        self.prospects.refresh_rows()
        self._refresh_visible_view()
        self._status(
            f"Unsubscribes imported from {report.file}: {report.matched:,} opted out, "
            f"{report.new:,} added to the suppression list."
        )

    def show_suppression_list(self) -> SuppressionDialog:
        dialog = SuppressionDialog(self.ctx, self)
        dialog.suppressionChanged.connect(self._marketing_changed)
        self._open(dialog)
        return dialog

    def show_assessments(self) -> AssessmentsDialog:
        dialog = AssessmentsDialog(self.ctx, self)
        dialog.assessmentsChanged.connect(self._marketing_changed)
        self._open(dialog)
        return dialog

    def new_request(self) -> RequestDialog:
        """Record a data-subject request, for the selected prospect if there is one."""
        return self.requests.new_request(self._selected_prospect())

    def _marketing_changed(self, *_args) -> None:
        """Suppressions or assessments changed: what the detail pane says may have too."""
        self.prospects.refresh_rows()

    # --------------------------------------------------------------- other

    def show_settings(self) -> SettingsDialog:
        """File > Settings (admins): the controller's details and your own name."""
        dialog = SettingsDialog(self.ctx, self)
        dialog.settingsSaved.connect(lambda: self._status("Settings saved."))
        return self._open(dialog)

    def show_audit_trail(self) -> AuditTrailDialog:
        """File > Audit trail (managers, admins): verify it; export or import its key."""
        return self._open(AuditTrailDialog(self.ctx, self))

    def manage_interests(self) -> InterestsDialog:
        dialog = InterestsDialog(self.ctx, self)
        dialog.interestsChanged.connect(self._interests_changed)
        self._open(dialog)
        return dialog

    def _interests_changed(self) -> None:
        self.prospects.reload_filters()
        self.prospects.refresh_rows()

    def show_about(self) -> None:
        messages.inform(
            self,
            f"About {APP_NAME}",
            f"{APP_NAME} {__version__}\n\n"
            "A lightweight marketing CRM for selling to schools: prospects, "
            "correspondence and follow-ups.\n\n"
            f"Database: {self.ctx.db.display_name}",
        )

    # ------------------------------------------------------------ settings

    def _restore_settings(self) -> None:
        s = self._settings
        geometry = s.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = s.value(STATE_KEY)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        self.prospects.restore_state(s.value(SPLITTER_KEY), s.value(HEADER_KEY), self.width())
        tab = s.value(TAB_KEY, PROSPECTS_TAB, type=int)
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

    def save_settings(self) -> None:
        s = self._settings
        s.setValue(GEOMETRY_KEY, self.saveGeometry())
        s.setValue(STATE_KEY, self.saveState())
        splitter, header = self.prospects.save_state()
        s.setValue(SPLITTER_KEY, splitter)
        s.setValue(HEADER_KEY, header)
        s.setValue(TAB_KEY, self.tabs.currentIndex())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        # A worker thread must not outlive the window (or write to a
        # database we are about to close): cancel it and let it roll back.
        if workers.active_tasks():
            workers.cancel_all_and_wait()
        self.pending_opt_outs.wait()
        self.save_settings()
        super().closeEvent(event)
