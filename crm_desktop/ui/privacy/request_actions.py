"""Answering the selected request from the Requests tab: access pack, restrict, erase.

A manager works from the register: the request says what was asked, so the
answer starts there. Each action acts on the request's prospect through the
usual dialogs and services, and names the request, so the service records
the result on it (``request.pack-made``, ``request.restricted``,
``request.erased``) and the detail pane lists what was done. Closing, with
the outcome, stays the register's own "Close request…".

:class:`RequestActions` is mixed into :class:`~.requests_view.RequestsView`,
which provides ``_ctx``, ``bus``, ``selected_request()``, ``refresh()``,
``_changed(request_id)`` (show it, say it on the bus) and ``statusMessage``.

What the buttons and the detail pane need beyond the request (its prospect
as they are now, what was done to answer it) is read on a worker as a
request is selected (:func:`read_answers`); the buttons wait disabled.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from crm_desktop.domain.dates import format_datetime
from crm_desktop.domain.requests import RequestKind
from crm_desktop.domain.roles import Action
from crm_desktop.errors import CrmError
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import requests as request_service
from crm_desktop.services.requests import RequestView
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.workers import BackgroundTask
from crm_desktop.ui.privacy.access_pack import start_access_pack
from crm_desktop.ui.privacy.rights_dialogs import EraseDialog, RestrictDialog

PAGE = "requests"  # the Requests page's name in the window
PACK_KINDS = frozenset({RequestKind.ACCESS.value, RequestKind.PORTABILITY.value})
ERASE_KINDS = frozenset({RequestKind.ERASURE.value})
# Restriction answers a restriction request, and also holds the data while
# accuracy (rectification) or an objection or erasure is being looked into.
RESTRICT_KINDS = frozenset(k.value for k in RequestKind) - PACK_KINDS


def read_answers(ctx, r: RequestView) -> tuple[ProspectView | None, list]:
    """The request's prospect as they are now, and what was done to answer it (on a worker).

    None and [] for what cannot be read: the buttons and pane say what they can.
    """
    person = None
    if r.prospect_id is not None:
        try:
            person = prospect_service.get_prospect(ctx, r.prospect_id)
        except CrmError:
            person = None
    try:
        done = request_service.request_actions(ctx, r.id)
    except CrmError:
        done = []
    return person, done


class RequestActions:
    """The "answer this request" buttons and their slots (see the module docstring)."""

    pack_button: QPushButton
    restrict_button: QPushButton
    erase_button: QPushButton
    pack_task: BackgroundTask | None = None
    rights_dialog: RestrictDialog | EraseDialog | None = None

    def build_answer_buttons(self) -> None:
        self.pack_button = self._button(
            "Make access p&ack…", "packForRequest", self.make_pack_selected
        )
        self.restrict_button = self._button(
            "Re&strict…", "restrictForRequest", self.restrict_selected
        )
        self.erase_button = self._button("E&rase…", "eraseForRequest", self.erase_selected)
        self._answers_reader = Reader(self, cover=None)

    def answer_buttons(self) -> list[QPushButton]:
        return [self.pack_button, self.restrict_button, self.erase_button]

    # ---------------------------------------------------------- enabling

    def _subject(self, r: RequestView | None) -> ProspectView | None:
        """The selected request's prospect as it is now (None if none or unreadable)."""
        if r is None or r.prospect_id is None:
            return None
        try:
            return prospect_service.get_prospect(self._ctx, r.prospect_id)
        except CrmError:
            return None

    def read_answers_for(self, r: RequestView | None, show) -> None:
        """Read what answering ``r`` needs on a worker, then ``show(person, done)``.

        Meanwhile the answer buttons are disabled.
        """
        if r is None:
            self._answers_reader.cancel()
            self.update_answer_buttons(None, None)
            return
        for button in self.answer_buttons():
            button.setEnabled(False)
            button.setToolTip("")
        ctx = self._ctx
        self._answers_reader.read(lambda: read_answers(ctx, r), lambda got: show(*got))

    def update_answer_buttons(self, r: RequestView | None, person: ProspectView | None) -> None:
        """Enable the buttons that fit ``r`` and its ``person`` (as read by :func:`read_answers`)."""
        ctx = self._ctx
        is_open = r is not None and not r.closed
        erased = person is not None and person.erased_at is not None

        def state(kinds, allowed: bool, what: str) -> tuple[bool, str]:
            if r is None:
                return False, ""
            if not is_open:
                return False, "The request is closed"
            if r.kind not in kinds:
                return False, f"Not for a {RequestKind(r.kind).label.lower()} request"
            if person is None:
                return False, "Link the request to a prospect first (Edit…)"
            if erased:
                return False, f"{person.full_name} was erased"
            if not allowed:
                return False, "Your role may not do this"
            return True, what

        pack = state(
            PACK_KINDS,
            ctx.may(Action.DATA_SUBJECT_REQUESTS),
            "Write everything we hold on the person as a PDF or JSON file, recorded on "
            "this request",
        )
        restrict = state(
            RESTRICT_KINDS,
            ctx.may(Action.RESTRICT),
            "Keep the person's data but stop its use; recorded on this request",
        )
        if restrict[0] and person is not None and person.restricted_at is not None:
            restrict = (False, f"{person.full_name} is already restricted")
        erase = state(
            ERASE_KINDS,
            ctx.may(Action.ERASE),
            "Anonymise the person for good; recorded on this request",
        )
        for button, (enabled, tip) in zip(
            self.answer_buttons(), (pack, restrict, erase), strict=True
        ):
            button.setEnabled(enabled)
            button.setToolTip(tip)

    @staticmethod
    def actions_html(done: list) -> str:
        """What was done to answer the request (as read by :func:`read_answers`)."""
        if not done:
            return ""
        items = "".join(
            f"<li>{escape(format_datetime(a.at))}: {escape(a.text)}"
            f" <span>({escape(a.actor)})</span></li>"
            for a in done
        )
        return f"<p><b>Done to answer it</b></p><ul>{items}</ul>"

    # ------------------------------------------------------------- slots

    def make_pack_selected(self) -> BackgroundTask | None:
        """Make the subject access pack for the selected request, off the GUI thread."""
        r = self.selected_request()
        if r is None or r.prospect_id is None or r.closed:
            return None
        task = start_access_pack(
            self,
            self._ctx,
            r.prospect_id,
            name=r.prospect_name or r.requester_name or "",
            request_id=r.id,
        )
        if task is None:
            return None
        self.pack_task = task
        task.succeeded.connect(lambda path: self._pack_written(r.id, path))
        task.cancelled.connect(lambda: self.statusMessage.emit("Cancelled; no pack was written."))
        task.failed.connect(lambda _text: self.refresh())
        return task

    def _pack_written(self, request_id: int, path: Path) -> None:
        self._changed(request_id)
        self.statusMessage.emit(
            f"Subject access pack written to {path}; recorded on request #{request_id}."
        )

    def restrict_selected(self) -> RestrictDialog | None:
        r = self.selected_request()
        person = self._subject(r)
        if r is None or person is None or r.closed:
            return None
        dialog = RestrictDialog(
            self._ctx, person, lifting=False, parent=self, request_id=r.id,
            bus=self.bus, by=PAGE,
        )  # fmt: skip
        dialog.accepted.connect(lambda: self._restricted(r.id, person.full_name))
        return self._open_rights(dialog)

    def _restricted(self, request_id: int, name: str) -> None:
        self._changed(request_id)
        self.statusMessage.emit(f"Restricted {name}; recorded on request #{request_id}.")

    def erase_selected(self) -> EraseDialog | None:
        r = self.selected_request()
        person = self._subject(r)
        if r is None or person is None or r.closed:
            return None
        dialog = EraseDialog(self._ctx, person, self, request_id=r.id, bus=self.bus, by=PAGE)
        dialog.accepted.connect(lambda: self._erased(r.id, person.id, person.full_name))
        return self._open_rights(dialog)

    def _erased(self, request_id: int, prospect_id: int, name: str) -> None:
        self._changed(request_id)
        self.statusMessage.emit(
            f"Erased {name} (prospect #{prospect_id}): anonymised and their addresses "
            f"suppressed; recorded on request #{request_id}."
        )

    # ----------------------------------------------------------- private

    def _open_rights(self, dialog):
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._rights_dialog_closed)
        self.rights_dialog = dialog
        dialog.open()
        return dialog

    def _rights_dialog_closed(self) -> None:
        self.rights_dialog = None
