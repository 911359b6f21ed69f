"""The window's QActions and menus, built from the features' declarations.

Every menu item and shortcut is declared once, as an
:class:`~crm_desktop.ui.common.registry.ActionSpec` in the feature that owns
it (or in :mod:`crm_desktop.ui.shell.features` for the window's own); here
they become QActions, menus in declared order, and role visibility. Keeping
this out of the window is what stops a main window from growing into the
2,000-line file that Picard, Anki and napari each drifted into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from crm_desktop.domain.roles import Action
from crm_desktop.ui.common.appearance import Scheme
from crm_desktop.ui.common.registry import ActionSpec, MenuSpec


def in_menu_order(menus: Iterable[MenuSpec], specs: Iterable[ActionSpec]) -> list[ActionSpec]:
    """``specs`` as the menus show them: by menu, then by their order in it."""
    rank = {menu.key: menu.order for menu in menus}
    return sorted(specs, key=lambda spec: (rank[spec.menu], spec.order))


class Actions:
    """The window's QActions, one attribute per declared action (``commands.new_prospect``)."""

    def __init__(self, parent: QWidget, specs: Sequence[ActionSpec]):
        self._specs = {spec.name: spec for spec in specs}
        self._by_name: dict[str, QAction] = {}
        self._menus: dict[str, QMenu] = {}
        for spec in specs:
            action = QAction(spec.text, parent)
            action.setObjectName(f"action_{spec.name}")
            if spec.shortcut:
                action.setShortcut(QKeySequence(spec.shortcut))
            if spec.tip:
                action.setStatusTip(spec.tip)
                action.setToolTip(tooltip(spec))
            if spec.menu_role is not None:
                action.setMenuRole(spec.menu_role)
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

    def specs(self) -> list[ActionSpec]:
        return list(self._specs.values())

    def editing_actions(self) -> list[QAction]:
        """The actions that change the database: all off while it is open read-only."""
        return [self._by_name[s.name] for s in self._specs.values() if s.edits]

    def selection_actions(self) -> list[tuple[ActionSpec, QAction]]:
        """The actions on the selected record (enabled only when there is one)."""
        return [(s, self._by_name[s.name]) for s in self._specs.values() if s.on_selection]

    def apply_role(self, may: Callable[[Action], bool]) -> None:
        """Show only what the signed-in user's role may do; hide emptied menus."""
        for name, action in self._by_name.items():
            needed = self._specs[name].permission
            action.setVisible(needed is None or may(needed))
        for menu in self._menus.values():
            menu.menuAction().setVisible(
                any(a.isVisible() for a in menu.actions() if not a.isSeparator())
            )

    def build_menus(self, menubar: QMenuBar, menus: Sequence[MenuSpec]) -> None:
        ordered = sorted(menus, key=lambda menu: menu.order)
        self._menus = {menu.key: menubar.addMenu(menu.title) for menu in ordered}
        for key, menu in self._menus.items():
            menu.setObjectName(f"menu_{key}")
        for spec in in_menu_order(menus, self._specs.values()):
            menu = self._menus[spec.menu]
            if spec.separator_before:
                menu.addSeparator()
            menu.addAction(self._by_name[spec.name])
        view = self._menus["view"]
        view.addSeparator()
        appearance = view.addMenu("&Appearance")
        appearance.setObjectName("menu_appearance")
        appearance.addActions(list(self.appearance.values()))


def tooltip(spec: ActionSpec) -> str:
    if not spec.shortcut:
        return spec.tip
    key = QKeySequence(spec.shortcut).toString(QKeySequence.SequenceFormat.NativeText)
    return f"{spec.tip} ({key})"
