"""What a feature declares, and what the shell offers it in return.

Each feature under ``ui/`` declares one :class:`Feature` (its module
``feature.py``): its pages (tabs), its actions (menu items and shortcuts),
the menus it adds and what it needs at start-up. The shell builds tabs,
menus, the shortcut list and role visibility from these declarations; a
feature reaches the rest of the window only through :class:`Shell`, so
features never import the shell or each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from PySide6.QtCore import QSettings, SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from crm_desktop.domain.roles import Action
from crm_desktop.services.context import Context
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind

STATUS_MS = 8000


class Shell(Protocol):
    """The window as a feature sees it."""

    ctx: Context
    bus: ChangeBus
    settings: QSettings
    pageShown: SignalInstance  # (str) the name of the page now on show

    def window(self) -> QWidget: ...  # the parent of dialogs (QWidget.window())

    def status(self, text: str, ms: int = STATUS_MS) -> None: ...
    def action(self, name: str) -> QAction: ...
    def run(self, name: str) -> Any: ...
    def page(self, name: str) -> QWidget | None: ...
    def show_page(self, name: str) -> None: ...
    def current_page(self) -> str: ...
    def selected(self) -> Any: ...
    def open_record(self, kind: str, record_id: int) -> Any: ...
    def provided(self, name: str) -> Any: ...
    def open_dialog(self, dialog: QWidget) -> Any: ...
    def add_part(self, name: str, part: Any) -> None: ...
    def part(self, name: str) -> Any: ...
    def add_banner(self, widget: QWidget) -> None: ...
    def add_status_widget(self, widget: QWidget, order: int) -> None: ...
    def update_actions(self) -> None: ...


Handler = Callable[[Shell], Any]


@dataclass(frozen=True)
class MenuSpec:
    """A menu of the menu bar; menus are ordered by ``order``."""

    key: str
    title: str
    order: int


@dataclass(frozen=True)
class ActionSpec:
    """A menu item (and its shortcut).

    ``order`` places it in its menu (lowest first) across features.
    ``permission``: hidden from roles without it (the services refuse anyway).
    ``edits``: changes the database, so it is off while it is read-only.
    ``on_selection``: acts on the selected record of the page on show, so it
    is enabled only when there is one; ``enabled_for(record)`` narrows that.
    """

    name: str
    text: str
    menu: str
    order: int
    handler: Handler
    shortcut: str = ""
    tip: str = ""
    separator_before: bool = False
    permission: Action | None = None
    edits: bool = False
    on_selection: bool = False
    enabled_for: Callable[[Any], bool] | None = None
    menu_role: QAction.MenuRole | None = None


@dataclass(frozen=True)
class PageSpec:
    """A tab, and the View menu item that shows it.

    ``factory(shell)`` builds the page once. ``cares``: the kinds of change
    that make it refresh: ``refresh(page, change)`` is called with the change;
    a ``lazy`` page off screen is refreshed when shown instead (with the
    changes it missed, merged, or None if it missed none: every page shown is
    refreshed, so it never shows stale rows).
    ``selected_id``/``selected`` (optional) give the record selected on it,
    for the actions ``on_selection``. ``editing_controls(page)``: its own
    buttons and actions that change the database (locked when read-only).
    ``focus(page)``: where the keyboard goes when someone starts on it;
    ``forget(page)``: what it drops when the user signs out (what they searched for).
    ``save(page, settings)`` and ``restore(page, settings, window_width)``: its
    layout, kept in the window's settings between runs.
    """

    name: str
    title: str
    order: int
    factory: Callable[[Shell], QWidget]
    show_text: str
    shortcut: str
    tip: str = ""
    permission: Action | None = None
    cares: frozenset[Kind] = frozenset()
    refresh: Callable[[Any, Change | None], None] | None = None
    lazy: bool = True
    selected_id: Callable[[Any], int | None] | None = None
    selected: Callable[[Any], Any] | None = None
    editing_controls: Callable[[Any], list] | None = None
    focus: Callable[[Any], None] | None = None
    forget: Callable[[Any], None] | None = None
    save: Callable[[Any, QSettings], None] | None = None
    restore: Callable[[Any, QSettings, int], None] | None = None


@dataclass(frozen=True)
class PaneSpec:
    """A pane one feature lends another's page (the prospect's Marketing tab).

    ``make(ctx, parent, bus=bus, by=page)`` builds it: it says what it changes
    on ``bus`` (the window's), ``by`` the page it is part of. ``read(ctx,
    record_id)`` reads what it shows, on a worker thread, for the pane's
    ``show_read(record, data)``.
    """

    make: Callable[..., Any]
    read: Callable[[Context, int], Any]


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds to the window.

    ``setup(shell)`` runs once every page of every feature exists (parts
    that are not pages: banners, status-bar badges, connections).
    ``openers``: how to bring a kind of record into view (``"prospect"``),
    for other features' pages to ask through :meth:`Shell.open_record`.
    ``provides``: parts other features may build in by name (a
    :class:`PaneSpec`), through :meth:`Shell.provided`, without importing
    this feature. ``on_start``: tasks the window runs once it is on screen; ``on_close``:
    what must finish before it closes.
    """

    name: str
    pages: tuple[PageSpec, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    menus: tuple[MenuSpec, ...] = ()
    setup: Handler | None = None
    openers: Mapping[str, Callable[[Shell, int], Any]] = field(default_factory=dict)
    on_start: tuple[Handler, ...] = ()
    on_close: tuple[Handler, ...] = ()
    provides: Mapping[str, Any] = field(default_factory=dict)


def merge(first: Change | None, second: Change) -> Change:
    """Two changes as one (what a page off screen missed)."""
    if first is None:
        return second
    return Change(
        first.kinds | second.kinds,
        first.ids | second.ids,
        second.select if second.select is not None else first.select,
        first.by if first.by == second.by else "",
    )


def named_controls(owner: object, names: tuple[str, ...]) -> list:
    """The widgets and actions of ``owner`` called ``names`` that it has (for
    ``PageSpec.editing_controls``: a page builds some only for some roles)."""
    return [item for name in names if (item := getattr(owner, name, None)) is not None]
