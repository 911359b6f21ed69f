"""Probable duplicates: two records that may be one person, for someone to review.

Comparing every prospect with every other is out of the question at a
million prospects, so candidates are found in blocks and only compared
within them:

- **same school**: one streaming pass over the prospects ordered by school;
  within a school, names are compared only when they share a word (a first
  or last name), so a typo in one of the two still pairs them. Names are
  alike when rapidfuzz's token-sort ratio of the normalised "first last" is
  at least :data:`NAME_THRESHOLD`, or when the last names are the same and
  one first name is an initial (or a shortening) of the other ("J Smith",
  "Jane Smith");
- **same phone number**: grouped in SQL over the primary numbers and the
  extra ones (contact points). A number a school uses as its own, or one
  more than :data:`PHONE_BLOCK_MAX` people share, is a switchboard or a
  shared line, not a person, and pairs nobody;
- **same email address**: an extra address of one prospect that is another's
  primary (or extra) address.

Erased prospects and pairs someone dismissed as different people are left
out. ``score`` is how alike the two names are (0-100), whatever the reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from rapidfuzz import fuzz
from sqlalchemy import and_, func, select, union
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..domain.models import ContactPoint, DuplicateDismissal, Prospect, School
from ..domain.roles import Action
from ..domain.types import utcnow
from ..errors import CrmError, NotFoundError
from . import audit
from .context import Context
from .results import Jsonable

NAME_THRESHOLD = 88
#: Score given to "J Smith" / "Jane Smith" (an initial and the same last name).
INITIAL_SCORE = 90
#: More people than this on one number: a shared line, not a duplicate.
PHONE_BLOCK_MAX = 4
#: More people than this sharing one name word at one school are not compared
#: on that word (a huge block would cost all-pairs time for little gain).
WORD_BLOCK_MAX = 400

SAME_EMAIL = "same email address"
SAME_PHONE = "same phone number"
SIMILAR_NAME = "similar name at the same school"
# Strongest evidence first: a pair found several ways is listed under the first.
REASONS = (SAME_EMAIL, SAME_PHONE, SIMILAR_NAME)
_RANK = {reason: i for i, reason in enumerate(REASONS)}

_CHUNK = 500


@dataclass(frozen=True)
class DuplicatePair(Jsonable):
    """Two prospects that may be one person (``first_id`` < ``second_id``)."""

    first_id: int
    second_id: int
    first_name: str
    second_name: str
    school: str | None  # the school they share; else "first's / second's" or the one known
    reason: str  # one of REASONS
    score: int  # how alike the names are, 0-100
    first_email: str | None = None
    second_email: str | None = None
    first_school: str | None = None
    second_school: str | None = None


# ------------------------------------------------------------- names


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_APOSTROPHES = re.compile(r"['\u2018\u2019`\u02bc]")


@lru_cache(maxsize=200_000)
def normalise_name(text: str | None) -> str:
    """Lower case, accents and punctuation removed, single spaces ("O'Brien-Smith" -> "o brien smith")."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", _APOSTROPHES.sub("", plain.casefold())).strip()


def name_score(first_a: str, last_a: str, first_b: str, last_b: str) -> int:
    """How alike two people's names are, 0-100 (see the module's docstring)."""
    fa, la = normalise_name(first_a), normalise_name(last_a)
    fb, lb = normalise_name(first_b), normalise_name(last_b)
    score = round(
        max(
            fuzz.token_sort_ratio(f"{fa} {la}", f"{fb} {lb}"),
            # "Mc Donald" / "McDonald": the same letters, spaced differently.
            fuzz.ratio(f"{fa}{la}".replace(" ", ""), f"{fb}{lb}".replace(" ", "")),
        )
    )
    if la and la == lb and fa and fb and fa[0] == fb[0]:
        short, long_ = sorted((fa, fb), key=len)
        if len(short) == 1 or long_.startswith(short):
            score = max(score, INITIAL_SCORE)
    return score


def _words(first: str, last: str) -> set[str]:
    return {w for w in f"{normalise_name(first)} {normalise_name(last)}".split() if len(w) > 1}


# ------------------------------------------------------------- blocks


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _school_rows(session: Session, among: set[int] | None) -> Iterator[tuple]:
    """(id, first, last, school_id) of living prospects, school by school."""
    base = select(Prospect.id, Prospect.first_name, Prospect.last_name, Prospect.school_id).where(
        Prospect.erased_at.is_(None)
    )
    if among is None:
        # "+ 0": read the table in one sequential pass and sort it, rather than
        # walk the school index with a random row look-up per prospect (about a
        # third faster at a million rows on SQLite; the same result anywhere).
        stmt = base.where(Prospect.school_id.is_not(None)).order_by(Prospect.school_id + 0)
        yield from session.execute(stmt.execution_options(yield_per=5_000))
        return
    schools: set[int] = set()
    for chunk in _chunks(sorted(among)):
        schools.update(
            s
            for s in session.scalars(select(Prospect.school_id).where(Prospect.id.in_(chunk)))
            if s is not None
        )
    for chunk in _chunks(sorted(schools)):
        stmt = base.where(Prospect.school_id.in_(chunk)).order_by(Prospect.school_id)
        yield from session.execute(stmt)


def _school_block_pairs(block: list[tuple], among: set[int] | None) -> Iterator[tuple]:
    """(low, high, score) for alike names in one school's prospects."""
    if len(block) < 2:
        return
    by_word: dict[str, list[int]] = defaultdict(list)
    for index, (_pid, first, last, _school) in enumerate(block):
        for word in _words(first, last):
            by_word[word].append(index)
    seen: set[tuple[int, int]] = set()
    for members in by_word.values():
        if len(members) < 2 or len(members) > WORD_BLOCK_MAX:
            continue
        for i, j in combinations(members, 2):
            if (i, j) in seen:
                continue
            seen.add((i, j))
            a, b = block[i], block[j]
            if among is not None and a[0] not in among and b[0] not in among:
                continue
            score = name_score(a[1], a[2], b[1], b[2])
            if score >= NAME_THRESHOLD:
                yield (min(a[0], b[0]), max(a[0], b[0]), score)


def _by_school(session: Session, among: set[int] | None) -> Iterator[tuple[int, int]]:
    block: list[tuple] = []
    for row in _school_rows(session, among):
        if block and row[3] != block[0][3]:
            yield from ((lo, hi) for lo, hi, _ in _school_block_pairs(block, among))
            block = []
        block.append(tuple(row))
    yield from ((lo, hi) for lo, hi, _ in _school_block_pairs(block, among))


def _by_phone(session: Session) -> Iterator[tuple[int, int]]:
    living = Prospect.erased_at.is_(None)
    phones = union(
        select(Prospect.id.label("pid"), Prospect.phone.label("key")).where(
            Prospect.phone.is_not(None), living
        ),
        select(ContactPoint.prospect_id.label("pid"), ContactPoint.value_key.label("key"))
        .join(Prospect, Prospect.id == ContactPoint.prospect_id)
        .where(ContactPoint.kind == "phone", living),
    ).subquery()
    counted = select(
        phones.c.key, phones.c.pid, func.count().over(partition_by=phones.c.key).label("n")
    ).subquery()
    switchboards = select(School.phone).where(School.phone.is_not(None))
    stmt = (
        select(counted.c.key, counted.c.pid)
        .where(counted.c.n.between(2, PHONE_BLOCK_MAX), counted.c.key.not_in(switchboards))
        .order_by(counted.c.key, counted.c.pid)
    )
    groups: dict[str, list[int]] = defaultdict(list)
    for key, pid in session.execute(stmt):
        groups[key].append(pid)
    for pids in groups.values():
        yield from combinations(sorted(pids), 2)


def _by_email(session: Session) -> Iterator[tuple[int, int]]:
    extra = aliased(ContactPoint)
    other = aliased(ContactPoint)
    owner = aliased(Prospect)
    primary = (
        select(extra.prospect_id, Prospect.id)
        .join(Prospect, Prospect.email_key == extra.value_key)
        .join(owner, owner.id == extra.prospect_id)
        .where(
            extra.kind == "email",
            Prospect.id != extra.prospect_id,
            Prospect.erased_at.is_(None),
            owner.erased_at.is_(None),
        )
    )
    both_extra = (
        select(extra.prospect_id, other.prospect_id)
        .join(
            other,
            and_(
                other.kind == "email",
                other.value_key == extra.value_key,
                other.prospect_id > extra.prospect_id,
            ),
        )
        .join(owner, owner.id == extra.prospect_id)
        .join(Prospect, Prospect.id == other.prospect_id)
        .where(extra.kind == "email", owner.erased_at.is_(None), Prospect.erased_at.is_(None))
    )
    for stmt in (primary, both_extra):
        for a, b in session.execute(stmt):
            yield (min(a, b), max(a, b))


def _dismissed(session: Session, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    lows = sorted({lo for lo, _ in pairs})
    for chunk in _chunks(lows):
        found.update(
            (low, high)
            for low, high in session.execute(
                select(DuplicateDismissal.low_id, DuplicateDismissal.high_id).where(
                    DuplicateDismissal.low_id.in_(chunk)
                )
            ).all()
        )
    return found


def _describe(session: Session, found: dict[tuple[int, int], str]) -> list[DuplicatePair]:
    ids = sorted({i for pair in found for i in pair})
    people: dict[int, tuple] = {}
    for chunk in _chunks(ids):
        for row in session.execute(
            select(
                Prospect.id,
                Prospect.first_name,
                Prospect.last_name,
                Prospect.email,
                Prospect.school_id,
                School.name,
            )
            .outerjoin(School, School.id == Prospect.school_id)
            .where(Prospect.id.in_(chunk))
        ):
            people[row[0]] = tuple(row)
    out = []
    for (lo, hi), reason in found.items():
        a, b = people[lo], people[hi]
        if a[4] is not None and a[4] == b[4]:
            school = a[5]
        else:
            school = " / ".join(s for s in (a[5], b[5]) if s) or None
        out.append(
            DuplicatePair(
                first_id=lo,
                second_id=hi,
                first_name=f"{a[1]} {a[2]}",
                second_name=f"{b[1]} {b[2]}",
                school=school,
                reason=reason,
                score=name_score(a[1], a[2], b[1], b[2]),
                first_email=a[3],
                second_email=b[3],
                first_school=a[5],
                second_school=b[5],
            )
        )
    out.sort(key=lambda p: (_RANK[p.reason], -p.score, p.first_id, p.second_id))
    return out


# ------------------------------------------------------------- public


def probable_duplicates(
    ctx: Context, *, among: Collection[int] | None = None, limit: int | None = None
) -> list[DuplicatePair]:
    """Pairs that may be one person, strongest evidence first.

    ``among``: only pairs involving one of these prospect ids (after an
    import, its prospects). ``limit``: at most this many pairs.
    """
    ctx.require(Action.VIEW)
    wanted = None if among is None else {int(i) for i in among}
    if wanted is not None and not wanted:
        return []
    found: dict[tuple[int, int], str] = {}

    def note(pairs: Iterable[tuple[int, int]], reason: str) -> None:
        for pair in pairs:
            if wanted is not None and pair[0] not in wanted and pair[1] not in wanted:
                continue
            if pair not in found or _RANK[reason] < _RANK[found[pair]]:
                found[pair] = reason

    with ctx.db.read() as session:
        note(_by_email(session), SAME_EMAIL)
        note(_by_phone(session), SAME_PHONE)
        note(_by_school(session, wanted), SIMILAR_NAME)
        for pair in _dismissed(session, list(found)):
            found.pop(pair, None)
        pairs = _describe(session, found)
    return pairs if limit is None else pairs[: max(limit, 0)]


def count_probable_duplicates(ctx: Context, *, among: Collection[int] | None = None) -> int:
    return len(probable_duplicates(ctx, among=among))


def dismiss_pair(ctx: Context, a: int, b: int) -> None:
    """Record that prospects ``a`` and ``b`` are different people (audited on both).

    They are then never listed as a pair again. Dismissing a pair twice is
    not an error.
    """
    ctx.require(Action.EDIT_RECORDS)
    low, high = sorted((int(a), int(b)))
    if low == high:
        raise CrmError(f"Prospect #{low} cannot be a duplicate of itself.")
    with ctx.db.transaction() as session:
        for pid in (low, high):
            if session.get(Prospect, pid) is None:
                raise NotFoundError(f"No prospect with id {pid}.")
        if session.get(DuplicateDismissal, (low, high)) is not None:
            return
        session.add(
            DuplicateDismissal(
                low_id=low, high_id=high, dismissed_by=ctx.user, dismissed_at=utcnow()
            )
        )
        # Ids only: erasing one of them must not leave their name on the other's entries.
        for pid, other in ((low, high), (high, low)):
            audit.record(session, ctx.user, "prospect.duplicate-dismissed", "prospect", pid,
                         {"not_the_same_as": f"prospect #{other}"})  # fmt: skip


def dismissed_pairs(ctx: Context) -> list[tuple[int, int]]:
    """Every (low, high) pair said to be different people."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(DuplicateDismissal.low_id, DuplicateDismissal.high_id).order_by(
                    DuplicateDismissal.low_id, DuplicateDismissal.high_id
                )
            )
        ]


__all__ = [
    "DuplicatePair",
    "REASONS",
    "count_probable_duplicates",
    "dismiss_pair",
    "dismissed_pairs",
    "name_score",
    "normalise_name",
    "probable_duplicates",
]
