"""The import wizard's two tables: the column mapping and the preview rows.

Both are thin models over what ``services.imports.inspect_file`` returned:
the mapping model holds one row per column of the file (its header, its
first values and the field it goes to, editable through a combo box); the
preview model holds the first rows as they will be imported, each with its
outcome. Outcome colours come from the palette (``appearance.colours``) at
the time they are drawn, so they read in light and dark alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication, QComboBox, QStyle, QStyledItemDelegate, QWidget

from crm_desktop.domain.contact_mapping import TARGETS
from crm_desktop.ui.common import appearance
from crm_desktop.ui.common.table_model import ReadOnlyTableModel

IGNORE = ""
IGNORE_LABEL = "— not imported —"
# How many of a column's first values the mapping step shows.
SAMPLES = 3
SAMPLE_CHARS = 60
MULTI_VALUE = " ::: "

# Outcome -> (label, colour name in appearance.Colours, background name or None).
OUTCOMES: dict[str, tuple[str, str, str | None]] = {
    "new": ("New", "ok", None),
    "update": ("Update", "text", None),
    "opted-out": ("Opted out", "warning", "warning_background"),
    "skip": ("Skipped", "muted", None),
    "reject": ("Rejected", "error", "error_background"),
}
_ICONS = {
    "new": QStyle.StandardPixmap.SP_DialogApplyButton,
    "update": QStyle.StandardPixmap.SP_BrowserReload,
    "opted-out": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "skip": QStyle.StandardPixmap.SP_ArrowRight,
    "reject": QStyle.StandardPixmap.SP_MessageBoxCritical,
}

_ROOT = QModelIndex()
_FORM_KEYS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Escape)
TargetRole = Qt.ItemDataRole.UserRole + 1  # the target key of a mapping row ("" = ignored)
OutcomeRole = Qt.ItemDataRole.UserRole + 2  # the outcome key of a preview row


def outcome_label(outcome: str) -> str:
    return OUTCOMES.get(outcome, (outcome.capitalize(), "text", None))[0]


def target_label(key: str) -> str:
    return IGNORE_LABEL if key == IGNORE else TARGETS.get(key, key)


def one_line(text: str, limit: int = SAMPLE_CHARS) -> str:
    """``text`` as one visible line: line breaks and control characters shown, not obeyed."""
    flat = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ⏎ ")
    flat = "".join(" " if ch == "\t" else ch if ch.isprintable() else "�" for ch in flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def shortened(text: str, limit: int = 80) -> str:
    """``text`` on one line, its middle left out if longer than ``limit`` (file names, paths:
    a long name with no spaces cannot wrap, and would widen the wizard past the screen)."""
    flat = one_line(text, len(text) + 1)
    if len(flat) <= limit:
        return flat
    head = (limit - 1) // 2
    return flat[:head] + "…" + flat[len(flat) - (limit - 1 - head) :]


class MappingModel(ReadOnlyTableModel):
    """One row per column of the file: number, header, first values, target field."""

    COLUMNS = ("#", "Column in the file", "First values", "Import as")
    NUMBER, HEADER, SAMPLES_COLUMN, TARGET = range(4)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._headers: list[str] = []
        self._samples: list[list[str]] = []
        self._targets: list[str] = []

    def set_columns(
        self, headers: Sequence[str], rows: Sequence[Sequence[str]], mapping: dict[int, str]
    ) -> None:
        """Show ``headers`` with the first values of ``rows``, targets from ``mapping``."""
        self.beginResetModel()
        self._headers = list(headers)
        self._samples = []
        for column in range(len(self._headers)):
            values = []
            for cells in rows:
                value = cells[column] if column < len(cells) else ""
                if value.strip():
                    values.append(value)
                if len(values) == SAMPLES:
                    break
            self._samples.append(values)
        self._targets = [mapping.get(i, IGNORE) for i in range(len(self._headers))]
        self.endResetModel()

    def mapping(self) -> dict[int, str]:
        """Column index -> target key, for the columns that are imported."""
        return {i: key for i, key in enumerate(self._targets) if key != IGNORE}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == self.TARGET:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not self._valid(index):
            return None
        row, column = index.row(), index.column()
        if role == TargetRole:
            return self._targets[row]
        if role == Qt.ItemDataRole.EditRole and column == self.TARGET:
            return self._targets[row]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.NUMBER:
                return str(row + 1)
            if column == self.HEADER:
                return one_line(self._headers[row]) or "(no header)"
            if column == self.SAMPLES_COLUMN:
                return " · ".join(one_line(v, 30) for v in self._samples[row]) or "(empty)"
            return target_label(self._targets[row])
        if role == Qt.ItemDataRole.ToolTipRole and column in (self.HEADER, self.SAMPLES_COLUMN):
            values = self._samples[row]
            return "\n".join([self._headers[row], *values]) if values else self._headers[row]
        empty = column == self.SAMPLES_COLUMN and not self._samples[row]
        if role == Qt.ItemDataRole.ForegroundRole and empty:
            return QColor(appearance.colours().muted)
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value, role: int = 2) -> bool:
        if not self._valid(index) or index.column() != self.TARGET:
            return False
        if role not in (Qt.ItemDataRole.EditRole, TargetRole):
            return False
        key = str(value or IGNORE)
        if key != IGNORE and key not in TARGETS:
            return False
        if self._targets[index.row()] != key:
            self._targets[index.row()] = key
            self.dataChanged.emit(index, index)
        return True


class TargetDelegate(QStyledItemDelegate):
    """A combo box of the fields a column can be imported as."""

    def createEditor(self, parent: QWidget, _option, index) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName(f"target_{index.row()}")
        combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        combo.addItem(IGNORE_LABEL, IGNORE)
        for key, label in TARGETS.items():
            combo.addItem(label, key)
        combo.setMaxVisibleItems(len(TARGETS) + 1)
        combo.setToolTip("The field this column is imported as")
        combo.currentIndexChanged.connect(lambda _i, c=combo: self.commitData.emit(c))
        return combo

    def setEditorData(self, editor: QWidget, index) -> None:
        position = editor.findData(index.data(TargetRole))
        editor.blockSignals(True)
        editor.setCurrentIndex(max(position, 0))
        editor.blockSignals(False)

    def setModelData(self, editor: QWidget, model, index) -> None:
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)

    def updateEditorGeometry(self, editor: QWidget, option, _index) -> None:
        editor.setGeometry(option.rect)

    def eventFilter(self, editor: QObject, event: QEvent) -> bool:
        # The combo boxes stay open (persistent) and commit as they change, so Tab and
        # Esc are the form's: Tab to the next column's combo box, Esc to the wizard.
        if event.type() == QEvent.Type.KeyPress and event.key() in _FORM_KEYS:
            return False
        return super().eventFilter(editor, event)


class PreviewModel(ReadOnlyTableModel):
    """The first rows of the file as they will be imported, with their outcome."""

    COLUMNS = ("Row", "Name", "Email", "School", "Role", "Outcome")
    NUMBER, NAME, EMAIL, SCHOOL, ROLE, OUTCOME = range(6)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list = []  # services.imports.PreviewRow

    def set_rows(self, rows: Sequence) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def outcomes(self) -> list[str]:
        return [row.outcome for row in self._rows]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not self._valid(index):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == OutcomeRole:
            return row.outcome
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.OUTCOME and row.reason:
                return row.reason
            if column == self.EMAIL and row.candidate is not None and row.candidate.emails:
                return "\n".join(row.candidate.emails)
            if row.reason:
                return row.reason
            return None
        colour_name, background = OUTCOMES.get(row.outcome, ("", "text", None))[1:]
        if role == Qt.ItemDataRole.ForegroundRole and column == self.OUTCOME:
            return QColor(getattr(appearance.colours(), colour_name))
        if role == Qt.ItemDataRole.BackgroundRole and background is not None:
            return QColor(getattr(appearance.colours(), background))
        if role == Qt.ItemDataRole.DecorationRole and column == self.OUTCOME:
            return outcome_icon(row.outcome)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.NUMBER:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, row, column: int) -> str:
        if column == self.NUMBER:
            return str(row.number)
        if column == self.OUTCOME:
            label = outcome_label(row.outcome)
            return f"{label}: {one_line(row.reason, 120)}" if row.reason else label
        c = row.candidate
        if c is None:
            # Unreadable: show what the row held, so the person can find it.
            return one_line(" ".join(row.cells), 60) if column == self.NAME else ""
        if column == self.NAME:
            return one_line(" ".join(p for p in (c.first_name, c.last_name) if p))
        if column == self.EMAIL:
            if not c.emails:
                return ""
            more = f" (+{len(c.emails) - 1})" if len(c.emails) > 1 else ""
            return one_line(c.emails[0]) + more
        if column == self.SCHOOL:
            return one_line(c.school or "")
        if column == self.ROLE:
            return one_line(c.role or "")
        return ""


def outcome_icon(outcome: str) -> QIcon:
    pixmap = _ICONS.get(outcome)
    if pixmap is None:
        return QIcon()
    return QApplication.style().standardIcon(pixmap)


def outcome_counts(outcomes: Sequence[str]) -> str:
    """ "12 new, 3 updates, 1 opted out, 4 rejected" (in the order of :data:`OUTCOMES`)."""
    parts = []
    for key in OUTCOMES:
        n = sum(1 for o in outcomes if o == key)
        if n:
            word = outcome_label(key).lower()
            if key == "update":
                word = "update" if n == 1 else "updates"
            parts.append(f"{n:,} {word}")
    return ", ".join(parts) or "no rows"
