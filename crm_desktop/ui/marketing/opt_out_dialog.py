"""Opt a person out of marketing: all channels or one, honoured at once.

An opt-out is never refused. The channel defaults to all (or the one
picked from the Opt out menu), the source to "Other" and the reason is
optional, so Opt out… then Enter records it. If the reason itself cannot be
stored (control characters pasted in, say) the opt-out is recorded straight
away without it and the dialog stays open to fix the reason: a bad note
must never delay an opt-out. Nor may a busy database: what it cannot take
within a second or two is kept on this computer and retried (see
pending_opt_outs).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from crm_desktop.domain.eligibility import ALL
from crm_desktop.domain.enums import Channel, OptOutSource
from crm_desktop.domain.models import MAX_NOTE
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import CrmError
from crm_desktop.reports.marketing_text import with_labels
from crm_desktop.services.context import Context
from crm_desktop.services.marketing import MarketingView
from crm_desktop.services.pending import Pending
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common import messages
from crm_desktop.ui.marketing.pending_opt_outs import record_opt_out

FIELDS = ("channel", "source", "reason")
LABELS = {"reason": "The reason", "source": "The source", "channel": "The channel"}


class OptOutDialog(QDialog):
    """Record an opt-out for one prospect.

    ``view``: the :class:`MarketingView` after the opt-out, set as soon as it
    is stored (also when only the reason still needs fixing and the dialog
    stays open, so whoever opened it reads it on ``finished``); ``kept``: the
    opt-out kept on this computer instead.
    """

    def __init__(
        self,
        ctx: Context,
        prospect: ProspectView,
        channel: str | None = None,
        parent=None,
    ):
        super().__init__(parent)
        self._ctx = ctx
        self._prospect = prospect
        self.view: MarketingView | None = None
        #: Kept on this computer because the database could not take it yet.
        self.kept: Pending | None = None
        self._done_without_reason = False
        self.setObjectName("optOutDialog")
        self.setWindowTitle(f"Opt out {prospect.full_name}")
        self.setMinimumWidth(440)

        heading = QLabel(f"Opt {prospect.full_name} out of marketing", self)
        heading.setObjectName("dialogHeading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        hint = QLabel(
            "This takes effect at once and their addresses go on the suppression list. "
            "Only a new consent, recorded with evidence, can lift it.",
            self,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.notice = QLabel(self)
        self.notice.setObjectName("formError")
        self._errors = messages.FormErrors(form, FIELDS, self.notice)

        self.channel = QComboBox(self)
        self.channel.addItem("All channels", ALL)
        for c in Channel:
            self.channel.addItem(c.label, c.value)
        self.channel.setCurrentIndex(max(self.channel.findData(channel or ALL), 0))
        form.addRow("&Channels", self.channel)
        self._errors.add("channel", self.channel)

        self.source = QComboBox(self)
        for s in OptOutSource:
            if s is not OptOutSource.IMPORT:  # only an import records that one
                self.source.addItem(s.label, s.value)
        self.source.setCurrentIndex(self.source.findData(OptOutSource.OTHER.value))
        self.source.setToolTip("How they told us")
        form.addRow("&How they told us", self.source)
        self._errors.add("source", self.source)

        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Optional, e.g. “No longer the SBM”")
        self.reason.setMaxLength(MAX_NOTE)
        form.addRow("&Reason", self.reason)
        self._errors.add("reason", self.reason)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = self.buttons.addButton("Opt out", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(hint)
        layout.addWidget(self.notice)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.reason.setFocus()

    def channels(self) -> str:
        return self.channel.currentData()

    def errors(self) -> dict[str, str]:
        return self._errors.shown()

    def _record(self, channels: str, source: str, reason: str | None):
        return record_opt_out(
            self._ctx, self._prospect.id, self._prospect.full_name, channels,
            source=source, reason=reason,
        )  # fmt: skip

    def accept(self) -> None:
        """Opt out now; a reason that cannot be stored never blocks the opt-out.

        If the database cannot take it now, it is kept on this computer and
        shown above the tabs until it is saved (see pending_opt_outs).
        """
        self._errors.clear()
        channels, source = self.channels(), self.source.currentData()
        try:
            result = self._record(channels, source, self.reason.text())
        except ValidationError as exc:
            self._without_reason(channels, source, exc)
            return
        except CrmError as exc:
            messages.show_error(self, exc, "Could not record the opt-out")
            return
        if isinstance(result, MarketingView):
            self.view = result
        else:
            self.kept = result
        super().accept()

    def _without_reason(self, channels: str, source: str, exc: ValidationError) -> None:
        if not self._done_without_reason:
            try:
                result = self._record(channels, source, None)
            except CrmError as err:
                messages.show_error(self, err, "Could not record the opt-out")
                return
            self._done_without_reason = True
            if isinstance(result, MarketingView):
                self.view = result
            else:
                self.kept = result
        errors = with_labels(exc.errors, LABELS)
        errors["_notice"] = (
            f"{self._prospect.full_name} is opted out now. The reason was not saved: "
            "correct it and press Save reason, or Close to keep the opt-out without one."
        )
        self._errors.show(errors)
        self.ok_button.setText("Save reason")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
