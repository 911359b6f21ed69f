"""Restricting processing, lifting a restriction, and erasing a person."""

from __future__ import annotations

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import Cancelled, CrmError
from crm_desktop.services import rights
from crm_desktop.services.context import Context
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress


class RestrictDialog(QDialog):
    """Restrict (or, with ``lifting``, lift a restriction on) one person, with a reason.

    Once set or lifted it is said on ``bus`` as ``Change(PROSPECTS,
    ids={id}, select=id, by=by)`` (``by``: the page that opened it and shows
    the result itself), and the dialog closes.
    """

    def __init__(
        self,
        ctx: Context,
        prospect: ProspectView,
        *,
        lifting: bool,
        parent: QWidget | None = None,
        request_id: int | None = None,
        bus: ChangeBus | None = None,
        by: str = "",
    ):
        super().__init__(parent)
        self._ctx, self._prospect, self._lifting = ctx, prospect, lifting
        self._request_id = request_id
        self.bus, self._by = bus_for(self, bus), by
        self.setWindowTitle("Lift the restriction" if lifting else "Restrict processing")
        self.setMinimumWidth(460)
        intro = QLabel(
            f"Lift the restriction on <b>{_escape(prospect.full_name)}</b>? Their data can be "
            "used and changed again."
            if lifting
            else f"Restrict processing of <b>{_escape(prospect.full_name)}</b>'s data: it is kept, "
            "but left out of every export and cannot be changed until the restriction is lifted. "
            "Opt-outs are still recorded."
        )
        intro.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText(
            "Why (e.g. the person contests the accuracy of their data; request #12)"
        )
        if request_id is not None and not lifting:
            self.reason.setPlainText(f"Restriction request #{request_id}")
            self.reason.moveCursor(QTextCursor.MoveOperation.End)
        self.reason.setTabChangesFocus(True)
        self.reason.setMaximumHeight(90)
        self.error = QLabel()
        self.error.setProperty("formError", True)
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            "Lift restriction" if lifting else "Restrict"
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(QLabel("&Reason:", buddy=self.reason))
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.reason.setFocus()

    def accept(self) -> None:
        try:
            if self._lifting:
                rights.unrestrict(self._ctx, self._prospect.id, self.reason.toPlainText())
            else:
                rights.restrict(
                    self._ctx,
                    self._prospect.id,
                    self.reason.toPlainText(),
                    request_id=self._request_id,
                )
        except ValidationError as exc:
            self.error.setText("The reason " + exc.errors.get("reason", str(exc)) + ".")
            self.error.show()
            return
        except CrmError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.bus.publish(_prospect_changed(self._prospect.id, self._by))
        super().accept()


class EraseDialog(QDialog):
    """Erase a person for good: type their full name, exactly as shown, to confirm.

    The typed name must match case and spaces too: "jane smith" is not a
    confirmation that "Jane Smith" is the person on screen.

    Once the erasure (and the clean-up of the files) has finished it is
    said on ``bus`` as ``Change(PROSPECTS, ids={id}, select=id, by=by)``,
    and the dialog closes.
    """

    def __init__(
        self,
        ctx: Context,
        prospect: ProspectView,
        parent: QWidget | None = None,
        *,
        request_id: int | None = None,
        bus: ChangeBus | None = None,
        by: str = "",
    ):
        super().__init__(parent)
        self._ctx, self._prospect = ctx, prospect
        self._request_id = request_id
        self.bus, self._by = bus_for(self, bus), by
        self.task: BackgroundTask | None = None
        self.setWindowTitle("Erase a person")
        self.setMinimumWidth(480)
        warning = QLabel(
            f"Erasing <b>{_escape(prospect.full_name)}</b> removes their name, email, phone, "
            "notes and correspondence for good; their addresses go onto the suppression list "
            "so they can never be marketed to again. <b>This cannot be undone.</b>"
        )
        warning.setWordWrap(True)
        self.confirm = QLineEdit()
        self.confirm.setPlaceholderText(prospect.full_name)
        self.confirm.textChanged.connect(self._update)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.erase_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.erase_button.setText("Erase")
        self.erase_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(warning)
        layout.addWidget(
            QLabel("Type their full name exactly as shown to confirm:", buddy=self.confirm)
        )
        layout.addWidget(self.confirm)
        if request_id is not None:
            linked = QLabel(f"The erasure is recorded on request #{request_id}.")
            linked.setObjectName("eraseRequestNote")
            layout.addWidget(linked)
        layout.addWidget(self.buttons)
        self.confirm.setFocus()

    def _matches(self) -> bool:
        return self.confirm.text() == self._prospect.full_name

    def _update(self) -> None:
        self.erase_button.setEnabled(self._matches())

    def accept(self) -> None:
        if not self._matches() or self.task is not None:
            return
        ctx, pid, typed = self._ctx, self._prospect.id, self.confirm.text()
        request_id = self._request_id
        self.buttons.setEnabled(False)
        # Erasure rewrites the database files (VACUUM): off the GUI thread.
        self.task = run_with_progress(
            self,
            "Erase a person",
            "Erasing and cleaning the database files…",
            lambda progress, should_cancel: _erase(ctx, pid, typed, should_cancel, request_id),
        )
        self.task.cancelled.connect(self._cancelled)
        self.task.succeeded.connect(self._done)
        self.task.failed.connect(self._failed)

    def _done(self, erasure: rights.Erasure) -> None:
        done = erasure.cleanup
        if done is not None and not done.finished:
            # Erased all the same: say so, and what is still to happen.
            messages.warn(
                self,
                "Erased; clean-up not finished",
                f"{self._prospect.full_name} was erased: anonymised and their addresses "
                f"suppressed.\n\nThe clean-up of the database files has not finished: "
                f"{done.pending}.",
            )
        self.bus.publish(_prospect_changed(self._prospect.id, self._by))
        super().accept()

    def _cancelled(self) -> None:
        self.task = None
        self.buttons.setEnabled(True)

    def _failed(self, text: str) -> None:
        self.task = None
        self.buttons.setEnabled(True)
        messages.show_error(self, text, "Not erased")


def _prospect_changed(prospect_id: int, by: str) -> Change:
    return Change.of(Kind.PROSPECTS, ids=(prospect_id,), select=prospect_id, by=by)


def _erase(
    ctx: Context, prospect_id: int, typed: str, should_cancel, request_id: int | None
) -> rights.Erasure:
    if should_cancel():  # cancelled before it began; once begun it runs to the end
        raise Cancelled("Not erased.")
    return rights.erase(ctx, prospect_id, confirm=typed, request_id=request_id)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
