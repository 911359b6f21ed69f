"""Record a person's consent to marketing, with the evidence for it.

Consent only counts if we can show how it was given and what the person
was told, so the wording (or a reference to it) is required and the
service refuses the record without it. This is also the only way to lift an
opt-out: when a chosen channel is opted out, the dialog says plainly that
saving records an explicit opt-in, and the Save button says so too.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.enums import Channel, ConsentMethod
from crm_desktop.domain.validation import ValidationError, clean_text
from crm_desktop.errors import CrmError
from crm_desktop.reports.marketing_text import channel_label, with_labels
from crm_desktop.services import marketing
from crm_desktop.services.context import Context
from crm_desktop.services.marketing import ConsentEvidence, MarketingView
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common import messages

FIELDS = ("channel", "method", "evidence", "policy_version", "given_by", "given_at")
LABELS = {
    "channel": "The channels",
    "method": "How they agreed",
    "evidence": "What they were told",
    "policy_version": "The privacy notice version",
    "given_by": "Given by",
    "given_at": "The date and time",
}
WORDING_HINT = (
    "The exact words they agreed to (the tick-box text or what you said on the phone), "
    "or a reference that finds them, e.g. “Spring fair sign-up sheet, v2”. "
    "Without it the consent cannot be shown later, so it is required."
)
REQUIRED_WORDING = "is required: the words they agreed to, or a reference to them"


def raw_text(edit: QPlainTextEdit) -> str:
    """What was typed, with ``\\n`` between lines (keeps non-breaking spaces)."""
    return edit.document().toRawText().replace("\u2029", "\n").replace("\u2028", "\n")


class ConsentDialog(QDialog):
    """Record consent (or an explicit opt-in) on one or more channels.

    ``view`` is the person's current :class:`MarketingView` (to know which
    channels are opted out); ``channels`` are ticked to start with. Once
    saved, ``view`` is the :class:`MarketingView` after it and the dialog is
    accepted.
    """

    def __init__(
        self,
        ctx: Context,
        prospect: ProspectView,
        view: MarketingView,
        channels: Iterable[str] = (),
        parent=None,
    ):
        super().__init__(parent)
        self._ctx = ctx
        self._prospect = prospect
        self._opted_out = {c.channel for c in view.channels if c.opted_out}
        self.view: MarketingView | None = None
        self.setObjectName("consentDialog")
        self.setWindowTitle(f"Record consent from {prospect.full_name}")
        self.setMinimumWidth(500)

        heading = QLabel(f"Record consent from {prospect.full_name}", self)
        heading.setObjectName("dialogHeading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        general = QLabel(self)
        general.setObjectName("formError")
        self._errors = messages.FormErrors(form, FIELDS, general)

        box = QWidget(self)
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.all_channels = QCheckBox("&All channels", box)
        grid.addWidget(self.all_channels, 0, 0, 1, 2)
        self.channel_boxes: dict[str, QCheckBox] = {}
        chosen = set(channels)
        for i, c in enumerate(Channel):
            check = QCheckBox(c.label, box)
            check.setChecked(c.value in chosen)
            check.toggled.connect(self._channels_changed)
            grid.addWidget(check, 1 + i // 2, i % 2)
            self.channel_boxes[c.value] = check
        self.all_channels.setChecked(bool(chosen) and chosen >= set(self.channel_boxes))
        self.all_channels.clicked.connect(self._all_clicked)
        form.addRow("Channels", box)
        self._errors.add("channel", self.all_channels)

        self.opt_in_notice = QLabel(self)
        self.opt_in_notice.setObjectName("optInNotice")
        self.opt_in_notice.setWordWrap(True)
        self.opt_in_notice.setTextFormat(Qt.TextFormat.PlainText)
        self.opt_in_notice.setProperty("notice", True)  # a warning box, from the style sheet
        form.addRow(self.opt_in_notice)
        self._notice_row = form.rowCount() - 1

        self.method = QComboBox(self)
        self.method.setPlaceholderText("Choose how they agreed…")
        for m in ConsentMethod:
            self.method.addItem(m.label, m.value)
        self.method.setCurrentIndex(-1)
        form.addRow("&How they agreed", self.method)
        self._errors.add("method", self.method)

        self.wording = QPlainTextEdit(self)
        self.wording.setObjectName("wording")
        self.wording.setTabChangesFocus(True)
        self.wording.setPlaceholderText("e.g. “Yes, email me news about your products” (ticked)")
        self.wording.setMinimumHeight(80)
        form.addRow("What they were &told", self.wording)
        wording_hint = QLabel(WORDING_HINT, self)
        wording_hint.setObjectName("hint")
        wording_hint.setWordWrap(True)
        form.addRow("", wording_hint)
        self._errors.add("evidence", self.wording)

        self.policy_version = QLineEdit(self)
        self.policy_version.setPlaceholderText("Optional, e.g. v3 or 2026-01")
        self.policy_version.setMaxLength(200)
        form.addRow("&Privacy notice version", self.policy_version)
        self._errors.add("policy_version", self.policy_version)

        self.given_by = QLineEdit(prospect.full_name, self)
        self.given_by.setToolTip("Who gave the consent (usually the prospect themselves)")
        form.addRow("&Given by", self.given_by)
        self._errors.add("given_by", self.given_by)

        self.given_at = QDateTimeEdit(QDateTime.currentDateTime(), self)
        self.given_at.setCalendarPopup(True)
        self.given_at.setDisplayFormat("d MMM yyyy HH:mm")
        self.given_at.setMaximumDateTime(QDateTime.currentDateTime().addSecs(60))
        form.addRow("&When", self.given_at)
        self._errors.add("given_at", self.given_at)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = self.buttons.addButton(
            "Record consent", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(general)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._form = form
        self._channels_changed()
        (self.method if chosen else self.all_channels).setFocus()

    # -------------------------------------------------------------- state

    def chosen_channels(self) -> list[str]:
        return [value for value, box in self.channel_boxes.items() if box.isChecked()]

    def lifts_opt_out(self) -> list[str]:
        """The chosen channels that are opted out (saving lifts their opt-out)."""
        return [c for c in self.chosen_channels() if c in self._opted_out]

    def errors(self) -> dict[str, str]:
        return self._errors.shown()

    def evidence(self) -> ConsentEvidence:
        return ConsentEvidence(
            method=self.method.currentData() or "",
            wording=raw_text(self.wording),
            policy_version=self.policy_version.text(),
            given_by=self.given_by.text(),
            given_at=self.given_at.dateTime().toPython().astimezone(),
        )

    def _all_clicked(self, checked: bool) -> None:
        for box in self.channel_boxes.values():
            box.blockSignals(True)
            box.setChecked(checked)
            box.blockSignals(False)
        self._channels_changed()

    def _channels_changed(self) -> None:
        chosen = self.chosen_channels()
        self.all_channels.setChecked(len(chosen) == len(self.channel_boxes))
        lifting = self.lifts_opt_out()
        if lifting:
            names = ", ".join(channel_label(c) for c in lifting)
            self.opt_in_notice.setText(
                f"{self._prospect.full_name} opted out of {names}. Saving records an "
                "explicit opt-in that lifts the opt-out. Do this only if they asked to hear "
                "from us again, and record below how they asked and what they were told."
            )
            self.save_button.setText("Record opt-in")
        else:
            self.opt_in_notice.clear()
            self.save_button.setText("Record consent")
        self._form.setRowVisible(self._notice_row, bool(lifting))

    # --------------------------------------------------------------- save

    def accept(self) -> None:
        """Save through the service; on an error keep the dialog open."""
        self._errors.clear()
        evidence = self.evidence()
        errors: dict[str, str] = {}
        try:
            # The service reports a bad "given by" under the policy version;
            # check it here so the message appears beside the right field.
            clean_text(evidence.given_by, max_len=200)
        except ValueError as exc:
            errors["given_by"] = str(exc)
        if not self.chosen_channels():
            errors["channel"] = "tick at least one channel (or All channels)"
        if not errors:
            try:
                view = marketing.grant_consent(
                    self._ctx, self._prospect.id, self.chosen_channels(), evidence
                )
            except ValidationError as exc:
                errors = dict(exc.errors)
                if errors.get("evidence", "").startswith("is required"):
                    errors["evidence"] = REQUIRED_WORDING
            except CrmError as exc:
                messages.show_error(self, exc, "Could not record the consent")
                return
            else:
                self.view = view
                super().accept()
                return
        self._errors.show(with_labels(errors, LABELS))
