"""The window's layout, remembered between runs: size, docks, the tab on show, each page's own."""

from __future__ import annotations

from PySide6.QtCore import QByteArray

# QSettings keys; bump the suffix if the saved layout stops fitting.
GEOMETRY_KEY = "mainWindow/geometry"
STATE_KEY = "mainWindow/state"
TAB_KEY = "mainWindow/tab"


def restore(window) -> None:
    s = window.settings
    geometry = s.value(GEOMETRY_KEY)
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    state = s.value(STATE_KEY)
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)
    for spec in window.page_specs:
        if spec.restore is not None:
            spec.restore(window.pages[spec.name], s, window.width())
    tab = s.value(TAB_KEY, 0, type=int)
    if 0 <= tab < window.tabs.count():
        window.tabs.setCurrentIndex(tab)


def save(window) -> None:
    s = window.settings
    s.setValue(GEOMETRY_KEY, window.saveGeometry())
    s.setValue(STATE_KEY, window.saveState())
    for spec in window.page_specs:
        if spec.save is not None:
            spec.save(window.pages[spec.name], s)
    s.setValue(TAB_KEY, window.tabs.currentIndex())
    s.sync()
