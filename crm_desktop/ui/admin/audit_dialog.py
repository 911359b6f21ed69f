"""File > Audit trail…: check the trail, and move its key between computers.

The trail is signed with a key kept outside the database (see
``services.audit_key``). This dialog says whether this computer holds it,
verifies the trail in the background (on opening, and again on request)
and says what the key let the check cover, and lets a manager or admin
export the key to a file for another computer, or import one. Export and
import are recorded in the trail by the service.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.errors import CrmError
from crm_desktop.services import audit, audit_key
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress

KEY_FILTERS = "Audit key files (*.key);;All files (*)"
KEY_PURPOSE = "audit key"


def verification_text(result: audit.Verification) -> str:
    """What a person reads after a check: the verdict, then what the key covered."""
    if not result.ok:
        where = f"Entry {result.first_bad_id} " if result.first_bad_id is not None else "It "
        return f"<b>The audit trail is broken.</b> {where}{result.problem}."
    head = f"{result.entries:,} entries" if result.entries else "no entries yet"
    verdict = (
        f"<b>The audit trail is intact</b> ({head})."
        if result.complete
        else f"<b>Intact only as far as this computer can check</b> ({head})."
    )
    text = f"{verdict}<br>{result.key_report}"
    if result.last_hash:
        # The head, for a person to note and compare later ('crm audit verify --expect-head').
        text += f"<br>Last entry: <tt>{result.last_hash}</tt>"
    if result.head_note:
        text += f"<br>{result.head_note}"
    return text


def check_trail(ctx: Context) -> tuple[audit_key.KeyStatus | CrmError, audit.Verification]:
    """Whether this computer holds the key (or why that cannot be said), and the check.

    Run on a worker: both read the database; the key's status is read first,
    so it is said together with the check it explains.
    """
    try:
        status: audit_key.KeyStatus | CrmError = audit_key.key_status(ctx)
    except CrmError as exc:
        status = exc
    return status, audit.verify(ctx)


class AuditTrailDialog(QDialog):
    """Verify the trail; export or import its key.

    Signals:
        verified(object): a check finished (the :class:`audit.Verification`).
        keyMoved(str): a key was exported or imported (what was done, a sentence).
    """

    verified = Signal(object)
    keyMoved = Signal(str)

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self._ctx = ctx
        self.setObjectName("auditTrailDialog")
        self.setWindowTitle("Audit trail")
        self.setMinimumWidth(560)

        intro = QLabel(
            "Every change is recorded in a hash chain signed with a key kept outside the "
            "database, on this computer. Whoever has the key file and can write the database "
            "could rewrite the trail: keep exported copies as safe as a password."
        )
        intro.setWordWrap(True)
        self.key_label = QLabel(self)
        self.key_label.setObjectName("keyStatus")
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label = QLabel("Checking…", self)
        self.result_label.setObjectName("verification")
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.verify_button = QPushButton("&Verify again", self)
        self.verify_button.setObjectName("verifyButton")
        self.verify_button.clicked.connect(self.verify)
        self.export_button = QPushButton("&Export key…", self)
        self.export_button.setObjectName("exportKeyButton")
        self.export_button.setToolTip("Write this computer's audit key to a file (0600)")
        self.export_button.clicked.connect(self.export_key)
        self.import_button = QPushButton("&Import key…", self)
        self.import_button.setObjectName("importKeyButton")
        self.import_button.setToolTip("Add the audit key exported on another computer")
        self.import_button.clicked.connect(self.import_key)
        # Both are recorded in the trail, so neither works on a read-only database.
        self._writable = not ctx.db.read_only
        self.import_button.setEnabled(self._writable)

        row = QHBoxLayout()
        row.addWidget(self.verify_button)
        row.addStretch(1)
        row.addWidget(self.export_button)
        row.addWidget(self.import_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addWidget(self.key_label)
        layout.addWidget(self.result_label)
        layout.addLayout(row)
        layout.addWidget(close)
        self._task: BackgroundTask | None = None
        # Whether this computer holds the key is read with the check, on its worker.
        self.export_button.setEnabled(False)

    def _show_key_status(self, status: audit_key.KeyStatus | CrmError) -> None:
        """Say whether this computer holds the key; export only what it holds."""
        if isinstance(status, CrmError):
            self.key_label.setText(str(status))
            self.export_button.setEnabled(False)
            self._fit()
            return
        if status.database_id and not status.held:  # the check below says how to bring it
            self.key_label.setText("<b>This computer does not hold the database's audit key.</b>")
        else:
            self.key_label.setText(status.sentence)
        self._fit()
        self.export_button.setEnabled(self._writable and status.keys_here > 0)

    def verify(self) -> BackgroundTask:
        """Check the whole trail in the background; the result shows when done."""
        self.result_label.setText("Checking…")
        self.verify_button.setEnabled(False)
        ctx = self._ctx
        task = run_with_progress(
            self, "Audit trail", "Checking every entry…",
            lambda progress, should_cancel: check_trail(ctx),
        )  # fmt: skip
        # Bound methods, not lambdas: Qt drops them if the dialog is closed first.
        task.succeeded.connect(self._show_result)
        task.failed.connect(self._not_checked)
        task.finished.connect(self._checked)
        self._task = task
        return task

    def _show_result(self, checked: tuple[audit_key.KeyStatus | CrmError, audit.Verification]):
        status, result = checked
        self._show_key_status(status)
        self.result_label.setText(verification_text(result))
        self._fit()
        self.verified.emit(result)

    def _not_checked(self, text: str) -> None:
        self.result_label.setText(f"Not checked: {text}")
        self._fit()

    def _fit(self) -> None:
        """Grow to show the whole of a text set after the dialog was shown."""
        layout = self.layout()
        layout.activate()
        width = self.width()
        needed = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if needed > self.height():
            self.resize(width, needed)

    def _checked(self) -> None:
        self.verify_button.setEnabled(True)

    def export_key(self) -> BackgroundTask | None:
        chosen = messages.save_file(
            self, "Export audit key", KEY_FILTERS, purpose=KEY_PURPOSE, name="crm-audit.key"
        )
        if not chosen:
            return None
        target = Path(chosen)
        ctx = self._ctx
        task = run_with_progress(
            self, "Export audit key", "Writing the key…",
            lambda progress, should_cancel: audit_key.export_key(ctx, target) and target,
        )  # fmt: skip
        task.succeeded.connect(self._exported)
        task.failed.connect(self._export_failed)
        return task

    def _exported(self, target: Path) -> None:
        self._moved(
            f"Wrote the audit key to {target}, readable by you only. Import it on the other "
            "computer (File > Audit trail > Import key, or 'crm audit key import FILE'), "
            "then delete the file: whoever has it can rewrite the trail."
        )

    def _export_failed(self, text: str) -> None:
        messages.show_error(self, text, "Key not exported")

    def import_key(self) -> BackgroundTask | None:
        chosen = messages.open_file(self, "Import audit key", KEY_FILTERS, purpose=KEY_PURPOSE)
        if not chosen:
            return None
        source = Path(chosen)
        ctx = self._ctx
        task = run_with_progress(
            self, "Import audit key", "Adding the key…",
            lambda progress, should_cancel: audit_key.import_key(ctx, source),
        )  # fmt: skip
        task.succeeded.connect(self._imported)
        task.failed.connect(self._import_failed)
        return task

    def _imported(self, result: audit_key.Imported) -> None:
        self._moved(
            f"Imported {result.added} audit key{'s' if result.added != 1 else ''}: this "
            "computer now checks the entries signed with them. You may delete the file."
            if result.added
            else "This computer already held every key in that file; nothing was added."
        )

    def _import_failed(self, text: str) -> None:
        messages.show_error(self, text, "Key not imported")

    def _moved(self, text: str) -> None:
        messages.inform(self, "Audit trail", text)
        self.keyMoved.emit(text)
        self.verify()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._task is None:
            self.verify()
