"""Bulk actions on many prospects at once: the table's selection, or every match of a filter.

Set owner, set stage, add or remove an interest, log the same contact for
each, opt out of channels, delete. Each is one service call and one
transaction: a cancel (``should_cancel()`` checked between chunks and once
more before the commit) or an error leaves nothing changed. Rows are
changed with set-based statements a chunk at a time, not one ORM object a
person (opt-outs excepted: they go through the one-person rule,
:func:`marketing.apply_opt_out`, so the ledger and the suppression list
stay exactly as a single opt-out leaves them). Every person changed gets
the same audit entry the single-prospect action writes. Each action is one
entry of :data:`ACTIONS` (its right, how it checks its argument and changes a
chunk, its audit entry and what its result says) run by one runner.

Who is left alone: the selection is read inside the write transaction, so
a prospect deleted meanwhile is never brought back (it is counted as
``missing``). Restricted people are refused (their data may not be
changed) except by an opt-out, which is always honoured; erased people
(tombstones) are refused by every bulk action. Refused people are named in
the result, and the rest are done: a bulk action never fails as a whole
because some of its people may not be touched. Bulk actions never grant
consent, so they cannot lift an opt-out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session

from ..domain.enums import Channel, OptOutSource, Stage
from ..domain.models import (
    MAX_NAME,
    MAX_NOTE,
    ChannelPermission,
    Correspondence,
    Interest,
    Prospect,
    ProspectInterest,
)
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import (
    ContactData,
    ContactInput,
    ValidationError,
    clean_text,
    validate_contact,
)
from ..errors import Cancelled, CrmError, NotFoundError
from . import audit
from .context import Context
from .marketing import apply_opt_out, parse_channels
from .prospects import ProspectQuery, matching_ids
from .results import Jsonable

CHUNK = 500  # ids per IN (...) list and per progress step
CANCELLED = "Cancelled; nothing was changed."

SET_OWNER = "set-owner"
SET_STAGE = "set-stage"
ADD_INTEREST = "add-interest"
REMOVE_INTEREST = "remove-interest"
LOG_CONTACT = "log-contact"
OPT_OUT = "opt-out"
DELETE = "delete"

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


@dataclass(frozen=True)
class Selection:
    """Which prospects: the ids picked, or every prospect a filter matches.

    "Select all N matching" is the filter itself (``query``), resolved when
    the action runs, never a list of a hundred thousand row numbers.
    """

    ids: tuple[int, ...] = ()
    query: ProspectQuery | None = None

    @classmethod
    def of(cls, ids: Iterable[int]) -> Selection:
        return cls(ids=tuple(dict.fromkeys(int(i) for i in ids)))

    @classmethod
    def matching(cls, query: ProspectQuery) -> Selection:
        return cls(query=query)


@dataclass(frozen=True)
class Refused(Jsonable):
    """Someone in the selection the action may not touch, and why."""

    id: int
    name: str
    why: str  # "restricted" | "erased"


@dataclass(frozen=True)
class BulkPreview(Jsonable):
    """What an action would touch: how many, and who it would refuse."""

    action: str
    count: int  # prospects in the selection
    refused: list[Refused]

    @property
    def allowed(self) -> int:
        return self.count - len(self.refused)


@dataclass(frozen=True)
class BulkResult(Jsonable):
    """What a bulk action did.

    ``changed``: people it changed; ``unchanged``: people it could touch who
    were already so (the owner already theirs, the interest already there,
    already opted out); ``refused``: people it may not touch, named;
    ``missing``: ids picked that no longer exist (deleted meanwhile).
    """

    action: str
    changed: int
    unchanged: int
    refused: list[Refused] = field(default_factory=list)
    missing: int = 0
    detail: str = ""  # the value set, the interest, the channels

    def summary(self) -> str:
        """Two or three sentences for a person: what was done, and what was not."""
        return " ".join([self.done_sentence(), *self.not_done_sentences()])

    def done_sentence(self) -> str:
        spec = ACTIONS[self.action]
        done = spec.done.format(detail=self.detail, people=_people(self.changed))
        if self.unchanged:
            done = done[:-1] + f" ({self.unchanged:,} {spec.already})."
        return done

    def not_done_sentences(self) -> list[str]:
        out = []
        if self.refused:
            out.append(refused_sentence(self.refused))
        if self.missing:
            out.append(f"{_people(self.missing)} no longer existed (deleted meanwhile).")
        return out


MAX_NAMED = 10


def refused_sentence(refused: Sequence[Refused]) -> str:
    """'Not changed: 2 prospects it may not touch: Jane Smith (restricted), …'."""
    names = ", ".join(f"{r.name} ({r.why})" for r in refused[:MAX_NAMED])
    more = len(refused) - MAX_NAMED
    if more > 0:
        names += f" and {more:,} more"
    return f"Left unchanged: {_people(len(refused))} whose data may not be changed: {names}."


def _people(n: int) -> str:
    return f"{n:,} prospect" + ("" if n == 1 else "s")


# ------------------------------------------------------------------- rules


def refusal(action: str, *, restricted: bool, erased: bool) -> str | None:
    """Why ``action`` may not touch this person, or None.

    An erased person is a tombstone every bulk action leaves as it is. A
    restricted person's data may be kept, not changed; an opt-out is the
    exception, honoured always (as the single opt-out is).
    """
    if erased:
        return "erased"
    if restricted and not ACTIONS[action].restricted_too:
        return "restricted"
    return None


def _chunks(values: Sequence, size: int | None = None) -> Iterable[Sequence]:
    size = size or CHUNK
    for start in range(0, len(values), size):
        yield values[start : start + size]


_PEOPLE = (
    Prospect.id,
    Prospect.first_name,
    Prospect.last_name,
    Prospect.restricted_at,
    Prospect.erased_at,
)


def _people_in(session: Session, ctx: Context, selection: Selection) -> tuple[list, int]:
    """(id, first, last, restricted_at, erased_at) of the selection as it is now, and
    how many picked ids no longer exist."""
    if selection.query is not None:
        stmt = matching_ids(ctx, selection.query).with_only_columns(*_PEOPLE)
        return list(session.execute(stmt.order_by(Prospect.id))), 0
    rows: list = []
    for chunk in _chunks(list(selection.ids)):
        rows.extend(session.execute(select(*_PEOPLE).where(Prospect.id.in_(chunk))))
    rows.sort(key=lambda r: r[0])
    return rows, len(selection.ids) - len(rows)


def _sort_out(action: str, rows: list) -> tuple[list[int], list[Refused]]:
    allowed: list[int] = []
    refused: list[Refused] = []
    for pid, first, last, restricted_at, erased_at in rows:
        why = refusal(action, restricted=restricted_at is not None, erased=erased_at is not None)
        if why is None:
            allowed.append(pid)
        else:
            refused.append(Refused(pid, f"{first} {last}", why))
    return allowed, refused


def preview(ctx: Context, selection: Selection, action: str) -> BulkPreview:
    """How many prospects ``action`` would touch now, and whom it would refuse."""
    ctx.require(Action.VIEW)
    if action not in PERMISSION:
        raise ValueError(f"unknown bulk action {action!r}")
    with ctx.db.read() as session:
        rows, _missing = _people_in(session, ctx, selection)
    _allowed, refused = _sort_out(action, rows)
    return BulkPreview(action, len(rows), refused)


def ids_for(ctx: Context, refs: Iterable[str]) -> tuple[list[int], list[str]]:
    """Ids of prospects named by id (``42``, ``#42``) or email; and the refs that name nobody."""
    ctx.require(Action.VIEW)
    numbers: list[int] = []
    emails: dict[str, str] = {}
    for raw in refs:
        text = raw.strip()
        if not text:
            continue
        if text.lstrip("#").isdigit():
            numbers.append(int(text.lstrip("#")))
        else:
            emails[text.lower()] = text
    found: list[int] = []
    unknown: list[str] = []
    with ctx.db.read() as session:
        there: set[int] = set()
        for chunk in _chunks(sorted(set(numbers))):
            there.update(session.scalars(select(Prospect.id).where(Prospect.id.in_(chunk))))
        by_email: dict[str, int] = {}
        for chunk in _chunks(list(emails)):
            stmt = select(Prospect.email_key, Prospect.id).where(Prospect.email_key.in_(chunk))
            by_email.update({key: pid for key, pid in session.execute(stmt)})
    for n in numbers:
        if n in there:
            found.append(n)
        else:
            unknown.append(f"#{n}")
    for key, text in emails.items():
        if key in by_email:
            found.append(by_email[key])
        else:
            unknown.append(text)
    return list(dict.fromkeys(found)), unknown


# -------------------------------------------------------------- the table

Audited = list[tuple[int, dict]]  # (prospect id, the values of its audit entry)
Change = Callable[[Session, Sequence[int]], tuple[int, int, Audited]]
"""Changes one chunk of allowed people: (changed, unchanged, an entry for each changed)."""


@dataclass(frozen=True)
class BulkAction:
    """One bulk action: who may run it, what it does to a chunk, what it is audited and said as.

    ``prepare(ctx, value, **options)`` checks the action's argument (ValidationError
    names the field) and reads what it needs before the write transaction; it returns
    the chunk :data:`Change` and the result's ``detail`` (the value set, the
    interest, the channels).
    """

    name: str
    permission: Action  # the right the single action needs
    prepare: Callable[..., tuple[Change, str]]
    audit: str | None  # each changed person's entry; None: the rule it applies writes them
    done: str  # what the result says was done: {detail}, {people}
    already: str = "were unchanged"  # said of the people who already were so
    restricted_too: bool = False  # honoured for restricted people (an opt-out)
    default: object = None  # the value :func:`run` takes when given none


def _prepare_owner(ctx: Context, owner: str | None, **_options) -> tuple[Change, str]:
    try:
        value = clean_text(owner, max_len=MAX_NAME)
    except ValueError as exc:
        raise ValidationError({"owner": str(exc)}) from None
    return _set_column("owner", value), value or "no owner"


def _prepare_stage(ctx: Context, stage: str, **_options) -> tuple[Change, str]:
    try:
        chosen = Stage.parse(stage)
    except ValueError as exc:
        raise ValidationError({"stage": str(exc)}) from None
    return _set_column("stage", chosen.value), chosen.label


def _set_column(column: str, value: object) -> Change:
    col = getattr(Prospect, column)

    def change(session: Session, ids: Sequence[int]) -> tuple[int, int, Audited]:
        stmt = select(Prospect.id, col).where(Prospect.id.in_(ids))
        old = {pid: current for pid, current in session.execute(stmt)}
        changing = [pid for pid in ids if old.get(pid) != value]
        if changing:
            _bump(session, changing, **{column: value})
        # The entry the single edit writes (services.prospects): old -> new.
        audited = [(pid, {column: {"old": old[pid], "new": value}}) for pid in changing]
        return len(changing), len(ids) - len(changing), audited

    return change


def _interest(session: Session, name: str) -> Interest:
    found = session.scalars(
        select(Interest).where(Interest.name_key == (name or "").strip().lower())
    ).first()
    if found is None:
        raise NotFoundError(f"'{name}' is not one of our services (see Manage interests).")
    return found


def _interests_of(session: Session, ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """Prospect id -> its interests as (name_key, name), in the order the form shows them."""
    out: dict[int, list[tuple[str, str]]] = {pid: [] for pid in ids}
    rows = session.execute(
        select(ProspectInterest.prospect_id, Interest.name_key, Interest.name)
        .join(Interest, Interest.id == ProspectInterest.interest_id)
        .where(ProspectInterest.prospect_id.in_(ids))
        .order_by(Interest.name_key)
    )
    for pid, key, name in rows:
        out[pid].append((key, name))
    return out


def _listed(items: list[tuple[str, str]]) -> str | None:
    return ", ".join(name for _key, name in sorted(items)) or None


def _prepare_interest(adding: bool) -> Callable[..., tuple[Change, str]]:
    def prepare(ctx: Context, name: str, **_options) -> tuple[Change, str]:
        with ctx.db.read() as session:
            found = _interest(session, name)
            interest_id, key, label = found.id, found.name_key, found.name
        return _change_interest(interest_id, key, label, adding), label

    return prepare


def _change_interest(interest_id: int, key: str, label: str, adding: bool) -> Change:
    def change(session: Session, ids: Sequence[int]) -> tuple[int, int, Audited]:
        _interest(session, label)  # still there, under the write lock
        current = _interests_of(session, ids)
        has = {pid for pid, items in current.items() if any(k == key for k, _ in items)}
        changing = [pid for pid in ids if (pid not in has) == adding]
        if not changing:
            return 0, len(ids), []
        if adding:
            session.execute(
                insert(ProspectInterest.__table__),
                [{"prospect_id": pid, "interest_id": interest_id} for pid in changing],
            )
        else:
            session.execute(
                delete(ProspectInterest).where(
                    ProspectInterest.prospect_id.in_(changing),
                    ProspectInterest.interest_id == interest_id,
                )
            )
        _bump(session, changing)
        audited = []
        for pid in changing:
            before = current[pid]
            after = [*before, (key, label)] if adding else [i for i in before if i[0] != key]
            audited.append((pid, {"interests": {"old": _listed(before), "new": _listed(after)}}))
        return len(changing), len(ids) - len(changing), audited

    return change


def check_contact(data: ContactInput) -> ContactData:
    """The contact as the log-contact form validates it (ValidationError names the fields)."""
    return validate_contact(data, now=utcnow())


def _prepare_contact(ctx: Context, data: ContactInput, **_options) -> tuple[Change, str]:
    now = utcnow()
    clean = validate_contact(data, now=now)
    table = Correspondence.__table__

    def change(session: Session, ids: Sequence[int]) -> tuple[int, int, Audited]:
        rows = [
            {
                "prospect_id": pid,
                "kind": clean.kind.value,
                "occurred_at": clean.occurred_at,
                "subject": clean.subject,
                "summary": clean.summary,
                "logged_by": ctx.user,
                "follow_up_on": clean.follow_up_on,
                "created_at": now,
            }
            for pid in ids
        ]
        made = session.execute(
            insert(table).returning(table.c.id, table.c.prospect_id, sort_by_parameter_order=True),
            rows,
        ).all()
        # The table's last-contact and next-follow-up columns, as
        # correspondence.refresh_contact_summary keeps them, for the chunk at once.
        c = table.alias("c")
        session.execute(
            update(Prospect)
            .where(Prospect.id.in_(ids))
            .values(
                last_contact_at=select(func.max(c.c.occurred_at))
                .where(c.c.prospect_id == Prospect.id)
                .scalar_subquery(),
                next_follow_up=select(func.min(c.c.follow_up_on))
                .where(c.c.prospect_id == Prospect.id, c.c.follow_up_done_at.is_(None))
                .scalar_subquery(),
            )
            .execution_options(synchronize_session=False)
        )
        audited = [
            (pid, {
                "entry": entry, "kind": clean.kind.value,
                "occurred_at": clean.occurred_at.isoformat(), "subject": clean.subject,
                "summary": clean.summary,
                "follow_up_on": clean.follow_up_on.isoformat() if clean.follow_up_on else None,
            })
            for entry, pid in made
        ]  # fmt: skip
        return len(made), 0, audited

    return change, clean.kind.label


def _prepare_opt_out(
    ctx: Context,
    channels: str | Iterable[str],
    *,
    reason: str | None = None,
    source: str = OptOutSource.OTHER.value,
) -> tuple[Change, str]:
    try:
        chosen = parse_channels(channels)
    except ValueError as exc:
        raise ValidationError({"channel": str(exc)}) from None
    try:
        why = clean_text(reason, max_len=MAX_NOTE, multiline=True)
    except ValueError as exc:
        raise ValidationError({"reason": str(exc)}) from None
    src = OptOutSource.parse(source)
    wanted = {c.value for c in chosen}

    def change(session: Session, ids: Sequence[int]) -> tuple[int, int, Audited]:
        opted: dict[int, set[str]] = {pid: set() for pid in ids}
        for pid, channel in session.execute(
            select(ChannelPermission.prospect_id, ChannelPermission.channel).where(
                ChannelPermission.prospect_id.in_(ids), ChannelPermission.opted_out_at.is_not(None)
            )
        ):
            opted[pid].add(channel)
        changing = [pid for pid in ids if not wanted <= opted[pid]]
        for pid in changing:
            p = session.get(Prospect, pid)
            apply_opt_out(session, ctx, p, chosen, src, why)  # audits as a single opt-out
        session.expunge_all()  # memory stays bounded over a long selection
        return len(changing), len(ids) - len(changing), []

    names = "every channel" if len(chosen) == len(Channel) else ", ".join(c.label for c in chosen)
    return change, names


def _prepare_delete(ctx: Context, _value: object, **_options) -> tuple[Change, str]:
    def change(session: Session, ids: Sequence[int]) -> tuple[int, int, Audited]:
        audit.redact_many(session, "prospect", ids)
        session.execute(
            delete(Prospect)
            .where(Prospect.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        return len(ids), 0, [(pid, {}) for pid in ids]

    return change, ""


ACTIONS: dict[str, BulkAction] = {
    spec.name: spec
    for spec in (
        BulkAction(SET_OWNER, Action.EDIT_RECORDS, _prepare_owner, "prospect.edited",
                   "Owner set to {detail} for {people}.", "already had that owner"),
        BulkAction(SET_STAGE, Action.EDIT_RECORDS, _prepare_stage, "prospect.edited",
                   "Stage set to {detail} for {people}.", "were already at that stage"),
        BulkAction(ADD_INTEREST, Action.EDIT_RECORDS, _prepare_interest(True), "prospect.edited",
                   "Interest '{detail}' added to {people}.", "already had it"),
        BulkAction(REMOVE_INTEREST, Action.EDIT_RECORDS, _prepare_interest(False),
                   "prospect.edited", "Interest '{detail}' removed from {people}.",
                   "did not have it"),
        BulkAction(LOG_CONTACT, Action.LOG_CONTACT, _prepare_contact, "correspondence.logged",
                   "Contact logged with {people}."),
        BulkAction(OPT_OUT, Action.RECORD_OPT_OUT, _prepare_opt_out, None,
                   "Opted out of {detail}: {people}.", "were already opted out",
                   restricted_too=True, default="all"),
        BulkAction(DELETE, Action.EDIT_RECORDS, _prepare_delete, "prospect.deleted",
                   "Deleted {people}."),
    )
}  # fmt: skip

# Each action's right by name (the runner asks for it here).
PERMISSION = {name: spec.permission for name, spec in ACTIONS.items()}


# -------------------------------------------------------------- the runner


def _perform(
    ctx: Context,
    selection: Selection,
    action: str,
    value: object = None,
    *,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    **options,
) -> BulkResult:
    """Check the right and the argument, resolve the selection, refuse whom the rule
    says, change the rest in chunks and audit each person changed: one transaction."""
    spec = ACTIONS[action]
    ctx.require(PERMISSION[action])
    change, detail = spec.prepare(ctx, value, **options)

    def cancelled() -> bool:
        return bool(should_cancel and should_cancel())

    changed = unchanged = 0
    with ctx.db.transaction() as session:
        rows, missing = _people_in(session, ctx, selection)
        allowed, refused = _sort_out(action, rows)
        if progress:
            progress(0, len(allowed))
        done = 0
        for chunk in _chunks(allowed):
            if cancelled():
                raise Cancelled(CANCELLED)
            c, u, audited = change(session, chunk)
            if spec.audit and audited:
                audit.record_many(session, ctx.user, (
                    (spec.audit, "prospect", pid, values) for pid, values in audited
                ))  # fmt: skip
            changed, unchanged, done = changed + c, unchanged + u, done + len(chunk)
            if progress:
                progress(done, len(allowed))
        # A cancel asked for during the last chunk still changes nothing.
        if cancelled():
            raise Cancelled(CANCELLED)
    return BulkResult(action, changed, unchanged, refused, missing, detail)


def _bump(session: Session, ids: Sequence[int], **values) -> None:
    session.execute(
        update(Prospect)
        .where(Prospect.id.in_(ids))
        .values(updated_at=utcnow(), version=Prospect.version + 1, **values)
        .execution_options(synchronize_session=False)
    )


# ----------------------------------------------------------------- actions


def set_owner(
    ctx: Context,
    selection: Selection,
    owner: str | None,
    *,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> BulkResult:
    """Give the selected prospects this owner (None or blank: no owner)."""
    return _perform(ctx, selection, SET_OWNER, owner, progress=progress,
                    should_cancel=should_cancel)  # fmt: skip


def set_stage(
    ctx: Context,
    selection: Selection,
    stage: str,
    *,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> BulkResult:
    """Move the selected prospects to a pipeline stage."""
    return _perform(ctx, selection, SET_STAGE, stage, progress=progress,
                    should_cancel=should_cancel)  # fmt: skip


def add_interest(
    ctx: Context,
    selection: Selection,
    interest: str,
    *,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> BulkResult:
    """Add one of our services to the selected prospects' interests."""
    return _perform(ctx, selection, ADD_INTEREST, interest, progress=progress,
                    should_cancel=should_cancel)  # fmt: skip


def remove_interest(
    ctx: Context,
    selection: Selection,
    interest: str,
    *,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> BulkResult:
    """Take one of our services off the selected prospects' interests."""
    return _perform(ctx, selection, REMOVE_INTEREST, interest, progress=progress,
                    should_cancel=should_cancel)  # fmt: skip


def log_contact(
    ctx: Context,
    selection: Selection,
    data: ContactInput,
    *,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> BulkResult:
    """Log the same contact (and follow-up, if any) with each selected prospect."""
    return _perform(ctx, selection, LOG_CONTACT, data, progress=progress,
                    should_cancel=should_cancel)  # fmt: skip


def opt_out(
    ctx: Context,
    selection: Selection,
    channels: str | Iterable[str] = "all",
    *,
    reason: str | None = None,
    source: str = OptOutSource.OTHER.value,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> BulkResult:
    """Opt the selected prospects out of channels (default all); restricted people too.

    Each person goes through the one-person rule (ledger events, suppression
    entries, audit), so a bulk opt-out is indistinguishable from single ones.
    People already opted out of every chosen channel are left as they are.
    """
    return _perform(ctx, selection, OPT_OUT, channels, reason=reason, source=source,
                    progress=progress, should_cancel=should_cancel)  # fmt: skip


def delete_prospects(
    ctx: Context,
    selection: Selection,
    *,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> BulkResult:
    """Delete the selected prospects and their correspondence, as the single delete does.

    Their details are blanked in the audit trail's earlier entries and the
    deletion is recorded for each; their addresses are not suppressed.
    """
    return _perform(ctx, selection, DELETE, progress=progress, should_cancel=should_cancel)


def run(
    ctx: Context,
    selection: Selection,
    action: str,
    value: object = None,
    *,
    reason: str | None = None,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> BulkResult:
    """Any bulk action by name (the CLI and the dialog choose one): ``value`` is its argument
    (none: the action's default, every channel for an opt-out); ``reason`` an opt-out's."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise CrmError(f"Unknown bulk action '{action}'.")
    if not value and spec.default is not None:
        value = spec.default
    return _perform(ctx, selection, action, value, reason=reason, progress=progress,
                    should_cancel=should_cancel)  # fmt: skip
