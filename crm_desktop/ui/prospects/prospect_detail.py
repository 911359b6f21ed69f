"""The detail pane beside the prospect table.

Shows one prospect's details and their correspondence timeline, newest
first, as rich text in a read-only :class:`QTextBrowser`: it wraps long names
and summaries anywhere they need to, the text can be selected and copied,
and a long timeline scrolls as one document instead of hundreds of widgets.
Everything a person typed is HTML-escaped before it is shown.

The pane has two tabs: Details (that browser) and Marketing (the
:class:`MarketingPanel`: lawful basis, consent, opt-outs and their history).
"Opt out…" sits on the tab bar itself, so it is one click away whichever
tab is open; the Details tab also sums up who may be marketed to on what.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from html import escape

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QTextCursor, QTextOption
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_date, format_datetime
from crm_desktop.domain.enums import ContactKind, DataSource
from crm_desktop.domain.roles import Action
from crm_desktop.domain.validation import format_phone
from crm_desktop.errors import CrmError, NotFoundError
from crm_desktop.reports import marketing_text
from crm_desktop.services import contact_points as contact_point_service
from crm_desktop.services import correspondence as correspondence_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services.context import Context
from crm_desktop.services.results import ContactView, ProspectView
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.appearance import colours
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.registry import PaneSpec
from crm_desktop.ui.prospects.prospect_model import stage_label


def _style() -> str:
    """The pane's CSS in the current palette's colours (see :mod:`.appearance`)."""
    c = colours()
    return f"""
h2 {{ margin: 0; font-size: 15pt; font-weight: 600; }}
.sub {{ color: {c.muted}; margin-top: 2px; margin-bottom: 8px; }}
td.k {{ color: {c.muted}; padding: 3px 12px 3px 0; white-space: nowrap; }}
td.v {{ padding: 3px 0; }}
h3 {{ margin-top: 18px; margin-bottom: 8px; font-size: 12pt; font-weight: 600; }}
table.entry {{ margin-bottom: 8px; }}
.kind {{ font-weight: 600; }}
.meta {{ color: {c.muted}; }}
.subject {{ font-weight: 600; }}
.overdue {{ color: {c.error}; font-weight: 600; }}
.done {{ color: {c.ok}; }}
.empty {{ color: {c.muted}; }}
"""


def _label(enum_cls, value: str | None) -> str:
    if not value:
        return ""
    try:
        return enum_cls(value).label
    except ValueError:
        return value


def _text(value: str | None) -> str:
    """Escape text for rich text, keeping the writer's line breaks."""
    return escape(value or "").replace("\n", "<br>")


DETAILS_TAB, MARKETING_TAB = range(2)
# Links inside the pane that act instead of opening something.
MARK_DONE_SCHEME = "crm-mark-done"
SHOW_OLDER_SCHEME = "crm-show-older"
REMOVE_ADDRESS_SCHEME = "crm-remove-address"  # path: "email/<n>" or "phone/<n>"
#: Timeline entries read at a time: the newest page when a prospect is opened,
#: the next older one on "Show older" or when the timeline is scrolled to its end.
TIMELINE_PAGE = 20


class ProspectDetail(QWidget):
    """One prospect and their correspondence; an empty state when none is chosen.

    ``actions`` (Edit, Log contact, ...) appear as buttons above the details,
    so the commands are next to the thing they act on.

    What it changes it says on ``bus`` (the pane has already refreshed
    itself): a follow-up marked done as ``Change(CONTACTS, ids={prospect id},
    by=by)``, and its Marketing tab says ``Change(MARKETING, ...)`` likewise.
    ``by``: the page the pane is part of (it already shows the change).
    """

    def __init__(
        self,
        ctx: Context,
        actions: Sequence[QAction] = (),
        parent=None,
        *,
        marketing: PaneSpec,
        bus: ChangeBus | None = None,
        by: str = "",
    ):
        """``marketing``: the Marketing tab, lent by the marketing feature;
        ``bus``: where changes are said (the window's)."""
        super().__init__(parent)
        self._read_marketing = marketing.read
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._by = by
        self._prospect: ProspectView | None = None
        self._contacts: list[ContactView] = []
        self._total = 0  # entries in their whole timeline (self._contacts: the newest)
        # The prospect asked for: shown, or still being read (see show_prospect).
        self._wanted: int | None = None
        self._reader = Reader(self)
        self._version_reader = Reader(self, cover=None)
        self._older_reader = Reader(self, cover=None)

        self._stack = QStackedWidget(self)
        self._empty = QLabel(self)
        self._empty.setObjectName("detailEmpty")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setMargin(24)

        page = QWidget(self)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for action in actions:
            button = QToolButton(page)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self._browser = QTextBrowser(page)
        self._browser.setObjectName("prospectDetailText")
        # Links are handled here: "Mark done" acts, email addresses open outside.
        self._browser.setOpenLinks(False)
        self._browser.anchorClicked.connect(self._link_clicked)
        self._browser.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self._browser.document().setDefaultStyleSheet(_style())
        self._browser.document().setDocumentMargin(12)
        self._browser.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.marketing = marketing.make(ctx, page, bus=self.bus, by=by)
        self.bus.changed.connect(self._bus_changed)
        self.tabs = QTabWidget(page)
        self.tabs.setObjectName("detailTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._browser, "Details")
        self.tabs.addTab(self.marketing, "Marketing")
        self.opt_out_button = self.marketing.make_opt_out_button(self.tabs)
        self.tabs.setCornerWidget(self.opt_out_button, Qt.Corner.TopRightCorner)
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.setSpacing(6)
        page_layout.addLayout(buttons)
        page_layout.addWidget(self.tabs, 1)

        self._stack.addWidget(self._empty)
        self._stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)
        self._show_empty("Select a prospect to see their details and correspondence.")

    # -------------------------------------------------------------- public

    @property
    def prospect(self) -> ProspectView | None:
        return self._prospect

    @property
    def prospect_id(self) -> int | None:
        """The prospect shown, or being read to be shown."""
        return self._wanted

    @property
    def contacts(self) -> list[ContactView]:
        """The timeline entries shown so far, newest first (a page or more)."""
        return list(self._contacts)

    @property
    def timeline_total(self) -> int:
        """How many entries the shown prospect's whole timeline has."""
        return self._total

    @property
    def has_older(self) -> bool:
        """True when older timeline entries than those shown remain to be read."""
        return self._prospect is not None and len(self._contacts) < self._total

    def show_prospect(self, prospect_id: int | None, *, entries: int = TIMELINE_PAGE) -> None:
        """Show ``prospect_id`` (None: the "select a prospect" empty state).

        The prospect, the newest ``entries`` of their timeline (a page) and
        its length are read on a worker thread (see
        :mod:`crm_desktop.ui.common.reads`); the pane shows them when the
        read is done, unless another prospect was asked for meanwhile. Older
        entries come a page at a time (:meth:`show_older`).
        """
        self._wanted = prospect_id
        self._older_reader.cancel()
        if prospect_id is None:
            self._reader.cancel()
            self._clear("Select a prospect to see their details and correspondence.")
            return
        ctx, read_marketing = self._ctx, self._read_marketing
        entries = max(entries, TIMELINE_PAGE)

        def read() -> tuple[ProspectView, list[ContactView], int, object]:
            return (
                prospect_service.get_prospect(ctx, prospect_id),
                correspondence_service.list_correspondence(ctx, prospect_id, limit=entries),
                correspondence_service.count_correspondence(ctx, prospect_id),
                read_marketing(ctx, prospect_id),
            )

        self._reader.read(read, self._loaded, failed=self._load_failed)

    def _loaded(self, result: tuple[ProspectView, list[ContactView], int, object]) -> None:
        prospect, contacts, total, marketing = result
        same = self._prospect is not None and self._prospect.id == prospect.id
        self._prospect, self._contacts = prospect, contacts
        self._total = max(total, len(contacts))
        self.marketing.show_read(self._prospect, marketing)  # the whole pane at once
        self._draw(keep_scroll=same)
        self._stack.setCurrentIndex(1)

    def show_older(self) -> None:
        """Read the next page of older timeline entries and add it at the end."""
        if not self.has_older or self._older_reader.pending or self._reader.pending:
            return
        ctx, prospect_id, last = self._ctx, self._prospect.id, self._contacts[-1]

        def read() -> list[ContactView]:
            return correspondence_service.list_correspondence(
                ctx, prospect_id, limit=TIMELINE_PAGE, older_than=last
            )

        def loaded(older: list[ContactView]) -> None:
            if self._prospect is None or self._prospect.id != prospect_id:
                return  # another prospect was chosen meanwhile
            self._contacts = [*self._contacts, *older]
            total = max(self._total, len(self._contacts))
            if len(older) < TIMELINE_PAGE:  # the end: entries were deleted meanwhile
                total = len(self._contacts)
            if total != self._total:
                self._total = total
                self._draw(keep_scroll=True)  # the count at the top changed too
            else:
                self._replace_footer(older)

        self._older_reader.read(read, loaded, failed=self._older_failed)
        self._replace_footer()  # "Loading older entries…" in place of the link

    def _older_failed(self, error: CrmError) -> bool:
        self._replace_footer()  # the link again, to try once more
        return False  # shown as a message

    def _replace_footer(self, older: Sequence[ContactView] = ()) -> None:
        """Put ``older`` entries and a new footer where the footer is (the last block).

        Only what is added is laid out: redrawing the whole timeline for each
        page would cost more with every page, up to the full 1,000 entries.
        """
        today, can_close, card = (
            date.today(),
            self._ctx.may(Action.MANAGE_FOLLOWUPS),
            colours().card,
        )
        html = "".join(self._entry(c, today, can_close, card) for c in older)
        html += self._older_footer(len(self._contacts))
        bar = self._browser.verticalScrollBar()
        scroll = bar.value()
        bar.blockSignals(True)  # not the person scrolling to the end
        try:
            cursor = QTextCursor(self._browser.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.movePosition(
                QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor
            )
            cursor.beginEditBlock()
            cursor.removeSelectedText()
            seam = cursor.position()
            if html:
                cursor.insertHtml(html)
                # insertHtml leaves the emptied footer block before the first new
                # entry: one empty block too many beside the one after each entry.
                cursor.setPosition(seam)
                if cursor.block().length() == 1 and cursor.block().previous().length() == 1:
                    cursor.deletePreviousChar()
                    spacer = cursor.blockFormat()  # it kept the footer's margins
                    spacer.setTopMargin(0)
                    spacer.setBottomMargin(0)
                    cursor.setBlockFormat(spacer)
            cursor.endEditBlock()
            bar.setValue(scroll)
        finally:
            bar.blockSignals(False)

    def _scrolled(self, value: int) -> None:
        bar = self._browser.verticalScrollBar()
        if value > 0 and value >= bar.maximum() and self.has_older:
            self.show_older()  # reached the end of the timeline shown so far

    def _load_failed(self, error: CrmError) -> bool:
        if not isinstance(error, NotFoundError):
            return False  # shown as a message
        self._wanted = None
        self._clear("This prospect no longer exists; someone may have deleted them.")
        return True

    def _clear(self, text: str) -> None:
        self._prospect = None
        self._contacts = []
        self._total = 0
        self.marketing.set_prospect(None)
        self._show_empty(text)

    def reload(self) -> None:
        """Re-read the shown prospect (after an edit or a logged contact).

        As many timeline entries as are shown now are read again (one more
        for a contact just logged), so the pane keeps its place.
        """
        self.show_prospect(self.prospect_id, entries=len(self._contacts) + 1)

    def show_marketing(self) -> None:
        """Bring the Marketing tab to the front."""
        self.tabs.setCurrentIndex(MARKETING_TAB)

    def plain_text(self) -> str:
        """What the pane says, as plain text (for tests and accessibility checks)."""
        if self._stack.currentIndex() == 0:
            return self._empty.text()
        return self._browser.toPlainText()

    # ------------------------------------------------------------- drawing

    def _draw(self, *, keep_scroll: bool = True) -> None:
        if self._prospect is None:
            return
        bar = self._browser.verticalScrollBar()
        scroll = bar.value() if keep_scroll else 0
        bar.blockSignals(True)  # a redraw is not the person scrolling to the end
        try:
            self._browser.document().setDefaultStyleSheet(_style())  # the palette may change
            self._browser.setHtml(self._html(self._prospect, self._contacts))
            bar.setValue(scroll)
        finally:
            bar.blockSignals(False)

    def _link_clicked(self, url: QUrl) -> None:
        if url.scheme() == REMOVE_ADDRESS_SCHEME:
            self._remove_address(url.path())
            return
        if url.scheme() == SHOW_OLDER_SCHEME:
            self.show_older()
            return
        if url.scheme() != MARK_DONE_SCHEME:
            QDesktopServices.openUrl(url)
            return
        prospect_id = self.prospect_id
        try:
            correspondence_service.complete_followup(self._ctx, int(url.path()))
        except (CrmError, ValueError) as exc:
            messages.show_error(self, exc, "Could not mark the follow-up done")
        self.reload()
        if prospect_id is not None:  # their next follow-up may have moved
            self.bus.publish(Change.of(Kind.CONTACTS, ids=(prospect_id,), by=self._by))

    def _remove_address(self, path: str) -> None:
        """Remove one of the shown extra addresses, once the user confirms."""
        p = self._prospect
        kind, _, index = path.partition("/")
        values = {"email": p.other_emails, "phone": p.other_phones} if p else {}
        try:
            value = values[kind][int(index)]
        except (KeyError, ValueError, IndexError):
            return  # a link from an older drawing of the pane
        shown = format_phone(value) if kind == "phone" else value
        what = "email addresses" if kind == "email" else "phone numbers"
        if not messages.ask(
            self,
            "Remove address",
            f"Remove {shown} from {p.full_name}'s other {what}?\n\n"
            "The change is recorded in the audit trail. If the address is on the "
            "suppression list it stays there.",
        ):
            return
        try:
            contact_point_service.remove_address(self._ctx, p.id, value)
        except CrmError as exc:
            messages.show_error(self, exc, "Could not remove the address")
            self.reload()
            return
        self.reload()
        self.bus.publish(Change.of(Kind.PROSPECTS, ids=(p.id,), by=self._by))

    def _bus_changed(self, change: Change) -> None:
        if Kind.MARKETING in change.kinds and self._wanted in change.ids:
            self._marketing_changed(self._wanted)

    def _marketing_changed(self, prospect_id: int) -> None:
        # The change bumped the prospect's version: re-read it, so an edit
        # started from this pane does not meet a false "changed by someone".
        ctx = self._ctx

        def reread(prospect: ProspectView) -> None:
            if self._wanted == prospect_id and not self._reader.pending:
                self._prospect = prospect
                self._draw()

        def failed(error: CrmError) -> bool:
            if isinstance(error, NotFoundError) and self._wanted == prospect_id:
                self.show_prospect(None)
                return True
            return False

        self._version_reader.read(
            lambda: prospect_service.get_prospect(ctx, prospect_id), reread, failed=failed
        )

    def _show_empty(self, text: str) -> None:
        self._empty.setText(text)
        self._stack.setCurrentIndex(0)

    def _html(self, p: ProspectView, contacts: list[ContactView]) -> str:
        subtitle = " · ".join(escape(part) for part in (p.role, p.school_name) if part)
        parts = [self._banner(p), f"<h2>{escape(p.full_name)}</h2>"]
        if subtitle:
            parts.append(f"<p class='sub'>{subtitle}</p>")
        parts.append("<table cellspacing='0' width='100%'>")
        parts.extend(self._rows(p))
        parts.append("</table>")
        if contacts:
            parts.append(f"<h3>Correspondence ({max(self._total, len(contacts))})</h3>")
        else:
            parts.append("<h3>Correspondence</h3>")
            parts.append(
                "<p class='empty'>No correspondence yet. "
                "Use <b>Log contact</b> (Ctrl+L) to record a call, email or meeting.</p>"
            )
        today = date.today()
        can_close = self._ctx.may(Action.MANAGE_FOLLOWUPS)
        card = colours().card  # once: reading the palette costs more than an entry
        parts.extend(self._entry(contact, today, can_close, card) for contact in contacts)
        parts.append(self._older_footer(len(contacts)))
        return "".join(parts)

    def _older_footer(self, shown: int) -> str:
        """Below a timeline shown in part: how much more there is, and the way to it."""
        left = self._total - shown
        if left <= 0:
            return ""
        if self._older_reader.pending:
            return "<p class='meta'>Loading older entries…</p>"
        page = min(left, TIMELINE_PAGE)
        older = "entry" if left == 1 else "entries"
        return (
            f"<p><span class='meta'>Showing the newest {shown} of {self._total}.</span> "
            f"&nbsp;<a href='{SHOW_OLDER_SCHEME}:'>Show {page} older</a>"
            f"<span class='meta'> ({left} older {older} in all)</span></p>"
        )

    @staticmethod
    def _banner(p: ProspectView) -> str:
        """A clear notice on an erased or restricted person."""
        if p.erased_at is not None:
            text = (
                f"<b>Erased</b> on {escape(format_date(p.erased_at.astimezone().date()))}. "
                "Their details were removed; the record stays so counts and history add up."
            )
        elif p.restricted_at is not None:
            text = (
                f"<b>Processing restricted</b> since "
                f"{escape(format_date(p.restricted_at.astimezone().date()))}: "
                f"{escape(p.restriction_reason or 'no reason given')}. The data is kept, left "
                "out of every export and cannot be changed until a manager lifts the restriction."
            )
        else:
            return ""
        c = colours()
        return (
            f"<table width='100%' cellpadding='6' bgcolor='{c.error_background}'><tr><td>"
            f"<span style='color:{c.text}'>{text}</span></td></tr></table>"
        )

    def _rows(self, p: ProspectView) -> Iterable[str]:
        email = (
            f"<a href='mailto:{escape(p.email, quote=True)}'>{escape(p.email)}</a>"
            if p.email
            else ""
        )
        source = ", ".join(
            part
            for part in (
                escape(_label(DataSource, p.source)),
                escape(p.source_detail or ""),
                escape(format_date(p.source_date)),
            )
            if part
        )
        rows = [("Email", email), ("Phone", escape(p.phone_display))]
        if p.other_emails:
            rows.append(("Other emails", self._others(p, "email", p.other_emails)))
        if p.other_phones:
            rows.append(("Other phones", self._others(p, "phone", p.other_phones)))
        rows += [
            ("Stage", escape(stage_label(p.stage))),
            ("Owner", escape(p.owner or "")),
            ("Interests", escape(", ".join(p.interests))),
        ]
        if p.origins:
            rows.append(
                (
                    "Origin",
                    "<br>".join(escape(contact_point_service.origin_text(o)) for o in p.origins),
                )
            )
        if source or not p.origins:
            rows.append(("Source", source))
        rows.append(("Marketing", self._marketing_summary()))
        for key, value in rows:
            shown = value or "<span class='empty'>—</span>"
            yield f"<tr><td class='k' width='90'>{key}</td><td class='v'>{shown}</td></tr>"

    def _others(self, p: ProspectView, kind: str, values: list[str]) -> str:
        """Extra addresses, one a line, each with a Remove link for those who may edit."""
        can_remove = (
            self._ctx.may(Action.EDIT_RECORDS) and p.restricted_at is None and p.erased_at is None
        )
        lines = []
        for n, value in enumerate(values):
            if kind == "email":
                line = f"<a href='mailto:{escape(value, quote=True)}'>{escape(value)}</a>"
            else:
                line = escape(format_phone(value))
            if can_remove:
                line += f" &nbsp;<a href='{REMOVE_ADDRESS_SCHEME}:{kind}/{n}'>Remove</a>"
            lines.append(line)
        return "<br>".join(lines)

    def _marketing_summary(self) -> str:
        view = self.marketing.view
        if view is None:
            return ""
        text = escape(marketing_text.summary(view))
        suppressed = marketing_text.suppressed_text(view)
        if suppressed:
            text += f"<br><span class='overdue'>{escape(suppressed)}</span>"
        return text

    @staticmethod
    def _entry(c: ContactView, today: date, can_close: bool, card: str) -> str:
        meta = f"{escape(format_datetime(c.occurred_at))} · logged by {escape(c.logged_by)}"
        lines = [
            f"<table class='entry' width='100%' cellspacing='0' cellpadding='8' "
            f"bgcolor='{card}'>"
            f"<tr><td><span class='kind'>{escape(_label(ContactKind, c.kind))}</span>"
            f" &nbsp;<span class='meta'>{meta}</span>"
        ]
        if c.subject:
            lines.append(f"<br><span class='subject'>{escape(c.subject)}</span>")
        lines.append(f"<br>{_text(c.summary)}")
        if c.follow_up_on is not None:
            when = escape(format_date(c.follow_up_on))
            if c.follow_up_done_at is not None:
                done = escape(format_date(c.follow_up_done_at.astimezone().date()))
                lines.append(f"<br><span class='done'>Follow-up {when}: done {done}</span>")
            elif c.follow_up_on < today:
                lines.append(f"<br><span class='overdue'>Follow-up {when}: overdue</span>")
            elif c.follow_up_on == today:
                lines.append("<br><span class='overdue'>Follow-up today</span>")
            else:
                lines.append(f"<br><span class='meta'>Follow-up {when}</span>")
            if c.follow_up_done_at is None and can_close:
                lines.append(f" &nbsp;<a href='{MARK_DONE_SCHEME}:{c.id}'>Mark done</a>")
        lines.append("</td></tr></table>")
        return "".join(lines)
