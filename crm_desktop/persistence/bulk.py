"""Inserting many rows at once, without SQLAlchemy's per-row parameter handling."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
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


_STAGE_NUMBERS = itertools.count(1)


class Stage:
    """Rows made ready before a write transaction, inserted inside it by one
    ``INSERT ... SELECT`` (no row goes through the driver under the lock).

    On SQLite the rows (:func:`converted` tuples, in the order of ``names``)
    wait in a TEMP table of ``conn`` (from ``Database.held_connection``, the
    connection the write transaction then runs on): writing it takes no lock
    on the database, and nobody else sees it. Elsewhere :attr:`active` is
    False and the caller inserts its rows as usual. :meth:`drop` when done.
    """

    def __init__(self, conn, names: Sequence[str], rows: Sequence[tuple]) -> None:
        self.conn = conn
        self.names = list(names)
        self.count = len(rows)
        self.active = conn.dialect.name == "sqlite" and bool(rows)
        self.table = f"crm_stage_{next(_STAGE_NUMBERS)}"
        if not self.active:
            return
        quote = conn.dialect.identifier_preparer.quote
        columns = ", ".join(quote(n) for n in self.names)
        # seq: 1, 2, ... in the order given (the rowid), which INSERT ... SELECT keeps.
        conn.exec_driver_sql(f"CREATE TEMP TABLE {self.table} (seq INTEGER PRIMARY KEY, {columns})")
        conn.exec_driver_sql(
            f"INSERT INTO temp.{self.table} ({columns}) VALUES ({', '.join('?' * len(self.names))})",
            rows,
        )
        conn.commit()

    def insert_into(
        self,
        session,
        table: Table,
        copied: Sequence[str],
        computed: Mapping[str, str] | None = None,
        params: Sequence = (),
        where: str | None = None,
    ) -> None:
        """``INSERT INTO table`` the staged rows in their order: the ``copied``
        columns as staged, and each ``computed`` column from an SQL expression
        over them (``s.<name>``, ``s.seq`` the row's place from 1, ``?`` from
        ``params``), of the rows ``where`` says (all without)."""
        quote = session.connection().dialect.identifier_preparer.quote
        computed = dict(computed or {})
        targets = [*copied, *computed]
        sources = [f"s.{quote(n)}" for n in copied] + list(computed.values())
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in targets)}) "
            f"SELECT {', '.join(sources)} FROM temp.{self.table} AS s"
            + (f" WHERE {where}" if where else "")
            + " ORDER BY s.seq"
        )
        session.connection().exec_driver_sql(sql, tuple(params))

    def drop(self) -> None:
        if self.active:
            self.active = False
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{self.table}")
            self.conn.commit()
