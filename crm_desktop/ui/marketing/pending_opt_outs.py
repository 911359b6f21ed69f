"""Opt-outs kept on this computer until the database takes them, in plain sight.

An opt-out is never refused. When the database cannot take one (another
program holds the write lock beyond the short wait, it is read-only for the
moment, the disk is full), :func:`record_opt_out` keeps it outside the
database (see services.pending) and the strip above the tabs says so: whose
opt-out, from what, since when, and why it is not saved yet. The strip
retries every few seconds on a worker thread, never on the GUI thread, and
says when each one is saved. What is still kept when the window closes is
written on the next start.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from html import escape

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from crm_desktop.domain.types import utcnow
from crm_desktop.errors import DatabaseError
from crm_desktop.services import marketing, pending
from crm_desktop.services.context import Context
from crm_desktop.services.marketing import MarketingView
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.read_only import banner_style

#: How long a click waits for another program's write before the opt-out is kept.
GUI_WAIT_SECONDS = 1.5
RETRY_MS = 3_000


class _Hub(QObject):
    """Tells every strip that an opt-out was just kept (so it shows at once)."""

    kept = Signal()


hub = _Hub()


def record_opt_out(
    ctx: Context,
    prospect_id: int,
    prospect_name: str,
    channels: str | list[str],
    *,
    source: str,
    reason: str | None,
    objection: bool = False,
) -> MarketingView | pending.Pending:
    """Opt out now, or keep it for later: the new view, or what was kept.

    Raises ValidationError (a bad reason) and the role refusal as usual;
    raises CrmError only if it can be neither saved nor kept.
    """
    try:
        if objection:
            return marketing.object_to_marketing(
                ctx, prospect_id, source=source, reason=reason, wait=GUI_WAIT_SECONDS
            )
        return marketing.opt_out(
            ctx, prospect_id, channels, source=source, reason=reason, wait=GUI_WAIT_SECONDS
        )
    except DatabaseError as exc:
        item = pending.Pending(
            kind=pending.OBJECTION if objection else pending.OPT_OUT,
            user=ctx.user,
            role=ctx.role.value,
            asked_at=utcnow().isoformat(),
            prospect_id=prospect_id,
            prospect_name=prospect_name,
            channels=channels,
            source=source,
            reason=reason,
            error=str(exc),
        )
        pending.keep(ctx.db, item)
        hub.kept.emit()
        return item


def _asked(item: pending.Pending) -> str:
    return item.asked.astimezone().strftime("%H:%M").lstrip("0")


class PendingOptOutsBanner(QFrame):
    """The strip listing kept opt-outs; retries them and says when they are saved.

    Opt-outs just written are said on ``bus`` as ``Change(MARKETING,
    SUPPRESSION)`` (views showing those people refresh), and in a sentence
    each through ``status`` (the window's status line).
    """

    _tried = Signal(object)  # sentences saved, from the worker thread

    def __init__(
        self,
        ctx: Context,
        parent: QWidget | None = None,
        *,
        bus: ChangeBus | None = None,
        status: Callable[[str], None] | None = None,
    ):
        """``bus``: where saved opt-outs are said; ``status``: shows a line of text."""
        super().__init__(parent)
        self.setObjectName("pendingOptOutsBanner")
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._status = status
        self._worker: threading.Thread | None = None
        self.label = QLabel(self)
        self.label.setObjectName("pendingOptOutsText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.retry_button = QPushButton("Try now", self)
        self.retry_button.setObjectName("pendingRetryButton")
        self.retry_button.clicked.connect(self.retry)
        self.dismiss_button = QPushButton("Dismiss", self)
        self.dismiss_button.setObjectName("pendingDismissButton")
        self.dismiss_button.clicked.connect(self._dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self._restyle()
        self.timer = QTimer(self)
        self.timer.setInterval(RETRY_MS)
        self.timer.timeout.connect(self.retry)
        self._tried.connect(self._after_try)
        hub.kept.connect(self.refresh)
        self._saved_text = ""
        self.hide()
        self.refresh()

    # ------------------------------------------------------------- public

    def kept(self) -> list[pending.Pending]:
        """The opt-outs and objections kept for this database (not sign-ins)."""
        return [i for i in pending.items(self._ctx.db) if i.kind != pending.SIGN_IN]

    @Slot()
    def refresh(self) -> None:
        items = self.kept()
        if items:
            lines = [
                f"<b>Not saved yet: {len(items)} opt-out{'s' if len(items) != 1 else ''}"
                "</b>, kept on this computer and retried every few seconds. Until saved, "
                "do not market to:"
            ]
            lines += [f"• {escape(i.describe())} (asked for at {_asked(i)})" for i in items[:5]]
            if len(items) > 5:
                lines.append(f"• and {len(items) - 5} more")
            if items[0].error:
                lines.append(f"<i>Last try: {escape(_why(items[0].error))}</i>")
            self.label.setText("<br>".join(lines))
            self.retry_button.show()
            self.dismiss_button.hide()
            self.show()
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()
            self.retry_button.hide()
            if self._saved_text:
                self.label.setText(self._saved_text)
                self.dismiss_button.show()
                self.show()
            else:
                self.hide()

    @Slot()
    def retry(self) -> None:
        """Try to write what is kept, on a worker thread (one try at a time)."""
        if self._worker is not None and self._worker.is_alive():
            return
        if not pending.count(self._ctx.db):
            self.refresh()
            return
        ctx = self._ctx

        def work() -> None:
            # What the database still refuses stays kept, its reason noted on it.
            done, _still = pending.write_all(ctx)
            self._tried.emit(done)

        self._worker = threading.Thread(target=work, name="pending-opt-outs", daemon=True)
        self._worker.start()

    def wait(self, timeout: float = 10.0) -> None:
        """Let a running try finish (on closing the window)."""
        if self._worker is not None:
            self._worker.join(timeout)

    # ------------------------------------------------------------ private

    @Slot(object)
    def _after_try(self, done: list[str]) -> None:
        if done:
            self._saved_text = "<b>Saved now.</b> " + "<br>".join(escape(s) for s in done)
            self.bus.publish(Change.of(Kind.MARKETING, Kind.SUPPRESSION))
            if self._status is not None:
                self._status(" ".join(done))
        self.refresh()

    def _dismiss(self) -> None:
        self._saved_text = ""
        self.refresh()

    def _restyle(self) -> None:
        style = banner_style(QApplication.palette()).replace(
            "readOnlyBanner", "pendingOptOutsBanner"
        )
        if style != self.styleSheet():
            self.setStyleSheet(style)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._restyle()
        super().changeEvent(event)


def _why(error: str) -> str:
    """Why the database refused, without its "nothing was saved" (it is kept here)."""
    return re.sub(r"[:.] [Nn]othing was saved\b.*$", ".", error, flags=re.DOTALL)
