"""Inserting many rows at once, without SQLAlchemy's per-row parameter handling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter

from sqlalchemy import Table, insert


def insert_many(session, table: Table, rows: Sequence[dict]) -> None:
    """``session.execute(insert(table), rows)`` for many rows with the same keys.

    On SQLite the rows go to the driver's ``executemany`` as tuples, each
    distinct value converted once by its column's own bind processor (the
    dialect's, so the stored text is exactly SQLAlchemy's), instead of
    SQLAlchemy building and processing a parameter set per row: at 100,000
    rows that is seconds of a write transaction. Columns left out get their
    server defaults only, so every row names the columns that have a Python
    default (checked). Elsewhere it is ``session.execute`` as usual.
    """
    if not rows:
        return
    names = list(rows[0])
    missing = [c.name for c in table.c if c.default is not None and c.name not in rows[0]]
    if missing:  # on every database, so that a mistake shows wherever the tests run
        raise ValueError(f"insert_many into {table.name} needs {', '.join(missing)}")
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        session.execute(insert(table), list(rows))
        return
    insert_converted(session, table, names, converted(conn.dialect, table, rows))


def converted(dialect, table: Table, rows: Sequence[dict]) -> list[tuple]:
    """Each row's values (in the order of the first row's keys) as the SQLite driver
    takes them: each distinct value converted once by its column's bind processor.

    Made before a write transaction, so that only :func:`insert_converted` runs
    inside it (values known only there, an id, can be added to the end of each).
    """
    if not rows:
        return []
    names = list(rows[0])
    converters: list[Callable | None] = []
    for name in names:
        column_type = table.c[name].type
        converters.append(_memoised(column_type.dialect_impl(dialect).bind_processor(dialect)))
    get = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    if all(c is None for c in converters):
        return [get(row) for row in rows]
    return [
        tuple(v if c is None else c(v) for v, c in zip(get(row), converters, strict=True))
        for row in rows
    ]


def insert_converted(session, table: Table, names: Sequence[str], params: Sequence) -> None:
    """INSERT rows already :func:`converted` (SQLite), in one executemany."""
    if not params:
        return
    conn = session.connection()
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    conn.exec_driver_sql(sql, params)


def _memoised(process: Callable | None) -> Callable | None:
    """``process``, run once per distinct (hashable) value."""
    if process is None:
        return None
    memo: dict = {}

    def convert(value):
        try:
            return memo[value]
        except KeyError:
            done = memo[value] = process(value)
            return done
        except TypeError:  # not hashable
            return process(value)

    return convert
