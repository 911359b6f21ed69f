"""Probable duplicates: pairs of prospects that may be one person, to merge or dismiss.

The pairs are found on a worker (the search reads every prospect once) and
listed strongest evidence first. Merge… (or a double-click, or Enter) opens
the merge screen for the selected pair; Not duplicates records that they
are two people, so the pair is never listed again. The list is read again
after either, and when prospects change elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.roles import Action
from crm_desktop.errors import CrmError
from crm_desktop.services import duplicates
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader, give_current_row
from crm_desktop.ui.duplicates.merge_dialog import MergeDialog

#: At most this many pairs are listed at once (merge or dismiss some to see more).
SHOWN = 1_000
PairRole = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Name", "Name", "School", "Why", "Names alike")


class DuplicatesDialog(QDialog):
    """``among``: only pairs involving these prospects (an import's), else all;
    ``scope`` then says whose (default: "these N prospects"). ``status`` is
    told a sentence when a pair is merged (the merge itself is said on the
    bus by the merge dialog).
    """

    def __init__(
        self,
        ctx: Context,
        parent: QWidget | None = None,
        *,
        bus: ChangeBus | None = None,
        among: Collection[int] | None = None,
        scope: str | None = None,
        status: Callable[[str], None] | None = None,
    ):
        super().__init__(parent)
        self._ctx = ctx
        self._status = status
        self.bus = bus_for(self, bus)
        self._among = None if among is None else frozenset(among)
        self._scope = scope
        self.merge_dialog: MergeDialog | None = None  # the last one opened
        self.pairs: list[duplicates.DuplicatePair] = []
        self.setWindowTitle("Probable duplicates")
        self.setMinimumSize(760, 420)

        intro = QLabel(
            "People who may have been entered twice: a similar name at the same school, the "
            "same phone number, or one's extra email address the other's. Merge a pair into "
            "one record, or mark it as two different people."
        )
        intro.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for column in (0, 1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        for column in (3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.merge_selected())
        self.empty = QLabel("No probable duplicates.")
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.empty)

        self.count = QLabel("…")
        self.scope = QLabel()
        self.show_all_button = QPushButton("Show &all pairs")
        self.show_all_button.setToolTip("Every probable duplicate, not only these prospects'")
        self.show_all_button.clicked.connect(self.show_all)
        self.show_all_button.setAutoDefault(False)
        self.merge_button = QPushButton("&Merge…")
        self.merge_button.setToolTip("Merge the selected pair into one record")
        self.merge_button.clicked.connect(self.merge_selected)
        self.dismiss_button = QPushButton("&Not duplicates")
        self.dismiss_button.setToolTip("They are two people: never list this pair again")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.may_merge = ctx.may(Action.MERGE_PROSPECTS)
        self.merge_button.setVisible(self.may_merge)
        if ctx.db.read_only:
            for button in (self.merge_button, self.dismiss_button):
                button.setToolTip("This database is open read-only.")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.count, 1)
        row.addWidget(self.merge_button)
        row.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        scope = QHBoxLayout()
        scope.addWidget(self.scope, 1)
        scope.addWidget(self.show_all_button)
        layout.addLayout(scope)
        layout.addWidget(self.stack, 1)
        layout.addLayout(row)
        layout.addWidget(close)
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.tree)
        enter.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self.merge_selected)

        self._reader = Reader(self, cover=self.stack, error_title="Probable duplicates")
        self.bus.changed.connect(self._changed)
        self._update_buttons()
        self._show_scope()
        self.tree.setFocus()  # the keys start on the list: arrows, Enter to merge
        self.refresh()

    # --------------------------------------------------------------- reading

    def _show_scope(self) -> None:
        limited = self._among is not None
        n = len(self._among or ())
        whose = self._scope or (f"these {n:,} prospects" if n != 1 else "this prospect")
        self.scope.setText(f"Only pairs involving {whose}.")
        self.scope.setVisible(limited)
        self.show_all_button.setVisible(limited)

    def show_all(self) -> None:
        """List every probable duplicate, not only those of the prospects given."""
        self._among = None
        self._show_scope()
        self.refresh()

    def refresh(self) -> None:
        ctx, among = self._ctx, self._among
        self._reader.read(
            lambda: duplicates.probable_duplicates(ctx, among=among), self._show_pairs
        )

    def _changed(self, change: Change) -> None:
        if change.touches({Kind.PROSPECTS, Kind.DATABASE}) and not self._reader.pending:
            self.refresh()

    def _show_pairs(self, pairs: list[duplicates.DuplicatePair]) -> None:
        keep = self.selected()
        keep_key = (keep.first_id, keep.second_id) if keep else None
        self.pairs = pairs
        self.tree.clear()
        chosen = None
        for pair in pairs[:SHOWN]:
            item = QTreeWidgetItem(
                [pair.first_name, pair.second_name, pair.school or "—", pair.reason,
                 f"{pair.score}%"]
            )  # fmt: skip
            item.setData(0, PairRole, pair)
            item.setToolTip(0, f"#{pair.first_id} {pair.first_name} <{pair.first_email or '—'}>")
            item.setToolTip(1, f"#{pair.second_id} {pair.second_name} <{pair.second_email or '—'}>")
            item.setToolTip(2, self._schools(pair))
            item.setTextAlignment(4, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if keep_key == (pair.first_id, pair.second_id):
                chosen = item
        if chosen is not None:
            self.tree.setCurrentItem(chosen)
        elif self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        give_current_row(self.tree)
        self.stack.setCurrentWidget(self.tree if pairs else self.empty)
        n = len(pairs)
        if not n:
            self.count.setText("")
        elif n > SHOWN:
            self.count.setText(f"Showing the first {SHOWN:,} of {n:,} probable duplicates.")
        else:
            self.count.setText(f"{n:,} probable duplicate" + ("" if n == 1 else "s"))
        self._update_buttons()

    @staticmethod
    def _schools(pair: duplicates.DuplicatePair) -> str:
        if pair.first_school == pair.second_school:
            return pair.first_school or "No school"
        return f"{pair.first_school or 'No school'} / {pair.second_school or 'No school'}"

    # ------------------------------------------------------------ selection

    def selected(self) -> duplicates.DuplicatePair | None:
        item = self.tree.currentItem()
        if item is None or not item.isSelected():
            return None
        return item.data(0, PairRole)

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None and not self._ctx.db.read_only
        self.merge_button.setEnabled(chosen and self.may_merge)
        self.dismiss_button.setEnabled(chosen)

    # -------------------------------------------------------------- actions

    def merge_selected(self) -> MergeDialog | None:
        pair = self.selected()
        if pair is None or not self.merge_button.isEnabled():
            return None
        dialog = MergeDialog(self._ctx, pair.first_id, pair.second_id, self, bus=self.bus)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._said_merged(dialog.view))
        self.merge_dialog = dialog
        dialog.open()
        return dialog

    def _said_merged(self, view) -> None:
        if self._status is not None and view is not None:
            self._status(f"Merged into {view.full_name} (#{view.id}).")

    def dismiss_selected(self) -> bool:
        pair = self.selected()
        if pair is None or not self.dismiss_button.isEnabled():
            return False
        try:
            duplicates.dismiss_pair(self._ctx, pair.first_id, pair.second_id)
        except CrmError as exc:
            messages.show_error(self, exc, "Could not mark them as different people")
            return False
        self.refresh()
        return True
