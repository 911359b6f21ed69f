"""The one module that owns the database engine.

Every SQLite connection gets foreign keys, WAL, synchronous=FULL and a busy
timeout; write transactions start with ``BEGIN IMMEDIATE`` so two writers
queue at the start instead of failing half-way. Opening a database applies
pending Alembic migrations after a verified backup copy of the file, and
refuses a database written by a newer version of the app.

Alembic is imported only when a migration must run (over a second at start
otherwise): the revisions this version knows, and its head, are read from
the migration files' ``revision``/``down_revision`` lines
(:func:`read_revision_chain`), and an at-head database is recognised by
its stored ``alembic_version`` alone.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shlex
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import platformdirs
from sqlalchemy import event, inspect
from sqlalchemy import text as sql
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from .. import APP_ID
from ..errors import (
    DatabaseError,
    DatabaseMissingError,
    NotACrmDatabaseError,
    PasswordRequiredError,
    ReadOnlyDatabaseError,
    SchemaTooNewError,
)
from . import audit_head
from .folders import make_private_folder
from .sqlite_copy import backup_sqlite_file
from .urls import mask_secrets, safe_url, url_without_password, with_password

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 10_000


def default_database_path() -> Path:
    return platformdirs.user_data_path(APP_ID, appauthor=False) / "crm.db"


def resolve_database_url(spec: str | os.PathLike | None = None) -> str:
    """A path or SQLAlchemy URL; else ``CRM_DATABASE_URL``; else the default."""
    if spec is None or str(spec) == "":
        spec = os.environ.get("CRM_DATABASE_URL") or default_database_path()
    text = str(spec)
    if "://" in text:
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


def names_default_location(spec: str | os.PathLike | None) -> bool:
    """True when ``spec`` leaves the choice to the app (no path, no CRM_DATABASE_URL).

    The default file is the only database opened without being named, so it
    is the only one created on first use without asking: it cannot be a typo.
    """
    return (spec is None or str(spec) == "") and not os.environ.get("CRM_DATABASE_URL")


def sqlite_file(spec: str | os.PathLike | None) -> Path | None:
    """The local file ``spec`` names, or None for a server or in-memory database."""
    try:
        parsed = make_url(resolve_database_url(spec))
    except ArgumentError:
        return None
    return _sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None


def missing_database(location: str) -> DatabaseMissingError:
    """The one-line refusal for a database that is not there (nothing is created)."""
    return DatabaseMissingError(
        f"No database at {location}. Create one with: crm init --db {shlex.quote(location)}",
        location,
    )


def _set_sqlite_pragmas(dbapi_conn, _record) -> None:
    # Let SQLAlchemy's begin event issue BEGIN itself (see _begin below).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Deleted or overwritten values are zeroed, not left in free space (many
    # builds of SQLite leave this off: it is not left to the build).
    cur.execute("PRAGMA secure_delete=ON")
    # A read-only file or folder cannot switch to WAL; it can still be read.
    with contextlib.suppress(sqlite3.OperationalError):
        cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


BEGIN_RETRIES = 5
#: The page cache of a held connection (Database.held_connection), in KiB.
HELD_CACHE_KIB = 131_072


def _begin(conn) -> None:
    """BEGIN, or BEGIN IMMEDIATE for writes, retried a bounded number of times.

    A writer takes the write lock at the start of its transaction, so it
    either gets it (after waiting up to the busy timeout) or fails before it
    has done anything; then it is safe to try again.
    """
    options = conn.get_execution_options()
    if not options.get("crm_write", False):
        # Deferred: a reader takes no lock, and in WAL mode never waits for a writer.
        conn.exec_driver_sql("BEGIN")
        return
    wait = options.get("crm_wait")
    if wait is not None:
        # A bounded wait (see Database.transaction): one try, then the usual timeout again.
        conn.exec_driver_sql(f"PRAGMA busy_timeout={max(0, int(wait * 1000))}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return
    for attempt in range(BEGIN_RETRIES):
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == BEGIN_RETRIES - 1:
                raise
            time.sleep(0.05 * 2**attempt)


#: The PostgreSQL advisory lock every write transaction takes first ("CRMWRITE").
PG_WRITE_LOCK = 0x43524D5752495445
#: How long a PostgreSQL writer waits for that lock (or any other) before
#: giving up with "The database is busy", having done nothing.
PG_WRITE_LOCK_WAIT_MS = 30_000


def _begin_postgresql(conn) -> None:
    """Start a PostgreSQL write transaction by taking the one write lock.

    This is SQLite's ``BEGIN IMMEDIATE`` on the server: one transaction-level
    advisory lock that every write transaction takes as its first statement,
    so writers run one at a time and each sees everything committed before
    it. Two things need that. Appending to the audit trail reads the last
    entry's hash and links the new entry to it; under READ COMMITTED two
    writers locking "the last entry" each lock the one they can see, and both
    append after it (the chain forks). And because every other lock (a
    prospect row, the audit trail's head) is then taken while holding this
    one, locks are always taken in one order and writers cannot deadlock
    (as logging a contact, which audits and then updates the prospect, once
    did against an edit, which updates and then audits). Writes in this
    app are short, so serialising them costs little; reads take no lock and
    never wait. The lock goes with the transaction (commit, rollback or a
    dropped connection). ``crm_wait`` (see :meth:`Database.transaction`)
    bounds the wait as it does on SQLite.
    """
    options = conn.get_execution_options()
    if not options.get("crm_write", False):
        return
    wait = options.get("crm_wait")
    ms = PG_WRITE_LOCK_WAIT_MS if wait is None else max(1, int(wait * 1000))
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")


SQLITE_FULL = 13
SQLITE_IOERR = 10  # extended codes keep it in the low byte (SQLITE_IOERR_WRITE = 778)
DISK_FULL_MESSAGE = "The disk is full: nothing was saved. Free some space and try again."
_NEARLY_FULL_BYTES = 1 << 20


def _is_io_error(text: str, code: int | None) -> bool:
    return "disk i/o error" in text or (code is not None and code & 0xFF == SQLITE_IOERR)


def _disk_is_nearly_full(where: str) -> bool:
    """True if ``where`` is a local database file whose disk has under 1 MiB free."""
    if not where or "://" in where:
        return False
    try:
        return shutil.disk_usage(Path(where).parent).free < _NEARLY_FULL_BYTES
    except (OSError, ValueError):
        return False


def friendly_db_error(exc: BaseException, where: str = "") -> DatabaseError:
    """Turn a driver error about the environment into a message a person can act on.

    ``where`` may be a URL: it is shown with its password masked, and any
    password the driver's own text quotes is masked too.
    """
    error = _friendly_db_error(exc, safe_url(where) if "://" in where else where)
    message = mask_secrets(str(error), where) if where else mask_secrets(str(error))
    if message != str(error):
        error.args = (message, *error.args[1:])
    return error


def _friendly_db_error(exc: BaseException, where: str) -> DatabaseError:
    text = str(getattr(exc, "orig", exc)).lower()
    place = f" ({where})" if where else ""
    if "password authentication failed" in text:
        return PasswordRequiredError(
            f"The database server refused the password{place}.", refused=True
        )
    if "no password supplied" in text or "password is required" in text:
        return PasswordRequiredError(f"The database server asks for a password{place}.")
    if "locked" in text or "busy" in text or "lock timeout" in text:
        return DatabaseError(
            "The database is busy: another program is writing to it. "
            "Nothing was saved; try again in a moment."
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseError(
            f"The database is read-only{place}: nothing was saved. "
            "Check the file's permissions or open a copy you can write to."
        )
    code = getattr(getattr(exc, "orig", exc), "sqlite_errorcode", None)
    if (
        "disk is full" in text
        or "disk full" in text
        or "no space" in text
        or code == SQLITE_FULL
        or (_is_io_error(text, code) and _disk_is_nearly_full(where))
    ):
        return DatabaseError(DISK_FULL_MESSAGE)
    if _is_io_error(text, code):
        # SQLite reports a write refused for want of space as a plain I/O
        # error in some places (the WAL index, fsync, truncation) and does
        # not pass on the reason.
        return DatabaseError(
            f"The disk may be full or failing{place}: nothing was saved. Free some space "
            "and try again; if there is space, check the disk for errors."
        )
    if "unable to open" in text:
        return DatabaseError(f"Cannot open the database file{place}.")
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return NotACrmDatabaseError(
            f"The file is not a CRM Desktop database, or it is damaged{place}."
        )
    return DatabaseError(f"Database error{place}: {_without_values(getattr(exc, 'orig', exc))}")


def _without_values(error: BaseException) -> str:
    """A driver's message without the values it quotes (they can be personal data).

    Only the first line is kept (PostgreSQL's DETAIL line repeats the row's
    values), and anything in quotes becomes "…".
    """
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else type(error).__name__
    return re.sub(r"'[^']*'|\"[^\"]*\"", "…", first)


def _is_unreadable_value(exc: BaseException) -> bool:
    """True if ``exc`` was raised while the driver's result was turned into values.

    A value that does not parse as its column's type (a date column holding
    an email address) fails there; errors raised by our own code (a
    ValidationError is a ValueError) are not this.
    """
    files: list[str] = []
    tb = exc.__traceback__
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename.replace("\\", "/"))
        tb = tb.tb_next
    if not files or "sqlalchemy/" not in files[-1]:
        return False
    return any(
        "sqlalchemy/orm/loading" in name
        or ("sqlalchemy/engine/" in name and ("result" in name or "cursor" in name))
        for name in files
    )


def _find_unreadable_row(engine: Engine) -> tuple[str, str, int] | None:
    """The first (table, column, id) whose stored date or time does not parse (SQLite)."""
    from sqlalchemy import Date, DateTime
    from sqlmodel import SQLModel

    from ..domain import models  # noqa: F401  (the tables)

    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if "id" not in table.c:
                continue
            for column in table.c:
                kind = getattr(column.type, "impl", column.type)
                if isinstance(kind, DateTime):
                    parse = "datetime"
                elif isinstance(kind, Date):
                    parse = "date"
                else:
                    continue
                name = f'"{column.name}"'
                row = conn.exec_driver_sql(
                    f'SELECT id FROM "{table.name}" WHERE {name} IS NOT NULL AND '
                    f"(typeof({name}) != 'text' OR {parse}({name}) IS NULL) LIMIT 1"
                ).first()
                if row is not None:
                    return table.name, column.name, row[0]
    return None


#: How long the clean-up after an erasure waits for other programs' reads to
#: end before leaving the rest for later (see Database.scrub).
SCRUB_READER_WAIT_MS = 2_000


@dataclass(frozen=True)
class ScrubResult:
    """What :meth:`Database.scrub` achieved.

    ``finished``: SQLite: the files were rewritten, the log emptied and
    checked; PostgreSQL: the tables were vacuumed with no older transaction
    holding their old row versions. ``checked``: the files themselves were
    checked (SQLite; a server's files cannot be). ``reader``: another
    connection's open transaction kept the old data (it goes when that ends).
    ``problem``: otherwise, why it did not finish ("the disk is full").
    """

    finished: bool
    checked: bool = False
    reader: bool = False
    problem: str = ""


def _scrub_problem(exc: BaseException, where: str) -> str:
    """Why a clean-up failed, as a phrase: the error without "nothing was saved"."""
    message = str(friendly_db_error(exc, where))
    if message == DISK_FULL_MESSAGE:
        return "the disk is full"
    for start, phrase in (
        ("The disk may be full or failing", "the disk may be full or failing"),
        ("The database is busy", "another program was writing to the database"),
        ("The database is read-only", "the database is read-only"),
    ):
        if message.startswith(start):
            return phrase
    return message.rstrip(".")


class Database:
    """An opened, migrated database. Thread-safe: share one per process."""

    def __init__(self, url: str, engine: Engine, *, read_only: bool = False):
        self.url = url
        self.engine = engine
        self.write_engine = engine.execution_options(crm_write=True)
        #: Opened read-only (a file or folder we may not write, or ``mode=ro``):
        #: reading works, every write is refused before it starts.
        self.read_only = read_only

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database or in-memory one."""
        if not self.is_sqlite:
            return None
        return _sqlite_path(make_url(self.url))

    @property
    def display_name(self) -> str:
        """The file, or the URL with its password masked: safe to show anywhere."""
        if self.path:
            return str(self.path)
        return safe_url(self.url)

    def check_writable(self) -> None:
        """Refuse, before any work is done, to change a database opened read-only."""
        if self.read_only:
            raise ReadOnlyDatabaseError(
                f"The database is read-only ({self.display_name}): nothing was saved, and "
                "nothing can be changed. Open a copy you can write to, or ask for write "
                "permission."
            )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
        except (OperationalError, DBAPIError) as exc:
            raise friendly_db_error(exc, self.display_name) from exc
        except (ValueError, TypeError, LookupError, OverflowError) as exc:
            if not _is_unreadable_value(exc):
                raise
            raise self._unreadable_value_error() from None

    @contextmanager
    def held_connection(self) -> Iterator[Connection]:
        """One connection kept for a job that prepares its rows on it before its
        write transaction (``transaction(connection=...)``): TEMP tables written
        on it take no lock on the database (see ``bulk.Stage``), and they are
        seen only by it. Rolled back and given back to the pool at the end."""
        self.check_writable()
        try:
            with self.engine.connect() as conn:
                cache = None
                if self.is_sqlite:
                    # A bulk write touches index pages all over each index: with
                    # SQLite's default 2 MB cache they are written out and read
                    # back again and again under the write lock. A larger cache
                    # (used only as needed) for this job, the default again after.
                    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{HELD_CACHE_KIB}")
                    conn.commit()
                try:
                    yield conn
                finally:
                    try:
                        if conn.in_transaction():
                            conn.rollback()
                        if cache is not None:
                            conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")
                            conn.commit()
                    except Exception:  # noqa: BLE001 - a broken connection: never pooled again
                        conn.invalidate()
        except (OperationalError, DBAPIError) as exc:
            raise friendly_db_error(exc, self.display_name) from exc

    @contextmanager
    def transaction(
        self, *, wait: float | None = None, connection: Connection | None = None
    ) -> Iterator[Session]:
        """One user action: commits at the end, rolls back everything on error.

        ``wait`` bounds, in seconds, how long to wait for another writer
        (else up to the busy timeout, retried): past it the action fails with
        "The database is busy" having done nothing, so that the caller can
        keep it and try again later instead of keeping a person waiting.
        ``connection``: run on this one (from :meth:`held_connection`, no
        transaction open on it) instead of one from the pool.
        """
        self.check_writable()
        engine = self.write_engine
        if wait is not None:
            engine = engine.execution_options(crm_wait=wait)
        if connection is not None:
            # The write engine's options (BEGIN IMMEDIATE...), for this transaction only.
            engine = connection.execution_options(**engine.get_execution_options())
        try:
            with Session(engine, expire_on_commit=False) as session:
                with session.begin():
                    if wait is not None and self.dialect == "postgresql":
                        # 0 would mean no limit; every lock this transaction waits for is bounded.
                        ms = max(1, int(wait * 1000))
                        session.connection().exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")
                    yield session
                appended = audit_head.appended(session)
        except (OperationalError, DBAPIError) as exc:
            raise friendly_db_error(exc, self.display_name) from exc
        except (ValueError, TypeError, LookupError, OverflowError) as exc:
            if not _is_unreadable_value(exc):
                raise
            raise self._unreadable_value_error() from None
        finally:
            if connection is not None:
                connection.execution_options(crm_write=False, crm_wait=None)
        if appended and self.path is not None:
            # Committed: the head file beside it follows (see audit_head).
            audit_head.advance(self, born=appended)

    def _unreadable_value_error(self) -> DatabaseError:
        """A stored value the driver could not read back, named by its row, never its text.

        The driver's own message quotes the value (a person's address, say),
        and is not passed on, not even as the cause.
        """
        found = None
        with contextlib.suppress(Exception):
            found = _find_unreadable_row(self.engine) if self.is_sqlite else None
        where = f"{found[0]} #{found[2]}, {found[1]}" if found else "a row"
        return DatabaseError(
            f"The database ({self.display_name}) holds a value that cannot be read "
            f"({where}): it may be damaged. Nothing was changed; restore a backup or "
            "correct that row."
        )

    def scrub(self, *, wait_ms: int | None = None) -> ScrubResult:
        """Make deleted or overwritten data unrecoverable from the files (after erasure).

        SQLite: merge the search index's segments, rewrite the file without
        free pages (VACUUM) and empty the write-ahead log, and check that the
        log really was emptied: another connection's open read keeps the old
        pages (in the file and the log) until it ends. With secure_delete on
        every connection, a rewritten file with an empty log holds no old
        values. (The files are not read from here to look: closing a
        descriptor on the database file would drop this process's SQLite
        locks, see sqlite.org/howtocorrupt.html.) PostgreSQL: VACUUM the
        tables that held the data, so old row versions are reclaimed, and
        note whether an older transaction still holds them back; what the
        server keeps in its own files cannot be checked from here.

        Never raises for a failure: what did not finish is in the result, for
        the caller to say and to leave for later. ``wait_ms`` bounds every
        wait for another program (the start-up clean-up must not keep a
        command waiting behind a writer).
        """
        if self.is_sqlite:
            return self._scrub_sqlite(wait_ms)
        if self.dialect == "postgresql":
            return self._scrub_postgresql()
        return ScrubResult(finished=True)

    def _scrub_sqlite(self, wait_ms: int | None) -> ScrubResult:
        # Outside any transaction (VACUUM refuses to run inside one); the
        # driver connection is in autocommit mode (see _set_sqlite_pragmas).
        reader_wait = min(SCRUB_READER_WAIT_MS, BUSY_TIMEOUT_MS if wait_ms is None else wait_ms)
        try:
            raw = self.engine.raw_connection()
            try:
                cur = raw.cursor()
                try:
                    if wait_ms is not None:
                        cur.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
                    busy = self._scrub_statements(cur, reader_wait)
                finally:
                    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                    cur.close()
            finally:
                raw.close()
        except (sqlite3.Error, DBAPIError) as exc:
            return ScrubResult(finished=False, problem=_scrub_problem(exc, self.display_name))
        if busy:
            return ScrubResult(finished=False, checked=True, reader=True)
        return ScrubResult(finished=True, checked=True)

    @staticmethod
    def _scrub_statements(cur, reader_wait_ms: int) -> bool:
        """Run the clean-up; True if another connection's read kept the log from emptying."""
        cur.execute("INSERT INTO prospect_fts(prospect_fts) VALUES ('optimize')")
        cur.execute("VACUUM")
        # TRUNCATE waits (up to the busy timeout) for readers of older pages.
        cur.execute(f"PRAGMA busy_timeout={int(reader_wait_ms)}")
        busy, _frames, _copied = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy)

    def _scrub_postgresql(self) -> ScrubResult:
        autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        try:
            with autocommit.connect() as conn:
                started = conn.execute(sql("SELECT clock_timestamp()")).scalar_one()
                self._vacuum_postgresql(conn)
                # A transaction begun before the VACUUM (a reader's snapshot or
                # a writer's) keeps the old row versions until it ends.
                older = conn.execute(
                    sql(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND backend_type = 'client backend' "
                        "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) "
                        "AND xact_start < :started"
                    ),
                    {"started": started},
                ).scalar_one()
        except (OperationalError, DBAPIError) as exc:
            return ScrubResult(finished=False, problem=_scrub_problem(exc, self.display_name))
        return ScrubResult(finished=not older, reader=bool(older))

    @staticmethod
    def _vacuum_postgresql(conn) -> None:
        for table in ("prospect", "correspondence", "consent_event", "channel_permission",
                      "audit_entry", "prospect_interest"):  # fmt: skip
            conn.exec_driver_sql(f"VACUUM {table}")

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config(connection=None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_QUOTED = re.compile(r"""(["'])([^"'\\]+)\1""")


def _revision_value(text: str) -> str | None | bool:
    """A ``revision =`` line's value: the id, None, or False if it is not a plain one."""
    if text == "None":
        return None
    quoted = _QUOTED.fullmatch(text)
    return quoted.group(2) if quoted else False


def read_revision_chain(versions: Path) -> tuple[str, ...] | None:
    """The revision ids of the migrations in ``versions``, oldest first.

    Read from each file's ``revision = "..."`` and ``down_revision = ...``
    lines, without importing Alembic or the migrations. None when that
    cannot be trusted (no files, a line that is not a plain string or None,
    a branch or a merge, a gap): then Alembic is asked instead.
    """
    parents: dict[str, str | None] = {}
    try:
        files = sorted(versions.glob("*.py"))
        texts = [(path.name, path.read_text(encoding="utf-8")) for path in files]
    except (OSError, UnicodeDecodeError):
        return None
    for name, text in texts:
        if name == "__init__.py":
            continue
        found: dict[str, list[str]] = {}
        for key, value in _REVISION_LINE.findall(text):
            found.setdefault(key, []).append(value)
        if [len(found.get(key, ())) for key in ("revision", "down_revision")] != [1, 1]:
            return None
        revision = _revision_value(found["revision"][0])
        parent = _revision_value(found["down_revision"][0])
        if not isinstance(revision, str) or parent is False or revision in parents:
            return None
        parents[revision] = parent  # type: ignore[assignment]  (False is refused above)
    child_of = {parent: revision for revision, parent in parents.items()}
    if not parents or len(child_of) != len(parents):  # none, or two with one parent
        return None
    chain: list[str] = []
    current: str | None = None
    while current in child_of:
        current = child_of[current]
        chain.append(current)
    return tuple(chain) if len(chain) == len(parents) else None


@functools.cache
def _revision_chain() -> tuple[str, ...]:
    """This version's revisions, oldest first (from the files; else from Alembic)."""
    chain = read_revision_chain(MIGRATIONS_DIR / "versions")
    if chain is not None:
        return chain
    return tuple(reversed([rev.revision for rev in _script().walk_revisions()]))


def known_revisions() -> frozenset[str]:
    return frozenset(_revision_chain())


def head_revision() -> str:
    return _revision_chain()[-1]


def _stored_revision(conn, tables: set[str]) -> str | None:
    """The revision recorded in ``alembic_version`` (None if there is none).

    What Alembic's ``MigrationContext.get_current_revision`` reads, without
    importing Alembic; a table with several rows (branches, which this
    app never makes) is left to Alembic, which refuses it.
    """
    if "alembic_version" not in tables:
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    if len(rows) > 1:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(conn).get_current_revision()
    return rows[0][0] if rows else None


def _make_engine(url: str, *, create: bool) -> tuple[Engine, bool]:
    """The engine for ``url`` and whether it is read-only."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        path = _sqlite_path(parsed)
        mode = parsed.query.get("mode")
        read_only = False
        if path is not None:
            _check_sqlite_file(path, create=create and mode not in ("ro", "rw"))
            if path.stat().st_size:
                # Whether the file is ours is checked read-only: connecting
                # for real would switch another program's file to WAL.
                current, tables = _read_schema_without_changing(path)
                _refuse_unusable(current, tables, str(path))
            read_only = mode == "ro" or not _sqlite_writable(path)
        in_memory = not db or db == ":memory:"
        options: dict = {}
        if in_memory:
            options["poolclass"] = StaticPool
        elif read_only:
            options["creator"] = _read_only_connector(path)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            **options,
        )
        event.listen(engine, "connect", _set_sqlite_pragmas)
        event.listen(engine, "begin", _begin)
        return engine, read_only
    engine = create_engine(url, pool_pre_ping=True)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "begin", _begin_postgresql)
    return engine, False


def _sqlite_writable(path: Path) -> bool:
    """Can we change this file? Writing also needs its folder (for the WAL file)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _read_only_connector(path: Path):
    """Connections that only read ``path``, even in a folder we may not write.

    ``mode=ro`` reads a database in WAL mode only if its ``-wal`` and
    ``-shm`` files exist or can be made; in a read-only folder where they
    cannot, ``immutable=1`` reads the file as it is (nobody can be writing
    to it there).
    """
    base = "file:" + quote(str(path)) + "?mode=ro"
    timeout = BUSY_TIMEOUT_MS / 1000

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(base, uri=True, check_same_thread=False, timeout=timeout)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            conn.close()
            conn = sqlite3.connect(
                base + "&immutable=1", uri=True, check_same_thread=False, timeout=timeout
            )
        conn.execute("PRAGMA secure_delete=ON")  # every connection, as _set_sqlite_pragmas
        return conn

    return connect


def _read_schema_without_changing(path: Path) -> tuple[str | None, set[str]]:
    """The schema revision and table names of a SQLite file, read through ``mode=ro``."""
    try:
        conn = _read_only_connector(path)()
        try:
            tables = {
                name
                for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            }
            current = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                current = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if "file is not a database" in str(exc):  # not SQLite at all
            raise NotACrmDatabaseError(f"{path} is not a CRM Desktop database.") from None
        raise friendly_db_error(exc, str(path)) from exc
    return current, tables


def _sqlite_path(parsed) -> Path | None:
    """The file behind a SQLite URL (also ``file:`` URIs), or None for memory."""
    db = parsed.database
    if not db or db == ":memory:" or parsed.query.get("mode") == "memory":
        return None
    if parsed.query.get("uri") == "true" and db.startswith("file:"):
        db = db[len("file:") :]
    return Path(db)


def _check_sqlite_file(path: Path, *, create: bool) -> None:
    """Refuse what is not a database file; create the file only if ``create``.

    Without ``create`` an empty or absent file is refused with the one-line
    "No database at ..." before anything (file or folder) is made.
    """
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file.")
    if path.exists():
        if not os.access(path, os.R_OK):
            raise DatabaseError(f"Cannot read the database file {path}: permission denied.")
        # Its content is checked through SQLite (_read_schema_without_changing),
        # never by opening the file ourselves: closing any descriptor of a file
        # drops every POSIX lock this process holds on it, so a read of the
        # header while a connection here has it open would let another program
        # write under that connection's feet.
        if not path.stat().st_size and not create:
            raise missing_database(str(path))
    elif not create:
        raise missing_database(str(path))
    else:
        try:
            make_private_folder(path.parent)
        except OSError as exc:
            raise DatabaseError(f"Cannot create the folder for {path}: {exc.strerror}.") from exc
        # Owner-only from the start: it holds personal data.
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except FileExistsError:
            pass
        except OSError as exc:
            raise DatabaseError(f"Cannot create the database file {path}: {exc.strerror}.") from exc


def _refuse_unusable(current: str | None, tables: set[str], name: str) -> None:
    """Refuse a schema this version cannot use: newer, or another program's."""
    if current is not None and current not in known_revisions() and "prospect" not in tables:
        # Another program that also keeps its schema version with Alembic.
        raise NotACrmDatabaseError(f"{name} holds tables but is not a CRM Desktop database.")
    if current is not None and current not in known_revisions():
        raise SchemaTooNewError(
            f"This database ({name}) was written by a newer version of "
            f"CRM Desktop (schema {current}). Update the app to open it; "
            "nothing was changed."
        )
    if current is None and tables - {"alembic_version"}:
        raise NotACrmDatabaseError(f"{name} holds tables but is not a CRM Desktop database.")


def _migrate(db: Database, *, create: bool) -> None:
    head = head_revision()
    with db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        current = _stored_revision(conn, tables)
    _refuse_unusable(current, tables, db.display_name)
    if current is None and not create:
        # An empty file or server database: as good as none (nothing is made).
        raise missing_database(str(db.path) if db.path else url_without_password(db.url))
    if current == head:
        return
    if db.read_only:
        raise ReadOnlyDatabaseError(
            f"This database ({db.display_name}) was written by an older version of "
            "CRM Desktop and must be upgraded before this version can use it, but it is "
            "read-only. Open it once with write permission (a backup copy is kept), "
            "or use the older version."
        )
    if current is not None and db.path is not None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        backup_sqlite_file(db.path, db.path.with_name(f"{db.path.name}.pre-{head}-{stamp}.bak"))
    from alembic import command  # only now: importing Alembic takes over a second

    with db.write_engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")


def open_database(
    spec: str | os.PathLike | None = None,
    *,
    migrate: bool = True,
    create: bool = False,
    password: str | None = None,
) -> Database:
    """Open and migrate the database named by ``spec``.

    A database that is not there (no file, an empty file, an empty server
    database) is created only with ``create`` (``crm init``, File > New, or
    after the user agreed) or when ``spec`` names nothing, so the default
    file is made on first start; otherwise :class:`DatabaseMissingError`
    says "No database at ..." and nothing, not even a folder, is created.

    ``password`` is for a server that asks for one (after
    :class:`PasswordRequiredError`); without it libpq still reads
    ``PGPASSFILE`` or ``~/.pgpass``. A file we may not write opens
    read-only (:attr:`Database.read_only`).
    """
    create = create or names_default_location(spec)
    url = resolve_database_url(spec)
    try:
        make_url(url)
    except ArgumentError:
        raise DatabaseError(f"'{safe_url(url)}' is not a database path or URL.") from None
    if password is not None:
        url = with_password(url, password)
    engine = None
    try:
        engine, read_only = _make_engine(url, create=create)
        db = Database(url, engine, read_only=read_only)
        if migrate:
            _migrate(db, create=create)
    except (OperationalError, DBAPIError) as exc:
        _dispose(engine)
        raise friendly_db_error(exc, url) from exc
    except (ModuleNotFoundError, NoSuchModuleError) as exc:  # before ArgumentError, its base
        scheme = url.split(":", 1)[0]
        raise DatabaseError(f"No database driver for '{scheme}' URLs is installed.") from exc
    except ArgumentError as exc:
        raise DatabaseError(
            f"Cannot open the database {safe_url(url)}: {mask_secrets(str(exc), url)}"
        ) from None
    except DatabaseError:
        _dispose(engine)
        raise
    return db


def _dispose(engine: Engine | None) -> None:
    if engine is not None:
        engine.dispose()
