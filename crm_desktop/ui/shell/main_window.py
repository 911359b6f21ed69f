"""The main window: tabs, menus and role rules built from the features' declarations.

Features (listed in :mod:`features`) reach it only through
:class:`~crm_desktop.ui.common.registry.Shell`; every
:class:`~crm_desktop.ui.common.changes.Change` on its bus goes to the pages
that care. Pages share one :class:`Context`; File > New/Open swaps ``ctx.db``
in place (:mod:`database`), so pages need no "set database" API.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from crm_desktop import APP_NAME
from crm_desktop.services.context import Context
from crm_desktop.ui.common import appearance, messages, workers
from crm_desktop.ui.common.changes import EVERYTHING, Change, ChangeBus, Kind
from crm_desktop.ui.common.read_only import EditingLock, ReadOnlyBanner
from crm_desktop.ui.common.registry import STATUS_MS, Feature, PageSpec, merge
from crm_desktop.ui.shell import database, features, layout, signing
from crm_desktop.ui.shell.actions import Actions

IDENTITY = frozenset({Kind.USERS, Kind.SIGN_IN, Kind.DATABASE})  # what the title bar says
FIRST_PAINT_WAIT_MS = 2000  # start-up tasks wait this long at most for the first paint


class MainWindow(QMainWindow):
    """The application window over one :class:`Context`.

    ``settings`` defaults to the application's ``QSettings()``; tests pass
    their own file. ``commands`` holds the window's :class:`Actions` (not
    ``actions``, which would hide ``QWidget.actions()``). A page or part is
    ``window.<name>`` (``window.prospects``); ``window.<action>()`` runs that
    action's handler and returns the dialog or task it started, so callers
    (and tests) can follow it.

    Signals:
        databaseChanged(str): File > New/Open switched to another database;
            the argument is its display name.
        pageShown(str): the page brought to the front (its name).
    """

    databaseChanged = Signal(str)
    pageShown = Signal(str)

    def __init__(self, ctx: Context, settings: QSettings | None = None, parent=None,
                 feature_list: tuple[Feature, ...] = features.FEATURES):  # fmt: skip
        super().__init__(parent)
        self.ctx = ctx
        self.signed_out = False
        self.settings = settings if settings is not None else QSettings()
        messages.set_settings(self.settings)  # file dialogs remember their folders here
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.bus = ChangeBus(self)
        self.bus.changed.connect(self._dispatch)
        self._features = feature_list
        self._parts: dict[str, Any] = {}
        self._banners: list[QWidget] = []
        self._status_widgets: list[tuple[int, QWidget]] = []
        self._missed: dict[str, Change | None] = {}
        self._start_pending = False  # start(): the start-up tasks wait for the first paint

        self.commands = Actions(self, features.actions(feature_list))
        self.commands.build_menus(self.menuBar(), features.menus(feature_list))
        self.addActions(list(self.commands))
        for spec in self.commands.specs():
            self.commands.get(spec.name).triggered.connect(partial(self._trigger, spec.name))

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.page_specs = features.pages(feature_list)
        self.pages: dict[str, QWidget] = {}
        for spec in self.page_specs:
            self.pages[spec.name] = spec.factory(self)
            # No mnemonics: Alt+P / Alt+F belong to the menus; the tabs have Ctrl+1..5.
            self.tabs.addTab(self.pages[spec.name], spec.title)
        self.db_label = QLabel(self)
        self.db_label.setObjectName("databaseLabel")
        self.user_label = QLabel(self)
        self.user_label.setObjectName("userLabel")
        for feature in feature_list:
            if feature.setup is not None:
                feature.setup(self)
        self._lay_out()
        # Disabling the group keeps its actions off whatever the selection says.
        self._editing = QActionGroup(self)
        self._editing.setExclusionPolicy(QActionGroup.ExclusionPolicy.None_)
        for action in self.commands.editing_actions():
            self._editing.addAction(action)
        self._editing_lock = EditingLock(self)

        self.commands.appearance[appearance.current_scheme()].setChecked(True)
        for scheme, action in self.commands.appearance.items():
            action.triggered.connect(partial(self.set_appearance, scheme))
        appearance.notifier().changed.connect(self._palette_changed)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.apply_role()
        self._show_database()
        layout.restore(self)
        self.update_actions()
        self.focus_page()

    def _lay_out(self) -> None:
        central = QWidget(self)
        central.setObjectName("mainCentral")
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.read_only_banner = ReadOnlyBanner(self)
        for banner in [self.read_only_banner, *self._banners]:
            column.addWidget(banner)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.statusBar().addWidget(self.db_label, 1)
        for _order, widget in sorted(self._status_widgets, key=lambda item: item[0]):
            self.statusBar().addPermanentWidget(widget)
        self.statusBar().addPermanentWidget(self.user_label)
        file_menu = self.menuBar().findChild(QMenu, "menu_file")
        if file_menu is not None:  # says why Sign out is greyed out in single-user mode
            file_menu.setToolTipsVisible(True)

    def __getattr__(self, name: str) -> Any:
        """``window.<page>``, ``window.<part>``, ``window.<action>()`` (see the class doc)."""
        state = self.__dict__
        for found in (state.get("pages", {}), state.get("_parts", {})):
            if name in found:
                return found[name]
        if "commands" in state and any(spec.name == name for spec in self.commands.specs()):
            return partial(self.run, name)
        raise AttributeError(name)

    # ------------------------------------------------------ the Shell API

    def status(self, text: str, ms: int = STATUS_MS) -> None:
        self.statusBar().showMessage(text, ms)

    def action(self, name: str) -> QAction:
        return self.commands.get(name)

    def run(self, name: str) -> Any:
        """Run action ``name``'s handler; returns what it started (a dialog, a task)."""
        return next(s for s in self.commands.specs() if s.name == name).handler(self)

    def _trigger(self, name: str, _checked: bool = False) -> None:
        self.run(name)

    def page(self, name: str) -> QWidget | None:
        return self.pages.get(name)

    def show_page(self, name: str) -> None:
        self.tabs.setCurrentWidget(self.pages[name])

    def current_page(self) -> str:
        return self.page_specs[self.tabs.currentIndex()].name

    def _current_spec(self) -> PageSpec:
        return self.page_specs[self.tabs.currentIndex()]

    def selected(self) -> Any:
        """The record selected on the page on show (read fresh), or None."""
        spec = self._current_spec()
        return None if spec.selected is None else spec.selected(self.pages[spec.name])

    def open_record(self, kind: str, record_id: int) -> Any:
        opener = next(f.openers[kind] for f in self._features if kind in f.openers)
        return opener(self, record_id)

    def provided(self, name: str) -> Any:
        return next(f.provides[name] for f in self._features if name in f.provides)

    def open_dialog(self, dialog: QWidget) -> Any:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def add_part(self, name: str, part: Any) -> None:
        self._parts[name] = part

    def part(self, name: str) -> Any:
        return self._parts[name]

    def add_banner(self, widget: QWidget) -> None:
        self._banners.append(widget)

    def add_status_widget(self, widget: QWidget, order: int) -> None:
        self._status_widgets.append((order, widget))

    def update_actions(self) -> None:
        """Actions on a selection: enabled only when the page on show has one selected."""
        spec = self._current_spec()
        page = self.pages[spec.name]
        selected = spec.selected_id is not None and spec.selected_id(page) is not None
        narrowed = [(s, a) for s, a in self.commands.selection_actions() if s.enabled_for]
        record = spec.selected(page) if selected and narrowed else None
        for _spec, action in self.commands.selection_actions():
            action.setEnabled(selected)
        for action_spec, action in narrowed if selected else ():
            action.setEnabled(action_spec.enabled_for(record))

    # ----------------------------------------------------------- changes

    def _dispatch(self, change: Change) -> None:
        """Each page that cares about ``change`` shows it; one off screen, when shown."""
        current = self.current_page() if self.tabs.count() else ""
        for spec in self.page_specs:
            if spec.refresh is None or spec.name == change.by or not change.touches(spec.cares):
                continue
            if spec.lazy and spec.name != current:
                self._missed[spec.name] = merge(self._missed.get(spec.name), change)
            else:
                spec.refresh(self.pages[spec.name], change)
        if change.touches(IDENTITY):
            self._show_database()
        self.update_actions()

    def _tab_changed(self, _index: int) -> None:
        # A message about the tab we left is stale now.
        self.statusBar().clearMessage()
        spec = self._current_spec()
        if spec.lazy and spec.refresh is not None:  # pages off screen refresh when shown
            spec.refresh(self.pages[spec.name], self._missed.pop(spec.name, None))
        self.pageShown.emit(spec.name)
        self.update_actions()

    def refresh_all(self) -> None:
        """Every page shows the database afresh (another one, or someone else signed in)."""
        self.bus.publish(Change(EVERYTHING))

    def apply_role(self) -> None:
        """Hide what the signed-in user's role may not do (the services refuse it too)."""
        self.commands.apply_role(self.ctx.may)
        for index, spec in enumerate(self.page_specs):
            self.tabs.setTabVisible(index, spec.permission is None or self.ctx.may(spec.permission))
        self.bus.publish(Change.of(Kind.SIGN_IN))

    def _show_database(self) -> None:
        """Title and status bar, Sign out and the read-only lock, for this database and user."""
        signing.show_identity(self)
        signing.update_sign_out(self)
        read_only = self.ctx.db.read_only
        self.read_only_banner.show_for(read_only, self.ctx.db.display_name)
        self._editing.setEnabled(not read_only)
        controls = [
            item
            for spec in self.page_specs
            if spec.editing_controls is not None
            for item in spec.editing_controls(self.pages[spec.name])
        ]
        self._editing_lock.set_items(controls)
        self._editing_lock.set_locked(read_only)

    def focus_page(self) -> None:
        """The keyboard goes where the page on show wants it."""
        spec = self._current_spec()
        if spec.focus is not None:
            spec.focus(self.pages[spec.name])

    # ------------------------------------------------------------- misc

    def switch_database(self, spec: str | Path, *, create: bool = False) -> bool:
        return database.switch_database(self, spec, create=create)

    def start(self) -> None:
        """Queue the features' start-up tasks, to run once the window is on screen.

        On screen means painted: the tasks (finishing earlier work, the daily
        backup, ...) start after the window's first paint, so they do not
        hold back the first sight of the prospect list. A window not shown
        (or never painted within :data:`FIRST_PAINT_WAIT_MS`) runs them anyway.
        """
        self._start_pending = True
        if not self.isVisible():
            self._queue_start_tasks()
            return
        self.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_WAIT_MS, self._queue_start_tasks)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if watched is self and event.type() == QEvent.Type.UpdateRequest:
            # The window paints itself (and every child) while handling this
            # event; a zero timer fires only after it has been handled.
            self.removeEventFilter(self)
            QTimer.singleShot(0, self._queue_start_tasks)
        return super().eventFilter(watched, event)

    def _queue_start_tasks(self) -> None:
        if not self._start_pending:
            return  # already queued (the first paint came before the fallback)
        self._start_pending = False
        for feature in self._features:
            for task in feature.on_start:
                QTimer.singleShot(0, partial(task, self))

    def _palette_changed(self) -> None:
        """Panes that wrote colours into their HTML draw again in the new ones."""
        self.bus.publish(Change.of(Kind.APPEARANCE))

    def set_appearance(self, scheme: appearance.Scheme, _checked: bool = False) -> None:
        """View > Appearance: System, Light or Dark, remembered for next time."""
        self.commands.appearance[scheme].setChecked(True)
        self.settings.setValue(appearance.SCHEME_KEY, scheme.value)
        appearance.apply_scheme(QApplication.instance(), scheme)

    def closeEvent(self, event: QCloseEvent) -> None:
        # A worker thread must not outlive the window (or write to a
        # database we are about to close): cancel it and let it roll back.
        # Quiet reads too: they finish in moments, and none may outlive it.
        workers.cancel_all_and_wait()
        for feature in self._features:
            for finish in feature.on_close:
                finish(self)
        layout.save(self)
        super().closeEvent(event)
