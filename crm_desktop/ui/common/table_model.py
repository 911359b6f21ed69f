"""The read-only table basics every list model in the app shares."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

_ROOT = QModelIndex()


class ReadOnlyTableModel(QAbstractTableModel):
    """Columns from ``COLUMNS``, numbered rows, selectable but not editable.

    Subclasses provide ``rowCount`` and ``data``.
    """

    COLUMNS: tuple[str, ...] = ()

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < self.rowCount():
            return str(section + 1)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _valid(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        return index.isValid() and 0 <= index.row() < self.rowCount()


def with_empty_state(table: QWidget, parent: QWidget) -> tuple[QStackedWidget, QLabel]:
    """A stack showing ``table``, or (index 1) a centred message when it is empty."""
    label = QLabel(parent)
    label.setObjectName("tableEmpty")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setMargin(24)
    stack = QStackedWidget(parent)
    stack.addWidget(table)
    stack.addWidget(label)
    return stack, label
