"""Manage the list of our services that prospects can be interested in.

The list is shared by everyone, so each row shows how many prospects would
be touched: renaming changes the word on all of them, deleting removes the
interest from all of them (the confirmation gives the number).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.validation import ValidationError, field_label
from crm_desktop.errors import CrmError
from crm_desktop.services import interests
from crm_desktop.services.context import Context
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader, give_current_row

InterestIdRole = Qt.ItemDataRole.UserRole + 1
ProspectCountRole = Qt.ItemDataRole.UserRole + 2

_PREDICATES = ("is ", "are ", "cannot ", "must ", "contains ", "has ", "needs ")


def _ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _ask_text(parent: QWidget, title: str, label: str, text: str) -> str | None:
    """The text entered, or None if the user cancelled."""
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value if ok else None


def _error_message(exc: CrmError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for field, message in exc.errors.items():
            label = "The name" if field == "name" else field_label(field)
            if message.startswith(_PREDICATES):
                parts.append(f"{label} {message}.")
            else:
                parts.append(message[:1].upper() + message[1:])
        return " ".join(parts)
    return str(exc)


class InterestsDialog(QDialog):
    """The managed list of interests: add, rename, delete, with prospect counts.

    An interest added, renamed or deleted is said on ``bus`` as
    ``Change(INTERESTS)`` (prospect filters and forms that offer interests
    read them again).
    """

    # Seams for tests: a yes/no question, and a one-line text prompt that
    # returns the text or None for Cancel.
    ask = staticmethod(_ask)
    ask_text = staticmethod(_ask_text)

    def __init__(
        self, ctx: Context, parent: QWidget | None = None, *, bus: ChangeBus | None = None
    ) -> None:
        """``bus``: where changes to the interests are said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.setWindowTitle("Our services (interests)")
        self.setMinimumSize(440, 380)

        intro = QLabel("The services prospects can be interested in. Everyone shares this list.")
        intro.setWordWrap(True)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Service", "Prospects"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemActivated.connect(lambda *_: self.rename_selected())

        self.empty_label = QLabel("The list is empty. Add the services you sell below.")
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()  # until the list has been read

        self.rename_button = QPushButton("&Rename…")
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button = QPushButton("&Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        side = QVBoxLayout()
        side.addWidget(self.rename_button)
        side.addWidget(self.delete_button)
        side.addStretch(1)

        middle = QHBoxLayout()
        middle.addWidget(self.tree, 1)
        middle.addLayout(side)

        self.new_edit = QLineEdit()
        self.new_edit.setPlaceholderText("New service, e.g. Careers guidance")
        self.new_edit.setAccessibleName("New service name")
        self.new_edit.setMaxLength(400)  # the validator gives the real limit
        self.new_edit.returnPressed.connect(self.add_from_field)
        self.new_edit.textEdited.connect(lambda _t: self._set_error(""))
        self.add_button = QPushButton("&Add")
        self.add_button.clicked.connect(self.add_from_field)
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_edit, 1)
        add_row.addWidget(self.add_button)

        self.error_label = QLabel()
        self.error_label.setProperty("formError", True)  # coloured by the style sheet
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()

        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)

        # Enter in the name field adds; it must not also press a default button.
        for button in (self.rename_button, self.delete_button, self.add_button, self.close_button):
            button.setAutoDefault(False)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(middle, 1)
        layout.addWidget(self.empty_label)
        layout.addLayout(add_row)
        layout.addWidget(self.error_label)
        layout.addLayout(bottom)

        # The list (with a count of prospects each) is read on a worker.
        self._reader = Reader(self, cover=self.tree)
        self._wanted: int | None = None  # the row to select when the read arrives
        self.refresh()
        self.new_edit.setFocus()

    # ------------------------------------------------------------ public

    @Slot()
    def refresh(self) -> None:
        """Reload the list, keeping the selection."""
        self._reload()

    def _reload(self, select_id: int | None = None) -> None:
        """Read the list again on a worker; then select ``select_id``, or keep the selection."""
        self._wanted = select_id
        ctx = self._ctx
        self._reader.read(lambda: interests.list_interests(ctx), self._show, failed=self._not_read)

    def _not_read(self, exc: CrmError) -> bool:
        # e.g. the database file went away
        self._wanted = None
        self.tree.clear()
        self.empty_label.hide()
        self._update_buttons()
        self._set_error(f"The list could not be loaded. {exc}")
        return True

    def _show(self, rows: list[tuple[int, str, int]]) -> None:
        select_id = self._wanted if self._wanted is not None else self.selected_id()
        self._wanted = None
        self.tree.clear()
        for interest_id, name, count in rows:
            item = QTreeWidgetItem([name, f"{count:,}"])
            item.setData(0, InterestIdRole, interest_id)
            item.setData(0, ProspectCountRole, count)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(0, name)
            self.tree.addTopLevelItem(item)
            if interest_id == select_id:
                self.tree.setCurrentItem(item)
        self.empty_label.setVisible(not rows)
        give_current_row(self.tree)
        self._update_buttons()

    def names(self) -> list[str]:
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    def selected_id(self) -> int | None:
        items = self.tree.selectedItems()
        return int(items[0].data(0, InterestIdRole)) if items else None

    def select_name(self, name: str) -> bool:
        """Select the row called ``name`` (exact); True if there is one."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.text(0) == name:
                self.tree.setCurrentItem(item)
                return True
        return False

    def error_text(self) -> str:
        """The error shown under the list ("" when none)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    @Slot()
    def add_from_field(self) -> None:
        """Add what is typed in the name field; on error keep it and say why."""
        try:
            new_id = interests.add_interest(self._ctx, self.new_edit.text())
        except (ValidationError, CrmError) as exc:
            self._set_error(_error_message(exc))
            self.new_edit.setFocus()
            self.new_edit.selectAll()
            return
        self._set_error("")
        self.new_edit.clear()
        self._reload(select_id=new_id)
        self.bus.publish(Change.of(Kind.INTERESTS))

    @Slot()
    def rename_selected(self) -> None:
        item = self._selected_item()
        if item is None:
            return
        interest_id = int(item.data(0, InterestIdRole))
        old = item.text(0)
        count = int(item.data(0, ProspectCountRole))
        label = "New name:"
        if count:
            label = f"New name (changes it for {count:,} prospect{'' if count == 1 else 's'}):"
        name = self.ask_text(self, "Rename service", label, old)
        if name is None or name.strip() == old:
            return
        try:
            interests.rename_interest(self._ctx, interest_id, name)
        except (ValidationError, CrmError) as exc:
            self._set_error(f"“{old}” was not renamed. {_error_message(exc)}")
            return
        self._set_error("")
        self._reload(select_id=interest_id)
        self.bus.publish(Change.of(Kind.INTERESTS))

    @Slot()
    def delete_selected(self) -> None:
        item = self._selected_item()
        if item is None:
            return
        interest_id = int(item.data(0, InterestIdRole))
        name = item.text(0)
        count = int(item.data(0, ProspectCountRole))
        if count == 1:
            detail = "1 prospect has it and will lose it."
        elif count:
            detail = f"{count:,} prospects have it and will lose it."
        else:
            detail = "No prospects have it."
        if not self.ask(self, "Delete service", f"Remove “{name}” from the list?\n\n{detail}"):
            return
        try:
            interests.delete_interest(self._ctx, interest_id)
        except CrmError as exc:
            self._set_error(f"“{name}” was not deleted. {exc}")
            self.refresh()
            return
        self._set_error("")
        self.refresh()
        self.bus.publish(Change.of(Kind.INTERESTS))

    # ----------------------------------------------------------- private

    def _selected_item(self) -> QTreeWidgetItem | None:
        items = self.tree.selectedItems()
        return items[0] if items else None

    def _set_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    @Slot()
    def _update_buttons(self) -> None:
        selected = bool(self.tree.selectedItems())
        self.rename_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)
