"""What the prospects page shows while several prospects are selected.

:class:`BulkBar` sits above the table: how many are selected, "Select all N
matching" (the filter itself becomes the selection, however many rows that
is), Clear, and the button to change them. :class:`MultiPane` takes the
detail pane's place: "N prospects selected".
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


def people(n: int) -> str:
    return f"{n:,} prospect" + ("" if n == 1 else "s")


class BulkBar(QFrame):
    """The selection bar. Hidden unless two or more prospects are selected.

    Signals:
        selectAllRequested(): "Select all N matching" was clicked.
        clearRequested(): "Clear selection" was clicked.
        changeRequested(): "Change selected…" was clicked.
    """

    selectAllRequested = Signal()
    clearRequested = Signal()
    changeRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("bulkBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("bulkCount")
        self.select_all = QPushButton(self)
        self.select_all.setObjectName("selectAllMatching")
        self.select_all.setFlat(True)
        self.select_all.setCursor(Qt.CursorShape.PointingHandCursor)
        self.select_all.clicked.connect(self.selectAllRequested)
        self.clear = QPushButton("C&lear selection", self)
        self.clear.setObjectName("clearSelection")
        self.clear.setFlat(True)
        self.clear.clicked.connect(self.clearRequested)
        self.change = QPushButton("C&hange selected…", self)
        self.change.setObjectName("bulkChange")
        self.change.setToolTip("Set owner or stage, add or remove an interest, log a contact, "
                               "opt out or delete, for all of them (Ctrl+Shift+B)")  # fmt: skip
        self.change.clicked.connect(self.changeRequested)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 4, 2)
        row.addWidget(self.count_label)
        row.addWidget(self.select_all)
        row.addStretch(1)
        row.addWidget(self.clear)
        row.addWidget(self.change)
        self.hide()

    def show_selection(self, selected: int, matching: int, *, everyone: bool) -> None:
        """``selected`` of the ``matching`` rows; ``everyone``: all matching are selected."""
        if selected < 2:
            self.hide()
            return
        if everyone:
            self.count_label.setText(f"All {people(matching)} matching are selected.")
        else:
            self.count_label.setText(f"{people(selected)} selected.")
        self.select_all.setText(f"Select all {matching:,} matching")
        self.select_all.setVisible(not everyone)
        self.show()


class MultiPane(QWidget):
    """Stands in for the detail pane when several prospects are selected.

    Signals:
        changeRequested(): its "Change them…" button was clicked.
    """

    changeRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("multiPane")
        self.title = QLabel(self)
        self.title.setObjectName("multiTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        hint = QLabel(
            "Click a single row to see one prospect. Shift-click or Ctrl-click adds to the "
            "selection; Ctrl+A selects every prospect the search and filters match.",
            self,
        )
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        self.change = QPushButton("&Change them…", self)
        self.change.setObjectName("multiChange")
        self.change.clicked.connect(self.changeRequested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.title)
        layout.addWidget(hint)
        layout.addWidget(self.change, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def show_count(self, count: int) -> None:
        self.title.setText(f"{people(count)} selected")
