"""Qt models for campaign exports: the preview's people and reasons, the records.

They are thin adapters over the plain results of ``services.exports``
(:class:`Candidate`, :class:`ExportRecord`) and hold nothing the service did
not decide: who is excluded, and why, comes from ``preview_export`` alone.
Long lists are shown in batches through ``canFetchMore``/``fetchMore``, so a
preview of 100,000 people does not build 100,000 rows of text up front.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from crm_desktop.domain.dates import format_datetime
from crm_desktop.domain.eligibility import Exclusion
from crm_desktop.domain.enums import Channel
from crm_desktop.domain.validation import format_phone
from crm_desktop.errors import NotFoundError
from crm_desktop.services import exports
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services.context import Context
from crm_desktop.services.exports import Candidate, ExportRecord, ExportRequest
from crm_desktop.ui.common.appearance import colours
from crm_desktop.ui.common.table_model import ReadOnlyTableModel

# The invisible root: the parent of every row (a shared default argument).
_ROOT = QModelIndex()

ProspectIdRole = Qt.ItemDataRole.UserRole + 1
ReasonsRole = Qt.ItemDataRole.UserRole + 2  # list of Exclusion values
ReasonRole = Qt.ItemDataRole.UserRole + 3  # one Exclusion value
ExportIdRole = Qt.ItemDataRole.UserRole + 4

FORMAT_LABELS = {
    "csv": "Generic CSV",
    "mailchimp": "Mailchimp-ready CSV",
    "xlsx": "Excel workbook (XLSX)",
}
FORMAT_SUFFIXES = {"csv": ".csv", "mailchimp": ".csv", "xlsx": ".xlsx"}

# What the address column holds, per channel (SMS shows the number that is not a mobile).
ADDRESS_HEADERS = {
    Channel.EMAIL.value: "Email",
    Channel.SMS.value: "Phone",
    Channel.PHONE.value: "Phone",
    Channel.ONLINE.value: "Email / phone",
}

_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole


def exclusion_label(value: str) -> str:
    """The label of an :class:`Exclusion` value (the value itself if unknown)."""
    try:
        return Exclusion(value).label
    except ValueError:
        return value


def channel_label(value: str) -> str:
    try:
        return Channel(value).label
    except ValueError:
        return value


def channel_noun(value: str) -> str:
    """The channel inside a sentence: "an email list", "an SMS list"."""
    label = channel_label(value)
    return label if label.isupper() else label.lower()


def format_label(value: str) -> str:
    return FORMAT_LABELS.get(value, value)


def format_when(when: datetime) -> str:
    """A moment in local time, as a UK reader expects: "3 Mar 2026 14:05"."""
    return format_datetime(when)


def ordered_reasons(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """``counts`` in :class:`Exclusion` order (most fundamental first), unknown ones last."""
    order = {e.value: i for i, e in enumerate(Exclusion)}
    return sorted(counts.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def candidate_address(c: Candidate, channel: str) -> str:
    """The address an export on ``channel`` would use for ``c``, for reading."""
    if channel == Channel.EMAIL.value:
        return c.email or ""
    if channel in (Channel.SMS.value, Channel.PHONE.value):
        return format_phone(c.phone) if c.phone else ""
    return " / ".join(a for a in (c.email, format_phone(c.phone) if c.phone else "") if a)


class CandidatesModel(ReadOnlyTableModel):
    """People from a preview with the reasons each one is left out.

    ``set_reason_filter`` narrows the list to people left out for one
    reason (the breakdown table drives it). Rows arrive in batches of
    :attr:`BATCH` as the view scrolls.
    """

    COLUMNS = ("Name", "Why left out", "Address", "School")
    NAME, REASONS, ADDRESS, SCHOOL = range(len(COLUMNS))
    BATCH = 500

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._all: list[Candidate] = []
        self._rows: list[Candidate] = []
        self._shown = 0
        self._channel = Channel.EMAIL.value
        self._reason: str | None = None

    def set_candidates(self, candidates: Iterable[Candidate], channel: str) -> None:
        self.beginResetModel()
        self._all = list(candidates)
        self._channel = channel
        self._reason = None
        self._rows = self._all
        self._shown = min(self.BATCH, len(self._rows))
        self.endResetModel()

    def set_reason_filter(self, reason: str | None) -> None:
        """Show only people left out for ``reason`` (an Exclusion value); None: everyone."""
        self.beginResetModel()
        self._reason = reason
        self._rows = self._all if reason is None else [c for c in self._all if reason in c.reasons]
        self._shown = min(self.BATCH, len(self._rows))
        self.endResetModel()

    @property
    def reason_filter(self) -> str | None:
        return self._reason

    def total(self) -> int:
        """People in the list (as filtered), whether fetched into rows yet or not."""
        return len(self._rows)

    def candidate_at(self, row: int) -> Candidate:
        return self._rows[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else self._shown

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0):
        if (
            role == _DISPLAY
            and orientation == Qt.Orientation.Horizontal
            and section == self.ADDRESS
        ):
            return ADDRESS_HEADERS.get(self._channel, "Address")
        return super().headerData(section, orientation, role)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return not parent.isValid() and self._shown < len(self._rows)

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        if parent.isValid():
            return
        count = min(self.BATCH, len(self._rows) - self._shown)
        if count <= 0:
            return
        self.beginInsertRows(_ROOT, self._shown, self._shown + count - 1)  # last is inclusive
        self._shown += count
        self.endInsertRows()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not self._valid(index):
            return None
        c = self._rows[index.row()]
        col = index.column()
        if role == _DISPLAY:
            return self._display(c, col)
        if role == _TOOLTIP:
            if col == self.REASONS:
                return "\n".join(f"• {exclusion_label(r)}" for r in c.reasons) or None
            return self._display(c, col) or None
        if role == ProspectIdRole:
            return c.prospect_id
        if role == ReasonsRole:
            return list(c.reasons)
        return None

    def _display(self, c: Candidate, col: int) -> str:
        if col == self.NAME:
            return f"{c.first_name} {c.last_name}"
        if col == self.SCHOOL:
            return c.school_name or ""
        if col == self.ADDRESS:
            return candidate_address(c, self._channel)
        if col == self.REASONS:
            return "; ".join(exclusion_label(r) for r in c.reasons)
        return ""


class IncludedModel(ReadOnlyTableModel):
    """People a preview includes, in the columns (and cells) of the file.

    The header comes from ``services.exports.columns_for`` and each row from
    ``file_row``, so the list reads as the file will. Rows are turned into
    text a batch of :attr:`BATCH` at a time as the view scrolls.
    """

    BATCH = 500

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._request: ExportRequest | None = None
        self._columns: tuple[str, ...] = ()
        self._people: list[Candidate] = []
        self._rows: list[list[str]] = []

    @property
    def COLUMNS(self) -> tuple[str, ...]:  # noqa: N802 (the base class reads it)
        return self._columns

    def set_people(self, request: ExportRequest, people: Iterable[Candidate]) -> None:
        """Show ``people`` as ``request``'s file would hold them."""
        self.beginResetModel()
        self._request = request
        self._columns = tuple(exports.columns_for(request, Channel.parse(request.channel)))
        self._people = list(people)
        self._rows = []
        self._load(self.BATCH)
        self.endResetModel()

    def total(self) -> int:
        """People included, whether fetched into rows yet or not."""
        return len(self._people)

    def candidate_at(self, row: int) -> Candidate:
        return self._people[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return not parent.isValid() and len(self._rows) < len(self._people)

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        if parent.isValid():
            return
        start = len(self._rows)
        count = min(self.BATCH, len(self._people) - start)
        if count <= 0:
            return
        self.beginInsertRows(_ROOT, start, start + count - 1)  # last is inclusive
        self._load(count)
        self.endInsertRows()

    def _load(self, count: int) -> None:
        assert self._request is not None or not self._people
        start = len(self._rows)
        self._rows.extend(
            exports.file_row(self._request, c) for c in self._people[start : start + count]
        )

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not self._valid(index) or index.column() >= len(self._columns):
            return None
        if role in (_DISPLAY, _TOOLTIP):
            text = self._rows[index.row()][index.column()]
            return text if role == _DISPLAY else (text or None)
        if role == ProspectIdRole:
            return self._people[index.row()].prospect_id
        return None


class ReasonCountsModel(ReadOnlyTableModel):
    """How many people were left out for each reason, most fundamental first."""

    COLUMNS = ("Reason", "People")
    REASON, PEOPLE = range(len(COLUMNS))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, int]] = []

    def set_counts(self, counts: Mapping[str, int]) -> None:
        self.beginResetModel()
        self._rows = [(k, v) for k, v in ordered_reasons(counts) if v]
        self.endResetModel()

    def rows(self) -> list[tuple[str, int]]:
        """(Exclusion value, people) in the order shown."""
        return list(self._rows)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not self._valid(index):
            return None
        value, count = self._rows[index.row()]
        col = index.column()
        if role in (_DISPLAY, _TOOLTIP):
            return exclusion_label(value) if col == self.REASON else f"{count:,}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.PEOPLE:
            return _RIGHT
        if role == ReasonRole:
            return value
        return None


class ExportsModel(ReadOnlyTableModel):
    """Export records in the order the service gave them (newest first)."""

    COLUMNS = (
        "Date",
        "By",
        "Channel",
        "Campaign",
        "State",
        "Personalised",
        "Format",
        "Included",
        "Excluded",
        "File",
    )
    DATE, BY, CHANNEL, CAMPAIGN, STATE, PERSONALISED, FORMAT, INCLUDED, EXCLUDED, FILE = range(
        len(COLUMNS)
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[ExportRecord] = []

    def set_records(self, records: Iterable[ExportRecord]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def record_at(self, row: int) -> ExportRecord:
        return self._rows[row]

    def row_of(self, export_id: int) -> int:
        """The row showing ``export_id``, or -1."""
        return next((i for i, r in enumerate(self._rows) if r.id == export_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not self._valid(index):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == _DISPLAY:
            return self._display(r, col)
        if role == _TOOLTIP:
            return r.file_name if col == self.FILE else (self._display(r, col) or None)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.INCLUDED, self.EXCLUDED):
            return _RIGHT
        if role == ExportIdRole:
            return r.id
        if role == Qt.ItemDataRole.ForegroundRole and not r.complete and col == self.STATE:
            return QColor(colours().error if r.state == exports.INTERRUPTED else colours().muted)
        if role == Qt.ItemDataRole.FontRole and not r.complete:
            font = QFont()
            font.setItalic(True)  # not a list that was sent
            return font
        return None

    def _display(self, r: ExportRecord, col: int) -> str:
        if col == self.DATE:
            return format_when(r.created_at)
        if col == self.BY:
            return r.created_by
        if col == self.CHANNEL:
            return channel_label(r.channel)
        if col == self.CAMPAIGN:
            return " ".join(r.campaign.split())
        if col == self.STATE:
            return r.state_label
        if col == self.PERSONALISED:
            return "Yes" if r.personalised else "No"
        if col == self.FORMAT:
            return format_label(r.format)
        if col == self.INCLUDED:
            return f"{r.included:,}" if r.complete else "–"
        if col == self.EXCLUDED:
            return f"{r.excluded:,}" if r.complete else "–"
        if col == self.FILE:
            return Path(r.file_name).name
        return ""


MemberRow = tuple[int, tuple[str, str, str, str] | None]


def member_rows(ctx: Context, ids: list[int]) -> list[MemberRow]:
    """Name, school, email and phone of each of ``ids`` as they are now (run on a worker).

    Someone deleted since is ``(id, None)``.
    """
    rows: list[MemberRow] = []
    for pid in ids:
        try:
            p = prospect_service.get_prospect(ctx, pid)
        except NotFoundError:
            rows.append((pid, None))
            continue
        rows.append((pid, (p.full_name, p.school_name or "", p.email or "", p.phone_display)))
    return rows


class MembersModel(ReadOnlyTableModel):
    """The people in one export, looked up as the view scrolls.

    The record keeps only prospect ids; names and addresses are read now
    (:func:`member_rows`), a batch at a time, so they show the person as
    they are today. Someone deleted since reads "#id (deleted)".

    The model reads nothing itself: when the view wants more rows it calls
    ``fetch(ids)`` (the dialog reads them on a worker) and asks for no more
    until :meth:`add_rows` brings them.
    """

    COLUMNS = ("Name", "School", "Email", "Phone")
    NAME, SCHOOL, EMAIL, PHONE = range(len(COLUMNS))
    BATCH = 200

    def __init__(self, parent=None, *, fetch: Callable[[list[int]], None] | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._fetching = False
        self._stopped = False
        self._ids: list[int] = []
        self._rows: list[MemberRow] = []

    def set_ids(self, prospect_ids: Iterable[int], first_rows: list[MemberRow]) -> None:
        """The export's people, and the rows of the first of them (a batch, as read)."""
        self.beginResetModel()
        self._ids = list(prospect_ids)
        self._rows = list(first_rows)
        self._fetching = self._stopped = False
        self.endResetModel()

    def total(self) -> int:
        return len(self._ids)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return (
            not parent.isValid()
            and self._fetch is not None
            and not self._fetching
            and not self._stopped
            and len(self._rows) < len(self._ids)
        )

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        if not self.canFetchMore(parent):
            return
        start = len(self._rows)
        self._fetching = True
        self._fetch(self._ids[start : start + self.BATCH])

    def add_rows(self, batch: list[MemberRow]) -> None:
        """The rows asked for by ``fetch`` have been read."""
        self._fetching = False
        if not batch:
            return
        start = len(self._rows)
        self.beginInsertRows(_ROOT, start, start + len(batch) - 1)  # last is inclusive
        self._rows.extend(batch)
        self.endInsertRows()

    def fetch_failed(self) -> None:
        """The rows asked for could not be read (the dialog says why): ask for no more."""
        self._fetching = False
        self._stopped = True

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not self._valid(index):
            return None
        pid, row = self._rows[index.row()]
        col = index.column()
        if role in (_DISPLAY, _TOOLTIP):
            deleted = f"#{pid} (deleted)" if col == self.NAME else ""
            text = deleted if row is None else row[col]
            return text if role == _DISPLAY else (text or None)
        if role == ProspectIdRole:
            return pid
        return None
