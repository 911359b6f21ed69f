"""A database open read-only: the strip above the tabs that says so, and the lock
that keeps every editing control switched off.

Shown whenever ``ctx.db.read_only`` is true (a file or folder the user may
not write, or a ``mode=ro`` URL), so nobody fills in a form only to learn
at Save that nothing can be saved. Its colours come from the application
palette (its tool-tip colours, made for text that stands out on any scheme)
and follow it when it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QWidget


def banner_style(palette: QPalette) -> str:
    """The banner in the palette's tool-tip colours (made to stand out on any scheme)."""
    back = palette.color(QPalette.ColorRole.ToolTipBase).name()
    text = palette.color(QPalette.ColorRole.ToolTipText).name()
    line = palette.color(QPalette.ColorRole.Mid).name()
    return (
        f"QFrame#readOnlyBanner {{ background: {back}; border-bottom: 1px solid {line}; }}"
        f"QFrame#readOnlyBanner QLabel {{ color: {text}; background: transparent; }}"
    )


class ReadOnlyBanner(QFrame):
    """A one-line notice; :meth:`show_for` fills it in and shows or hides it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("readOnlyBanner")
        self.label = QLabel(self)
        self.label.setObjectName("readOnlyText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.label, 1)
        self._restyle()
        self.hide()

    def _restyle(self) -> None:
        style = banner_style(QApplication.palette())
        if style != self.styleSheet():
            self.setStyleSheet(style)

    def changeEvent(self, event: QEvent) -> None:
        # The desktop (or View > Appearance) switched light/dark: follow it.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._restyle()
        super().changeEvent(event)

    def show_for(self, read_only: bool, name: str) -> None:
        if read_only:
            self.label.setText(
                f"<b>Read-only:</b> {escape(name)} cannot be changed from here. You can "
                "look things up and search; editing, logging contacts, exports and "
                "imports are switched off. Open a copy you can write to in order to "
                "make changes."
            )
            self.label.setToolTip(name)
        self.setVisible(read_only)


class EditingLock(QObject):
    """Holds buttons and actions disabled while locked, whatever their views decide.

    The views enable their buttons from the selection; while the database is
    read-only this lock turns each such enabling straight back off, and
    remembers what the view wanted, so unlocking (a writable database opened)
    restores exactly that.
    """

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.locked = False
        self._items: list[QWidget | QAction] = []
        self._wanted: dict[int, bool] = {}
        self._forcing = False

    def set_items(self, items: Iterable[QWidget | QAction]) -> None:
        for item in items:
            if any(item is known for known in self._items):
                continue
            self._items.append(item)
            if isinstance(item, QAction):
                item.changed.connect(lambda item=item: self._enforce(item))
            else:
                item.installEventFilter(self)
            if self.locked:
                self._hold(item)

    def set_locked(self, locked: bool) -> None:
        if locked == self.locked:
            return
        self.locked = locked
        for item in self._items:
            if locked:
                self._hold(item)
            else:
                self._force(item, self._wanted.pop(id(item), item.isEnabled()))

    def _hold(self, item: QWidget | QAction) -> None:
        self._wanted[id(item)] = item.isEnabled()
        self._force(item, False)

    def _force(self, item: QWidget | QAction, enabled: bool) -> None:
        self._forcing = True
        try:
            item.setEnabled(enabled)
        finally:
            self._forcing = False

    def _enforce(self, item: QWidget | QAction) -> None:
        if not self.locked or self._forcing:
            return
        enabled = item.isEnabled()
        self._wanted[id(item)] = enabled
        if enabled:
            self._force(item, False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.EnabledChange and isinstance(watched, QWidget):
            self._enforce(watched)
        return False
