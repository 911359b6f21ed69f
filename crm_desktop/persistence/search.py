"""Text search over prospects, in SQL.

SQLite uses the FTS5 index that migration 0002 keeps in step with triggers;
every word typed must prefix-match a word of the name, email or school.
Other databases get the same meaning from LIKE over the same columns.
"""

from __future__ import annotations

import re

from sqlalchemy import and_, bindparam, func, literal, or_, text
from sqlalchemy.sql.elements import ColumnElement

from ..domain.models import Prospect, School

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
    """A WHERE condition on Prospect (School outer-joined), or None for no filter."""
    terms = search_terms(query)
    if not terms:
        return None
    if dialect == "sqlite":
        ids = text("SELECT rowid FROM prospect_fts WHERE prospect_fts MATCH :fts").bindparams(
            bindparam("fts", fts_match_expression(terms))
        )
        return Prospect.id.in_(ids)
    name = func.lower(Prospect.first_name + literal(" ") + Prospect.last_name)
    parts = []
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append(
            or_(
                name.like(pattern, escape="\\"),
                func.coalesce(Prospect.email_key, "").like(pattern, escape="\\"),
                func.coalesce(School.name_key, "").like(pattern, escape="\\"),
            )
        )
    return and_(*parts)
