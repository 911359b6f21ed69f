"""Text search over prospects, in SQL.

SQLite uses the FTS5 index that migration 0002 keeps in step with triggers;
every word typed must prefix-match a word of the name, email or school.
PostgreSQL gets the same meaning (every word a prefix of a word) from
case-insensitive regular expressions over the same columns; it does not
fold accents as FTS5 does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import and_, bindparam, func, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from ..domain.models import ContactPoint, Prospect, School

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12


def search_terms(query: str | None) -> list[str]:
    """The words of a search box's text, lower-cased, at most MAX_TERMS."""
    if not query:
        return []
    return [w.lower() for w in _WORD.findall(query)][:MAX_TERMS]


def fts_match_expression(terms: list[str]) -> str:
    # Each term is quoted (so FTS operators in the input mean nothing) and
    # prefix-matched; juxtaposition means AND.
    return " ".join('"' + t.replace('"', '""') + '"*' for t in terms)


def prospect_search_condition(dialect: str, query: str | None) -> ColumnElement[bool] | None:
    """A WHERE condition on Prospect (School outer-joined), or None for no filter.

    A whole email address also finds the prospect who has it as an extra
    address (an import keeps those): an exact match on the indexed key, so
    it costs nothing; parts of extra addresses are not searched.
    """
    condition = _word_condition(dialect, query)
    address = (query or "").strip().lower()
    if condition is None or "@" not in address or any(c.isspace() for c in address):
        return condition
    extra = select(ContactPoint.prospect_id).where(
        ContactPoint.kind == "email", ContactPoint.value_key == address
    )
    return or_(condition, Prospect.id.in_(extra))


def _word_condition(dialect: str, query: str | None) -> ColumnElement[bool] | None:
    terms = search_terms(query)
    if not terms:
        return None
    if dialect == "sqlite":
        ids = text("SELECT rowid FROM prospect_fts WHERE prospect_fts MATCH :fts").bindparams(
            bindparam("fts", fts_match_expression(terms))
        )
        return Prospect.id.in_(ids)
    # PostgreSQL: the same word-prefix meaning with \m (start of a word).
    # Terms are word characters only, so they need no escaping in a regex.
    name = Prospect.first_name + literal(" ") + Prospect.last_name
    parts = []
    for term in terms:
        pattern = r"\m" + term
        parts.append(
            or_(
                name.op("~*")(pattern),
                func.coalesce(Prospect.email_key, "").op("~*")(pattern),
                func.coalesce(School.name, "").op("~*")(pattern),
            )
        )
    return and_(*parts)


# ---------------------------------------------------------- bulk inserts

_INSERT_TRIGGER = "prospect_fts_ai"
_PER_ROW = "WHERE p.id = new.id"


@contextmanager
def index_new_prospects_at_end(session) -> Iterator[None]:
    """Inside a write transaction: prospects inserted in the block are added to the
    search index by one set-based statement at its end, not one trigger per row.

    SQLite's per-row ``AFTER INSERT`` trigger costs several times the insert
    itself, and a bulk import holds the write lock meanwhile. The trigger is
    dropped for the block and created again, exactly as it was stored, after
    its own statement has run over every prospect inserted in the block (ids
    above the largest before it; the transaction's write lock means nobody
    else inserts meanwhile). It is all in the caller's transaction, so others
    never see the index or the trigger missing, and a failure rolls it all
    back. Only prospects may be inserted in the block (updates keep their
    own trigger). Elsewhere (PostgreSQL, or a trigger of another shape than
    the known one) the block runs as it is.
    """
    conn = session.connection()
    stored = None
    if conn.dialect.name == "sqlite":
        stored = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
            (_INSERT_TRIGGER,),
        ).scalar()
    body = _bulk_body(stored) if stored else None
    if body is None:
        yield
        return
    last = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM prospect").scalar()
    conn.exec_driver_sql(f"DROP TRIGGER {_INSERT_TRIGGER}")
    yield
    conn.exec_driver_sql(body, (last,))
    conn.exec_driver_sql(stored)


def _bulk_body(trigger_sql: str) -> str | None:
    """The trigger's one statement over every row with an id above ``?``, or None
    when the trigger is not the one-statement shape this knows."""
    upper = trigger_sql.upper()
    start, end = upper.find(" BEGIN"), upper.rfind("END")
    if start < 0 or end < start:
        return None
    body = trigger_sql[start + len(" BEGIN") : end].strip()
    if body.count(";") != 1 or not body.endswith(";") or body.lower().count("new.") != 1:
        return None
    if not body.upper().startswith("INSERT INTO PROSPECT_FTS") or body.count(_PER_ROW) != 1:
        return None
    return body[:-1].replace(_PER_ROW, "WHERE p.id > ?")
