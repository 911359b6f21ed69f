"""The merge screen: two records of one person side by side, a choice per field.

Each field is a row with the kept record's value and the other's as two
radio buttons (click either, or Tab to a row and use the arrow keys); rows
whose values differ are highlighted. What is combined whatever the choices
(correspondence, consent history, exports, requests, interests) is counted
under the rows, with the marketing state the merged record will have: the
strictest of the two. Both records are read on a worker; the merge itself
is one short transaction, refused if either record changed since it was
read (the dialog then reads them again).

A merge is said on the bus (``Change`` of prospects, contacts, marketing and
requests, both ids, the kept one selected); the merged record is left on
``view`` for whoever opened the dialog, read on ``accepted``.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.roles import Action
from crm_desktop.errors import ConflictError, CrmError
from crm_desktop.services import merge
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader

EMPTY = "—"
VALUE_WIDTH = 280  # longer values are cut short with "…" (the whole value is the tooltip)


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def brings(side: merge.MergeSide) -> str:
    """What one record brings to the merge, in one line."""
    parts = [
        _plural(side.correspondence, "contact"),
        _plural(side.consent_events, "consent event"),
        _plural(side.exports, "export"),
        _plural(side.requests, "request"),
    ]
    if side.imports:
        parts.append(_plural(side.imports, "import"))
    if side.extra_addresses:
        parts.append(_plural(side.extra_addresses, "extra address", "extra addresses"))
    return ", ".join(parts)


def marketing_after(preview: merge.MergePreview) -> str:
    """The marketing state the merged record will have (the strictest of both)."""
    keep, other = preview.keep, preview.other
    opted = list(dict.fromkeys(keep.opted_out + other.opted_out))
    consent = [c for c in dict.fromkeys(keep.consent + other.consent) if c not in opted]
    parts = []
    if keep.objected or other.objected:
        parts.append("objected to direct marketing")
    if opted:
        parts.append("opted out of " + ", ".join(opted))
    if consent:
        parts.append("consent for " + ", ".join(consent))
    if keep.restricted or other.restricted:
        parts.append("processing restricted")
    if keep.personalisation_refused or other.personalisation_refused:
        parts.append("refuses personalised marketing")
    if not parts:
        return "No opt-outs or consent on either."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


class MergeDialog(QDialog):
    def __init__(
        self,
        ctx: Context,
        keep_id: int,
        other_id: int,
        parent: QWidget | None = None,
        *,
        bus: ChangeBus | None = None,
    ):
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.keep_id, self.other_id = keep_id, other_id
        self.view = None  # the merged record (a ProspectView), once saved
        self.preview: merge.MergePreview | None = None
        self.groups: dict[str, QButtonGroup] = {}
        self.radios: dict[tuple[str, str], QRadioButton] = {}
        self.highlighted: set[str] = set()
        self.setWindowTitle("Merge duplicate records")
        self.setMinimumSize(720, 480)

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setHorizontalSpacing(12)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.grid_host)
        self.scroll = scroll

        self.all_keep = QPushButton("All from the &kept record")
        self.all_keep.clicked.connect(lambda: self.choose_all(merge.KEEP))
        self.all_other = QPushButton("All from the &other record")
        self.all_other.clicked.connect(lambda: self.choose_all(merge.OTHER))
        self.swap_button = QPushButton("&Swap: keep the other record")
        self.swap_button.setToolTip("Keep the other record's id (and delete this one) instead")
        self.swap_button.clicked.connect(self.swap)
        for button in (self.all_keep, self.all_other, self.swap_button):
            button.setAutoDefault(False)  # Enter merges, wherever the focus is
        row = QHBoxLayout()
        for button in (self.all_keep, self.all_other):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.swap_button)

        self.combined = QLabel()
        self.combined.setWordWrap(True)
        self.combined.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel()
        self.error.setProperty("formError", True)
        self.error.setWordWrap(True)
        self.error.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.merge_button = self.buttons.addButton("&Merge", QDialogButtonBox.ButtonRole.AcceptRole)
        self.merge_button.setDefault(True)
        self.merge_button.setEnabled(False)
        self.buttons.accepted.connect(self.do_merge)
        self.buttons.rejected.connect(self.reject)
        if not ctx.may(Action.MERGE_PROSPECTS):
            self.merge_button.setToolTip(
                f"Your role ({ctx.role.label.lower()}) may not merge records."
            )
        elif ctx.db.read_only:
            self.merge_button.setToolTip("This database is open read-only.")

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(row)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.combined)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._reader = Reader(self, cover=scroll, error_title="Merge duplicate records")
        self.refresh()

    # --------------------------------------------------------------- reading

    def refresh(self) -> None:
        ctx, keep, other = self._ctx, self.keep_id, self.other_id
        self.merge_button.setEnabled(False)
        self._reader.read(
            lambda: merge.merge_preview(ctx, keep, other), self._show, failed=self._failed
        )

    def _failed(self, error: CrmError) -> bool:
        self.error.setText(str(error))
        self.error.show()
        return True

    def _show(self, preview: merge.MergePreview) -> None:
        previous = self.choices() if self.preview is not None else {}
        same_pair = self.preview is not None and self.preview.keep.id == preview.keep.id
        self.preview = preview
        self.error.hide()
        keep, other = preview.keep, preview.other
        self.intro.setText(
            f"Merge <b>#{other.id}</b> into <b>#{keep.id}</b>: one record is kept, with the "
            f"values you pick below; #{other.id} is then deleted. Nothing about the person is "
            "lost: the other email address and phone number are kept as extra addresses."
        )
        self._build_rows(preview, previous if same_pair else {})
        self.combined.setText(
            f"<b>Combined whatever you pick</b><br>#{keep.id} brings {brings(keep)}.<br>"
            f"#{other.id} brings {brings(other)}.<br>"
            f"Interests: {', '.join(sorted(set(keep.interests) | set(other.interests))) or EMPTY}."
            f"<br><b>Marketing after the merge</b> (the strictest of both): "
            f"{marketing_after(preview)}"
        )
        allowed = self._ctx.may(Action.MERGE_PROSPECTS) and not self._ctx.db.read_only
        self.merge_button.setEnabled(allowed)
        self.merge_button.setDefault(allowed)

    def _build_rows(self, preview: merge.MergePreview, previous: dict[str, str]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.groups.clear()
        self.radios.clear()
        self.highlighted.clear()
        keep, other = preview.keep, preview.other
        bold = QFont(self.font())
        bold.setBold(True)
        for column, text in ((1, f"#{keep.id} {keep.full_name} (kept)"),
                             (2, f"#{other.id} {other.full_name} (merged in)")):  # fmt: skip
            header = QLabel(self._elide(text))
            header.setFont(bold)
            header.setToolTip(text)
            self.grid.addWidget(header, 0, column)
        shade = self.palette().color(QPalette.ColorRole.Highlight)
        shade.setAlpha(45)
        for row, (field, label) in enumerate(merge.FIELDS, start=1):
            differs = field in preview.differing
            if differs:
                band = QFrame()
                band.setObjectName(f"differs_{field}")
                band.setAutoFillBackground(True)
                palette = band.palette()
                palette.setColor(QPalette.ColorRole.Window, shade)
                band.setPalette(palette)
                self.grid.addWidget(band, row, 0, 1, 3)
                self.highlighted.add(field)
            name = QLabel(label + ("  ≠" if differs else ""))
            if differs:
                name.setFont(bold)
            self.grid.addWidget(name, row, 0)
            group = QButtonGroup(self)
            group.setExclusive(True)
            self.groups[field] = group
            for column, side, values in ((1, merge.KEEP, keep.values),
                                         (2, merge.OTHER, other.values)):  # fmt: skip
                value = values[field] or EMPTY
                radio = QRadioButton(self._elide(value))
                radio.setObjectName(f"{field}_{side}")
                radio.setToolTip(value)
                radio.setAccessibleName(f"{label}: {value}")
                group.addButton(radio)
                self.radios[(field, side)] = radio
                self.grid.addWidget(radio, row, column)
            chosen = previous.get(field) or preview.defaults[field]
            self.radios[(field, chosen)].setChecked(True)
            name.setBuddy(self.radios[(field, chosen)])
        self.grid.setRowStretch(len(merge.FIELDS) + 1, 1)
        # The keyboard starts at the first choice that matters.
        first = next((f for f, _ in merge.FIELDS if f in self.highlighted), merge.FIELDS[0][0])
        target = self.groups[first].checkedButton()
        # The new buttons are shown once the layout runs (queued): focus them then.
        QTimer.singleShot(0, lambda: shiboken6.isValid(target) and target.setFocus())

    def _elide(self, text: str) -> str:
        single = " ".join(text.split())
        return self.fontMetrics().elidedText(single, Qt.TextElideMode.ElideRight, VALUE_WIDTH)

    # -------------------------------------------------------------- choosing

    def choices(self) -> dict[str, str]:
        """field -> "keep" | "other", as the radio buttons stand."""
        return {
            field: merge.KEEP if self.radios[(field, merge.KEEP)].isChecked() else merge.OTHER
            for field in self.groups
        }

    def choose(self, field: str, side: str) -> None:
        self.radios[(field, side)].setChecked(True)

    def choose_all(self, side: str) -> None:
        for field in self.groups:
            self.choose(field, side)

    def swap(self) -> None:
        """Keep the other record instead (its id stays; this one is deleted)."""
        self.keep_id, self.other_id = self.other_id, self.keep_id
        self.refresh()

    # --------------------------------------------------------------- merging

    def do_merge(self) -> None:
        preview = self.preview
        if preview is None or not self.merge_button.isEnabled():
            return
        keep, other = preview.keep, preview.other
        question = (
            f"Merge {other.full_name} (#{other.id}) into {keep.full_name} (#{keep.id})?\n\n"
            f"#{other.id} is deleted; everything it holds moves to #{keep.id}. "
            "This cannot be undone."
        )
        if not messages.ask(self, "Merge duplicate records", question):
            return
        try:
            view = merge.merge_prospects(
                self._ctx, keep.id, other.id, self.choices(),
                keep_version=keep.version, other_version=other.version,
            )  # fmt: skip
        except ConflictError as exc:
            self.error.setText(f"{exc} The records have been read again.")
            self.error.show()
            self.refresh()
            return
        except CrmError as exc:
            messages.show_error(self, exc, "Could not merge")
            return
        kinds = (Kind.PROSPECTS, Kind.CONTACTS, Kind.MARKETING, Kind.REQUESTS)
        self.bus.publish(Change.of(*kinds, ids=(keep.id, other.id), select=keep.id))
        self.view = view
        self.accept()
