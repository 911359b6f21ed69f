"""The "Marketing" tab of the detail pane: one person's marketing permissions.

It shows what :func:`marketing.marketing_view` says, nothing it works out
itself: the lawful basis and what it rests on, the PECR subscriber type,
whether personalised marketing is allowed, and per channel the consent or
opt-out and whether they may be marketed to now (the exclusion reasons are
the same ones an export applies). Below are the consent ledger and the
campaign lists the person was in.

Every change goes through a service, then the panel re-reads the person
and says ``Change(MARKETING, ids={prospect id}, by=by)`` on the window's
bus (see :mod:`crm_desktop.ui.common.changes`). Opting out is deliberately the easiest
thing to do: :meth:`make_opt_out_button` gives the detail pane a button
that is on show whichever tab is open.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_date
from crm_desktop.domain.eligibility import Exclusion
from crm_desktop.domain.enums import Channel, SubscriberType
from crm_desktop.domain.roles import Action
from crm_desktop.domain.subscribers import infer_subscriber_type
from crm_desktop.errors import CrmError, NotFoundError
from crm_desktop.reports import marketing_text as words
from crm_desktop.services import assessments as assessment_service
from crm_desktop.services import exports as export_service
from crm_desktop.services import marketing
from crm_desktop.services.context import Context
from crm_desktop.services.exports import ExportRecord
from crm_desktop.services.marketing import ConsentEventView, MarketingView
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.appearance import colours, notifier
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.flow_layout import FlowLayout
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.marketing.basis_dialog import BasisDialog
from crm_desktop.ui.marketing.consent_dialog import ConsentDialog
from crm_desktop.ui.marketing.opt_out_dialog import OptOutDialog
from crm_desktop.ui.marketing.pending_opt_outs import record_opt_out

MAX_EVENTS = 200  # ledger entries drawn; the rest are counted
# Colours come from the palette (appearance.colours): "error" for must-not
# reasons (opted out, suppressed, erased, restricted), "warning" for ones that
# could be fixed (no basis, no consent, no address).
_HARD = {Exclusion.ERASED, Exclusion.RESTRICTED, Exclusion.OPTED_OUT, Exclusion.SUPPRESSED}


def _style() -> str:
    c = colours()
    return f"""
QLabel#marketingHeading {{ font-size: 11pt; font-weight: 600; }}
QLabel#channelName {{ font-weight: 600; }}
QLabel#suppressedBanner {{
    color: {c.error}; background: {c.error_background}; border: 1px solid {c.error};
    border-radius: 3px; padding: 4px 8px; font-weight: 600;
}}
QLabel#basisText {{ font-weight: 600; }}
QLabel.muted, QLabel#hint {{ color: {c.muted}; }}
QFrame#channelLine {{ color: {c.line}; }}
"""


class _ChannelRow:
    """The widgets of one channel in the grid."""

    def __init__(self, channel: Channel, parent: QWidget):
        self.name = QLabel(channel.label, parent)
        self.name.setObjectName("channelName")
        self.status = QLabel(parent)
        self.status.setObjectName(f"status_{channel.value}")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.eligibility = QLabel(parent)
        self.eligibility.setObjectName(f"eligibility_{channel.value}")
        self.eligibility.setWordWrap(True)
        self.eligibility.setTextFormat(Qt.TextFormat.RichText)
        self.reasons: list[str] = []

    def fill(self, status: marketing.ChannelStatus) -> None:
        self.status.setText(words.status_text(status))
        self.status.setToolTip(words.evidence_tooltip(status))
        self.reasons = words.exclusion_labels(status.exclusions)
        if not status.exclusions:
            ok = colours().ok
            self.eligibility.setText(f"<span style='color:{ok}'><b>✓ OK</b> to market now</span>")
            return
        pills = []
        for value, text in zip(status.exclusions, self.reasons, strict=True):
            hard = value in {e.value for e in _HARD}
            c = colours()
            colour, back = (
                (c.error, c.error_background) if hard else (c.warning, c.warning_background)
            )
            words_kept_together = escape(text).replace(" ", "&nbsp;")
            pills.append(
                f"<span style='color:{colour}; background-color:{back}'>"
                f"&nbsp;{words_kept_together}&nbsp;</span>"
            )
        self.eligibility.setText("✕ " + " ".join(pills))


class MarketingPanel(QWidget):
    """One prospect's marketing permissions, with the actions that change them.

    Call :meth:`set_prospect` to show someone (None to clear).

    Any permission change made here (consent, opt-out, objection, basis,
    subscriber type, personalisation) is said on ``bus`` as
    ``Change(MARKETING, ids={prospect id}, by=by)`` once the panel shows it
    (``by``: the page the panel is part of, which already shows it).
    """

    def __init__(self, ctx: Context, parent=None, *, bus: ChangeBus | None = None, by: str = ""):
        """``bus``: where changes are said (the window's); ``by``: the page holding the panel."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._by = by
        self._prospect: ProspectView | None = None
        self._view: MarketingView | None = None
        self._history: list[ConsentEventView] = []
        self._exports: list[ExportRecord] = []
        self._names: dict[int, str] = {}  # assessment names the history mentions
        self._reader = Reader(self)
        self.setObjectName("marketingPanel")
        self.setStyleSheet(_style())
        notifier().changed.connect(self._restyle)

        self.opt_out_action = QAction("Opt out…", self)
        self.opt_out_action.setObjectName("action_opt_out")
        self.opt_out_action.setToolTip(
            "Opt this person out of all marketing now (the arrow picks one channel)"
        )
        self.opt_out_action.triggered.connect(lambda: self.opt_out())
        self.opt_out_menu = QMenu(self)
        all_action = self.opt_out_menu.addAction("All channels…")
        all_action.triggered.connect(lambda: self.opt_out())
        self.opt_out_menu.addSeparator()
        for channel in Channel:
            action = self.opt_out_menu.addAction(f"{channel.label} only…")
            action.triggered.connect(lambda _=False, c=channel.value: self.opt_out(c))
        self.opt_out_menu.addSeparator()
        objection = self.opt_out_menu.addAction("Object to marketing…")
        objection.setToolTip("They object to all direct marketing (also suppresses them)")
        objection.triggered.connect(self.object_to_marketing)

        content = QWidget(self)
        self.consent_button = QPushButton("Record &consent…", content)
        self.consent_button.setToolTip(
            "Record consent with its evidence; also how an opt-out is lifted"
        )
        self.consent_button.clicked.connect(lambda: self.record_consent())
        self.basis_button = QPushButton("Lawful &basis…", content)
        self.basis_button.clicked.connect(self.change_basis)
        self.object_button = QPushButton("&Object to marketing…", content)
        self.object_button.setToolTip(
            "They object to direct marketing: opts out of every channel and suppresses them"
        )
        self.object_button.clicked.connect(self.object_to_marketing)
        buttons = FlowLayout()
        for button in (self.consent_button, self.basis_button, self.object_button):
            buttons.addWidget(button)

        self.suppressed_banner = QLabel(content)
        self.suppressed_banner.setObjectName("suppressedBanner")
        self.suppressed_banner.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.basis_text = QLabel(content)
        self.basis_text.setObjectName("basisText")
        self.basis_detail = QLabel(content)
        self.basis_detail.setObjectName("hint")
        self.basis_detail.setWordWrap(True)
        self.basis_detail.setTextFormat(Qt.TextFormat.PlainText)
        basis_box = QVBoxLayout()
        basis_box.setSpacing(2)
        basis_box.addWidget(self.basis_text)
        basis_box.addWidget(self.basis_detail)
        form.addRow("Lawful basis", basis_box)

        self.subscriber = QComboBox(content)
        self.subscriber.setObjectName("subscriberType")
        self.subscriber.setToolTip(
            "PECR: individual subscribers (personal email) need consent for email and SMS"
        )
        self.subscriber.addItem("", None)  # "inferred" text set per person
        for kind in SubscriberType:
            self.subscriber.addItem(f"{kind.label} (set by a person)", kind.value)
        self.subscriber.activated.connect(self._subscriber_chosen)
        form.addRow("Subscriber type", self.subscriber)

        self.personalisation = QCheckBox("Allowed", content)
        self.personalisation.setObjectName("personalisation")
        self.personalisation.setToolTip(
            "Untick if they refuse profiling or personalised marketing: "
            "they are left out of personalised campaigns"
        )
        self.personalisation.clicked.connect(self._personalisation_clicked)
        form.addRow("Personalised marketing", self.personalisation)

        form.addRow(self._heading("Channels", content))
        self.channel_rows: dict[str, _ChannelRow] = {}
        for i, channel in enumerate(Channel):
            if i:
                line = QFrame(content)
                line.setObjectName("channelLine")
                line.setFrameShape(QFrame.Shape.HLine)
                form.addRow(line)
            row = _ChannelRow(channel, content)
            texts = QVBoxLayout()
            texts.setSpacing(1)
            texts.addWidget(row.status)
            texts.addWidget(row.eligibility)
            form.addRow(row.name, texts)
            self.channel_rows[channel.value] = row

        self.history = QLabel(content)
        self.history.setObjectName("consentHistory")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.TextFormat.RichText)
        self.history.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.exports = QLabel(content)
        self.exports.setObjectName("campaignExports")
        self.exports.setWordWrap(True)
        self.exports.setTextFormat(Qt.TextFormat.RichText)
        self.exports.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        column = QVBoxLayout(content)
        column.setContentsMargins(12, 10, 12, 12)
        column.setSpacing(8)
        column.addLayout(buttons)
        column.addWidget(self.suppressed_banner)
        column.addLayout(form)
        self.history_heading = self._heading("Consent history", content)
        column.addWidget(self.history_heading)
        column.addWidget(self.history)
        self.exports_heading = self._heading("Campaign lists they were in", content)
        column.addWidget(self.exports_heading)
        column.addWidget(self.exports)
        column.addStretch(1)

        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("marketingScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        self._set_enabled(False)

    @staticmethod
    def _heading(text: str, parent: QWidget) -> QLabel:
        label = QLabel(text, parent)
        label.setObjectName("marketingHeading")
        label.setContentsMargins(0, 10, 0, 0)
        return label

    def make_opt_out_button(self, parent: QWidget) -> QToolButton:
        """A button for :attr:`opt_out_action` (click: all channels; arrow: one)."""
        button = QToolButton(parent)
        button.setObjectName("optOutButton")
        button.setDefaultAction(self.opt_out_action)
        button.setMenu(self.opt_out_menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    # -------------------------------------------------------------- public

    @property
    def view(self) -> MarketingView | None:
        return self._view

    @property
    def history_events(self) -> list[ConsentEventView]:
        return list(self._history)

    @property
    def export_records(self) -> list[ExportRecord]:
        return list(self._exports)

    def set_prospect(self, prospect: ProspectView | None) -> None:
        """Show ``prospect``'s permissions (re-read from the database, on a worker)."""
        if prospect is None or self._view is None or self._view.prospect_id != prospect.id:
            self._view = None  # not another prospect's, even while this one is read
        self._prospect = prospect
        if prospect is None:
            self._reader.cancel()
            self._view, self._history, self._exports, self._names = None, [], [], {}
            self._set_enabled(False)
            return
        self._load(prospect.id, None)

    def show_read(self, prospect: ProspectView, loaded: MarketingRead) -> None:
        """Show what :func:`read_marketing` read for ``prospect`` (on the caller's worker)."""
        self._reader.cancel()
        self._prospect = prospect
        self._fill(loaded)

    def refresh(self) -> None:
        self.set_prospect(self._prospect)

    def plain_text(self) -> str:
        """Everything the panel says, as plain text (for tests and checks)."""
        if self._view is None:
            return ""
        lines = [self.suppressed_banner.text()] if self.suppressed_banner.isVisibleTo(self) else []
        lines += [
            f"Lawful basis: {self.basis_text.text()}",
            self.basis_detail.text(),
            f"Subscriber type: {self.subscriber.currentText()}",
            f"Personalised marketing: {'allowed' if self.personalisation.isChecked() else 'refused'}",
        ]
        for value, row in self.channel_rows.items():
            state = "OK" if not row.reasons else "; ".join(row.reasons)
            lines.append(f"{words.channel_label(value)}: {row.status.text()} — {state}")
        lines.append("Consent history")
        names = self._names
        lines.extend(
            words.event_text(e, names, channels)
            for e, channels in words.group_events(self._history)
        )
        lines.append("Campaign lists")
        lines.extend(_export_text(r) for r in self._exports)
        return "\n".join(lines)

    # ------------------------------------------------------------- actions

    def opt_out(self, channel: str | None = None) -> OptOutDialog | None:
        """Open the opt-out dialog (all channels, or ``channel`` preselected)."""
        if self._prospect is None:
            return None
        dialog = OptOutDialog(self._ctx, self._prospect, channel, self.window())
        # On finished, not accepted: it may record the opt-out, then stay open to
        # fix a reason that could not be stored, and be closed without it.
        dialog.finished.connect(lambda _result: self._opt_out_finished(dialog))
        return _open(dialog)

    def object_to_marketing(self) -> bool:
        """After a confirmation: opt out of every channel and suppress their addresses."""
        if self._prospect is None:
            return False
        name = self._prospect.full_name
        if not messages.ask(
            self,
            "Object to marketing",
            f"Record that {name} objects to direct marketing?\n\n"
            "This opts them out of every channel at once and puts their email and phone "
            "on the suppression list. Only a new consent, recorded with evidence, can "
            "lift it.",
        ):
            return False
        try:
            result = record_opt_out(
                self._ctx, self._prospect.id, name, "all", source="other", reason=None,
                objection=True,
            )  # fmt: skip
        except CrmError as exc:
            messages.show_error(self, exc, "Could not record the objection")
            self.refresh()
            return False
        # Else kept on this computer (the database is busy): the strip above the tabs shows it.
        if isinstance(result, MarketingView):
            self._changed(result)
        return True

    def record_consent(self, channels: list[str] | None = None) -> ConsentDialog | None:
        if self._prospect is None or self._view is None:
            return None
        dialog = ConsentDialog(self._ctx, self._prospect, self._view, channels or [], self.window())
        dialog.accepted.connect(lambda: self._changed(dialog.view))
        return _open(dialog)

    def change_basis(self) -> BasisDialog | None:
        if self._prospect is None or self._view is None:
            return None
        dialog = BasisDialog(self._ctx, self._prospect, self._view, self.window(), bus=self.bus)
        dialog.accepted.connect(lambda: self._changed(dialog.view))
        return _open(dialog)

    def set_subscriber_type(self, value: str | None) -> bool:
        """Override the PECR subscriber type (None: infer it from the email again)."""
        return self._call(
            lambda ctx, pid: marketing.set_subscriber_type(ctx, pid, value),
            "Could not change the subscriber type",
        )

    def set_personalisation_allowed(self, allowed: bool) -> bool:
        return self._call(
            lambda ctx, pid: marketing.set_personalisation(ctx, pid, refused=not allowed),
            "Could not change personalised marketing",
        )

    # ------------------------------------------------------------ private

    def _subscriber_chosen(self, index: int) -> None:
        value = self.subscriber.itemData(index)
        view = self._view
        if view is None:
            return
        unchanged = (value is None and view.subscriber_type_inferred) or (
            value is not None
            and not view.subscriber_type_inferred
            and value == view.subscriber_type
        )
        if not unchanged:
            self.set_subscriber_type(value)

    def _personalisation_clicked(self, checked: bool) -> None:
        self.set_personalisation_allowed(checked)

    def _call(self, func, title: str) -> bool:
        if self._prospect is None:
            return False
        try:
            view = func(self._ctx, self._prospect.id)
        except CrmError as exc:
            messages.show_error(self, exc, title)
            self.refresh()
            return False
        self._changed(view)
        return True

    def _opt_out_finished(self, dialog: OptOutDialog) -> None:
        # No view: nothing recorded, or kept on this computer (the strip above the tabs shows it).
        if dialog.view is not None:
            self._changed(dialog.view)

    def _changed(self, view: MarketingView) -> None:
        """Show ``view`` (what the service returned), then say what changed."""
        self._show(view)
        self.bus.publish(Change.of(Kind.MARKETING, ids=(view.prospect_id,), by=self._by))

    def _show(self, view: MarketingView) -> None:
        self._view = view
        self._load(view.prospect_id, view)

    def _load(self, prospect_id: int, view: MarketingView | None) -> None:
        """Read ``view`` (unless given), the consent history and the campaign lists, then draw."""
        ctx = self._ctx

        def failed(error: CrmError) -> bool:
            if isinstance(error, NotFoundError):
                self.set_prospect(None)
                return True
            return False

        self._reader.read(lambda: read_marketing(ctx, prospect_id, view), self._fill, failed=failed)

    def _fill(self, loaded: MarketingRead) -> None:
        view, self._history, self._exports, self._names = loaded
        self._view = view
        self._set_enabled(True)
        banner = words.suppressed_text(view)
        self.suppressed_banner.setText(banner)
        self.suppressed_banner.setVisible(bool(banner))
        self.basis_text.setText(words.basis_text(view))
        self.basis_detail.setText(words.basis_detail(view))
        email = self._prospect.email if self._prospect else None
        inferred = infer_subscriber_type(email).label
        self.subscriber.setItemText(0, f"{inferred} (inferred from the email domain)")
        self.subscriber.setCurrentIndex(
            0 if view.subscriber_type_inferred else self.subscriber.findData(view.subscriber_type)
        )
        self.personalisation.setChecked(not view.personalisation_refused)
        self.personalisation.setText(
            "Allowed"
            if not view.personalisation_refused
            else "Refused (left out of personalised campaigns)"
        )
        for status in view.channels:
            self.channel_rows[status.channel].fill(status)
        self._draw_history()
        self._draw_exports()

    def _draw_history(self) -> None:
        events = self._history
        groups = words.group_events(events)
        self.history_heading.setText(
            f"Consent history ({len(groups)})" if groups else "Consent history"
        )
        if not events:
            self.history.setText(
                f"<span style='color:{colours().muted}'>Nothing recorded yet: no consent, opt-out "
                "or basis.</span>"
            )
            return
        names = self._names
        parts = [
            words.event_html(e, names, channels, muted=colours().muted)
            for e, channels in groups[:MAX_EVENTS]
        ]
        if len(groups) > MAX_EVENTS:
            parts.append(
                f"<p style='color:{colours().muted}'>… and {len(groups) - MAX_EVENTS:,} earlier entries.</p>"
            )
        self.history.setText("".join(parts))

    def _draw_exports(self) -> None:
        records = self._exports
        self.exports_heading.setText(
            f"Campaign lists they were in ({len(records)})" if records else "Campaign lists"
        )
        if not records:
            self.exports.setText(
                f"<span style='color:{colours().muted}'>Not included in any exported campaign "
                "list yet.</span>"
            )
            return
        rows = [
            f"<b>{escape(r.campaign)}</b> · {escape(words.channel_label(r.channel))}"
            f" <span style='color:{colours().muted}'>— {escape(_export_date(r))} by "
            f"{escape(r.created_by)}</span>"
            for r in records
        ]
        self.exports.setText("<br>".join(rows))

    def _restyle(self) -> None:
        """The palette changed (View > Appearance or the desktop): use its colours."""
        self.setStyleSheet(_style())

    def apply_role(self) -> None:
        """Consent and basis controls only for roles that may change them."""
        may_consent = self._ctx.may(Action.MANAGE_CONSENT)
        self.consent_button.setVisible(may_consent)
        self.basis_button.setVisible(may_consent)
        self._set_enabled(self._prospect is not None)

    def _set_enabled(self, enabled: bool) -> None:
        may_consent = self._ctx.may(Action.MANAGE_CONSENT)
        may_opt_out = self._ctx.may(Action.RECORD_OPT_OUT)
        self.opt_out_action.setEnabled(enabled and may_opt_out)
        self.object_button.setEnabled(enabled and may_opt_out)
        for widget in (
            self.consent_button,
            self.basis_button,
            self.subscriber,
            self.personalisation,
        ):
            widget.setEnabled(enabled and may_consent)


MarketingRead = tuple[MarketingView, list[ConsentEventView], list[ExportRecord], dict[int, str]]


def read_marketing(
    ctx: Context, prospect_id: int, view: MarketingView | None = None
) -> MarketingRead:
    """Everything the panel shows about ``prospect_id`` (``view`` if already known).

    Plain service reads, no Qt: callers run it on a worker thread.
    """
    shown = view or marketing.marketing_view(ctx, prospect_id)
    history = marketing.consent_history(ctx, prospect_id)
    exports = export_service.exports_for_prospect(ctx, prospect_id)
    return shown, history, exports, _assessment_names(ctx, history)


def _assessment_names(ctx: Context, history: list[ConsentEventView]) -> dict[int, str]:
    """Names of the assessments ``history`` mentions (none read if it mentions none)."""
    if not any(e.details.get("assessment_id") for e in history):
        return {}
    return {a.id: a.name for a in assessment_service.list_assessments(ctx)}


def _export_date(r: ExportRecord) -> str:
    return format_date(r.created_at.astimezone().date())


def _export_text(r: ExportRecord) -> str:
    return f"{r.campaign} · {words.channel_label(r.channel)} — {_export_date(r)} by {r.created_by}"


def _open(dialog):
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
