"""The suppression list: add addresses that must never be marketed to, or check one.

The list holds keyed hashes, not addresses, so it cannot be shown or
browsed; it can only answer "is this address on it?". The answer lists the
entries for that one address (channel, reason, date), never anything about
anyone else. Addresses are added by pasting a list or loading a text or
CSV file; both run on a worker thread with a progress bar and Cancel, in
one transaction, so a cancelled load adds nothing.

Entries added here are permanent (only opt-out entries are ever lifted, by
an explicit opt-in), so adding asks first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from crm_desktop.domain.dates import format_date
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import CrmError
from crm_desktop.reports.marketing_text import channel_label
from crm_desktop.services import suppression
from crm_desktop.services.context import Context
from crm_desktop.services.suppression import BulkResult, SuppressionEntry
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.appearance import colours
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress
from crm_desktop.ui.marketing.consent_dialog import raw_text

FILE_FILTERS = "Address lists (*.csv *.txt);;All files (*)"
MAX_INVALID_SHOWN = 5
REASONS = {
    "opt-out": "opted out",
    "objection": "objected to marketing",
    "erasure": "erased",
    "email-tool": "unsubscribed or bounced in the email tool",
    "manual": "added by marketing",
}


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 'es')}"


def report_text(result: BulkResult) -> str:
    """What an add did, in words: added, already there, not addresses."""
    parts = [f"Added {_plural(result.added, 'address')} to the suppression list."]
    if result.already:
        was = "was" if result.already == 1 else "were"
        parts.append(f"{_plural(result.already, 'address')} {was} on it already.")
    if result.invalid:
        shown = ", ".join(f"“{text[:60]}”" for text in result.invalid[:MAX_INVALID_SHOWN])
        more = len(result.invalid) - MAX_INVALID_SHOWN
        tail = f" and {more:,} more" if more > 0 else ""
        were = "was" if len(result.invalid) == 1 else "were"
        parts.append(
            f"{_plural(len(result.invalid), 'entry', 'entries')} {were} not an email address "
            f"or phone number and {were} skipped: {shown}{tail}."
        )
    return " ".join(parts)


def entries_text(entries: list[SuppressionEntry]) -> str:
    """The lookup answer: "Not suppressed." or one line per entry."""
    if not entries:
        return "Not suppressed: this address is not on the suppression list."
    lines = ["Suppressed: this address must not be marketed to."]
    for e in entries:
        why = REASONS.get(e.reason, e.reason)
        when = format_date(e.created_at.astimezone().date())
        lines.append(f"• {channel_label(e.channel)}: {why}, {when} (by {e.created_by})")
    return "\n".join(lines)


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


class SuppressionDialog(QDialog):
    """Check an address against the suppression list, or add many to it.

    Addresses added are said on ``bus`` as ``Change(SUPPRESSION)`` (exports
    and marketing views read them again); ``last_result`` is the
    :class:`BulkResult` of the last addition.
    """

    def __init__(self, ctx: Context, parent=None, *, bus: ChangeBus | None = None):
        """``bus``: where additions to the list are said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.task: BackgroundTask | None = None
        self.last_result: BulkResult | None = None
        self.setObjectName("suppressionDialog")
        self.setWindowTitle("Suppression list")
        self.setMinimumSize(520, 520)

        self.count_label = QLabel(self)
        self.count_label.setWordWrap(True)
        self._count_reader = Reader(self, cover=None)  # the count is read on a worker

        check_box = QGroupBox("Is this address suppressed?", self)
        check_layout = QVBoxLayout(check_box)
        check_form = QFormLayout()
        check_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        check_general = QLabel(check_box)
        self._check_errors = messages.FormErrors(check_form, ("address",), check_general)
        self.address = QLineEdit(check_box)
        self.address.setPlaceholderText("An email address or phone number")
        self.address.setMaxLength(400)
        self.address.returnPressed.connect(self.check)
        self.address.textEdited.connect(lambda _t: self._clear_answer())
        self.check_button = QPushButton("&Check", check_box)
        self.check_button.setAutoDefault(False)
        self.check_button.clicked.connect(self.check)
        row = QHBoxLayout()
        row.addWidget(self.address, 1)
        row.addWidget(self.check_button)
        address_label = QLabel("&Address", check_box)
        address_label.setBuddy(self.address)
        check_form.addRow(address_label, row)
        self._check_errors.add("address", self.address)
        self.answer = QLabel(check_box)
        self.answer.setObjectName("suppressionAnswer")
        self.answer.setWordWrap(True)
        self.answer.setTextFormat(Qt.TextFormat.PlainText)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        check_layout.addLayout(check_form)
        check_layout.addWidget(self.answer)
        check_layout.addWidget(check_general)

        add_box = QGroupBox("Add addresses", self)
        add_layout = QVBoxLayout(add_box)
        hint = QLabel(
            "Paste email addresses or phone numbers, one a line (commas and semicolons "
            "also separate them), or load a text or CSV file. They are suppressed on "
            "every channel, for good: entries added here are never removed.",
            add_box,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.paste = QPlainTextEdit(add_box)
        self.paste.setObjectName("pasteAddresses")
        self.paste.setTabChangesFocus(True)
        self.paste.setPlaceholderText("jane@example.com\n07700 900123")
        self.load_button = QPushButton("&Load file…", add_box)
        self.load_button.setAutoDefault(False)
        self.load_button.clicked.connect(self.load_file)
        self.add_button = QPushButton("&Add to suppression list", add_box)
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_pasted)
        buttons = QHBoxLayout()
        buttons.addWidget(self.load_button)
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        self.report = QLabel(add_box)
        self.report.setObjectName("suppressionReport")
        self.report.setWordWrap(True)
        self.report.setTextFormat(Qt.TextFormat.PlainText)
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        add_layout.addWidget(hint)
        add_layout.addWidget(self.paste, 1)
        add_layout.addLayout(buttons)
        add_layout.addWidget(self.report)

        self.close_button = QPushButton("Close", self)
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.count_label)
        layout.addWidget(check_box)
        layout.addWidget(add_box, 1)
        layout.addLayout(bottom)
        self._clear_answer()
        self.refresh_count()
        self.address.setFocus()

    # ------------------------------------------------------------ checking

    def refresh_count(self) -> None:
        """Count the entries on a worker; the sentence above the check says how many."""
        if not self.count_label.text():  # the sentence's shape meanwhile, so nothing moves
            self._show_count(None)
        ctx = self._ctx

        def failed(error: CrmError) -> bool:
            self.count_label.setText(f"The suppression list could not be read. {error}")
            return True

        self._count_reader.read(lambda: suppression.count(ctx), self._show_count, failed=failed)

    def _show_count(self, n: int | None) -> None:
        entries = "… entries" if n is None else _plural(n, "entry", "entries")
        self.count_label.setText(
            f"The suppression list has {entries}. It keeps only keyed "
            "hashes of the addresses, so it cannot be listed, only checked."
        )

    def check(self) -> list[SuppressionEntry] | None:
        """Look the typed address up; the answer appears under it."""
        self._check_errors.clear()
        self._clear_answer()
        try:
            entries = suppression.lookup(self._ctx, self.address.text())
        except ValidationError as exc:
            errors = dict(exc.errors)
            if not self.address.text().strip():
                errors = {"address": "type an email address or phone number to check"}
            self._check_errors.show(errors)
            return None
        except CrmError as exc:
            messages.show_error(self, exc, "Could not check the address")
            return None
        self.answer.setText(entries_text(entries))
        c = colours()
        self.answer.setStyleSheet(
            f"color: {c.error}; font-weight: 600;" if entries else f"color: {c.ok};"
        )
        self.answer.show()
        return entries

    def answer_text(self) -> str:
        return self.answer.text() if not self.answer.isHidden() else ""

    def check_errors(self) -> dict[str, str]:
        return self._check_errors.shown()

    def _clear_answer(self) -> None:
        self.answer.clear()
        self.answer.hide()

    # -------------------------------------------------------------- adding

    def add_pasted(self) -> BackgroundTask | None:
        """Suppress every address in the paste box (after asking)."""
        addresses = suppression.split_addresses(raw_text(self.paste))
        if not addresses:
            self.report.setText("Paste some addresses first, or load a file.")
            return None
        question = (
            f"Put the {_plural(len(addresses), 'pasted address', 'pasted addresses')} on the "
            "suppression list?\n\n"
            "They will never be marketed to again on any channel; this cannot be undone."
        )
        if not messages.ask(self, "Add to the suppression list", question):
            return None
        source = f"pasted by {self._ctx.user}"

        def work(progress, should_cancel):
            return suppression.suppress_many(
                self._ctx, addresses, source=source, progress=progress, should_cancel=should_cancel
            )

        return self._run(work, "Adding addresses to the suppression list…", clear_paste=True)

    def load_file(self) -> BackgroundTask | None:
        """Suppress every address in a text or CSV file (after asking)."""
        path = messages.open_file(self, "Load addresses to suppress", FILE_FILTERS)
        if not path:
            return None
        name = _printable(Path(path).name)
        question = (
            f"Put every email address and phone number in {name} on the suppression list?"
            "\n\nThey will never be marketed to again on any channel; this cannot be undone."
        )
        if not messages.ask(self, "Add to the suppression list", question):
            return None
        source = f"file {name}"[:200]
        ctx = self._ctx

        def work(progress, should_cancel):
            addresses = suppression.read_address_file(path, should_cancel=should_cancel)
            return suppression.suppress_many(
                ctx, addresses, source=source, progress=progress, should_cancel=should_cancel
            )

        return self._run(work, f"Adding the addresses in {name}…", clear_paste=False)

    def _run(self, work, label: str, *, clear_paste: bool) -> BackgroundTask:
        self._set_busy(True)
        self.report.clear()
        task = run_with_progress(self, "Suppression list", label, work)
        task.succeeded.connect(lambda result: self._added(result, clear_paste))
        task.failed.connect(self._failed)
        task.cancelled.connect(
            lambda: self.report.setText("Cancelled: nothing was added to the suppression list.")
        )
        task.finished.connect(lambda: self._set_busy(False))
        self.task = task
        return task

    def _added(self, result: BulkResult, clear_paste: bool) -> None:
        self.last_result = result
        self.report.setText(report_text(result))
        if clear_paste:
            self.paste.clear()
        self.refresh_count()
        if result.added:
            self.bus.publish(Change.of(Kind.SUPPRESSION))

    def _failed(self, message: str) -> None:
        self.report.setText(f"Nothing was added. {message}")
        messages.show_error(self, message, "Could not add the addresses")

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.add_button, self.load_button, self.paste):
            widget.setEnabled(not busy)

    def report_message(self) -> str:
        return self.report.text()

    def reject(self) -> None:
        """Close, unless addresses are being added (then ask that work to stop)."""
        if self.task is not None and self.task.is_running:
            self.task.cancel()
            return
        super().reject()
