"""The banner above the prospect table while it shows one import's people.

"Imported from bett.csv (Bett 2026 stand sign-ups) on 7 Dec 2026: 120
people  [×]": the whole sentence is shortened in the middle when the window
is narrow (a long file name never widens the page), and its tooltip keeps
it whole with the lawful basis and who imported it. The × (or Clear, which
clears every filter) shows everyone again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from crm_desktop.services.import_batches import ImportBatchView


class ElidedLabel(QLabel):
    """A one-line label that shortens its text in the middle to the width it is given."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(80)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = " ".join(text.split())  # line breaks in a source fold to spaces
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.contentsRect().width(), 10)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width)
        if shown != self.text():
            self.setText(shown)


class ImportChip(QFrame):
    """Says which import the table is limited to. Hidden while it is not.

    Signals:
        cleared(): the × was clicked (show every prospect again).
    """

    cleared = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("importChip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = ElidedLabel(self)
        self.label.setObjectName("importChipText")
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("importChipClear")
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.close_button.setToolTip("Stop showing only this import's people")
        self.close_button.setAccessibleName("Clear the import filter")
        self.close_button.clicked.connect(self.cleared)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 2, 2)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button)
        self.import_id: int | None = None
        self.hide()

    def show_waiting(self, import_id: int) -> None:
        """The filter is on; what the import was is still being read."""
        self.import_id = import_id
        self.label.set_full_text(f"Import #{import_id}…")
        self.setToolTip("")
        self.show()

    def show_batch(self, batch: ImportBatchView) -> None:
        self.import_id = batch.id
        self.label.set_full_text(batch.summary())
        self.setToolTip(
            f"{batch.summary()}.\nImport #{batch.id}, by {batch.imported_by}; lawful basis: "
            f"{batch.basis_label.lower()}.\nOther filters and the search narrow it further; "
            "× or Clear shows everyone again."
        )
        self.show()

    def text(self) -> str:
        """The whole sentence (as shown when there is room)."""
        return self.label.full_text()

    def clear(self) -> None:
        self.import_id = None
        self.label.set_full_text("")
        self.hide()
