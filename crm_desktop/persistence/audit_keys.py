"""The audit trail's key: kept outside the database, one per database.

A hash chain with a published, unkeyed SHA-256 only catches accidents:
anyone who can write the database file (or, on PostgreSQL, the table) can
change an entry and recompute every hash after it. Keyed entries are an
HMAC-SHA256 under a secret that is never in the database nor in its
backups, so rewriting the trail also needs a copy of that secret.

Where it lives: one file per database, ``<database id>.key`` in the
``audit-keys`` folder of the user's configuration folder (owner-only: the
folder 0700, the file 0600). The database holds only its random identity
(``audit.database_id``) and the fingerprint of its key (``audit.key_id``),
so the app knows which file to read; neither reveals the key.

A team database is used from several computers: the key is moved by hand,
``crm audit key export FILE`` on a computer that has it and ``crm audit
key import FILE`` on the others (or Settings > Audit trail). Nobody is
ever stopped from working for want of the key: a computer without it signs
new entries with a key of its own for that database (kept in the same
file), and ``verify`` says which entries it cannot check here, and how to
bring their key. Those entries' links are still checked everywhere.

This module is the key store (files, identity, signing keys); the actions a
person takes with it (show, export, import: recorded in the trail) are
``services.audit_key``.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from sqlalchemy import event, select
from sqlmodel import Session

from .. import APP_ID
from ..domain.audit import key_fingerprint
from ..domain.models import Setting
from ..errors import CrmError
from ..formats.atomic import FileWriteError, atomic_output, describe_os_error
from .folders import make_private_folder

DATABASE_SETTING = "audit.database_id"  # the database's random identity
KEY_SETTING = "audit.key_id"  # the fingerprint of the key every computer should use
FORMAT = "crm-desktop audit keys"
KEY_BYTES = 32
EXPORT_COMMAND = "crm audit key export FILE"
IMPORT_COMMAND = "crm audit key import FILE"
HOW_TO_BRING = (
    "export the key on a computer that has it (File > Audit trail > Export key, or "
    f"'{EXPORT_COMMAND}') and import it here (Import key, or '{IMPORT_COMMAND}')."
)


class AuditKeyError(CrmError):
    """A key file cannot be read, written or used for this database."""


def key_folder() -> Path:
    return platformdirs.user_config_path(APP_ID, appauthor=False) / "audit-keys"


def key_file(database_id: str) -> Path:
    return key_folder() / f"{database_id}.key"


@dataclass(frozen=True)
class KeySet:
    """The keys this computer holds for one database (fingerprint -> key)."""

    database_id: str
    keys: dict[str, bytes]
    location: str | None = None
    # Written before the transaction that records the database's identity
    # commits: until it has, the file may belong to no database at all (the
    # writer was killed, or rolled back), so it proves nothing about one.
    pending: bool = False


# A key generated where it could not be saved (a read-only home): it signs
# this process's entries, which then cannot be checked anywhere else; better
# than refusing to record the change.
_unsaved: dict[str, tuple[str, bytes]] = {}
_lock = threading.RLock()  # re-entered by _confirm inside signing_key
# Key files read, by path: (mtime, size, inode) -> keys. Every audit entry
# needs its key; the file changes rarely.
_cache: dict[Path, tuple[tuple[int, int, int], KeySet]] = {}


def _parse(data: object, *, source: str) -> KeySet:
    """A key file's contents, checked: every key must match its fingerprint."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AuditKeyError(f"{source} is not an audit key file of this app.")
    database_id = data.get("database")
    keys = data.get("keys")
    if not isinstance(database_id, str) or not database_id or not isinstance(keys, dict):
        raise AuditKeyError(f"{source} is not an audit key file of this app.")
    parsed: dict[str, bytes] = {}
    for key_id, hex_key in keys.items():
        try:
            key = bytes.fromhex(hex_key)
        except (TypeError, ValueError):
            raise AuditKeyError(f"{source} is damaged: a key in it cannot be read.") from None
        if key_fingerprint(key) != key_id:
            raise AuditKeyError(f"{source} is damaged: a key does not match its name.")
        parsed[key_id] = key
    location = data.get("location")
    location = location if isinstance(location, str) else None
    return KeySet(database_id, parsed, location, pending=data.get("pending") is True)


def _read_file(path: Path) -> KeySet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise AuditKeyError(f"The audit key file {path} cannot be read.") from exc
    return _parse(data, source=f"The audit key file {path}")


def _write_file(path: Path, keyset: KeySet, *, replace: bool = True) -> None:
    data = {
        "format": FORMAT,
        "database": keyset.database_id,
        "location": keyset.location,
        "keys": {key_id: key.hex() for key_id, key in sorted(keyset.keys.items())},
    }
    if keyset.pending:
        data["pending"] = True
    try:
        make_private_folder(path.parent)
    except OSError as exc:
        raise FileWriteError(describe_os_error(exc, path)) from exc
    with atomic_output(path, mode=0o600, replace=replace) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _held_file(database_id: str) -> KeySet | None:
    """This computer's key file for ``database_id``, read through the cache."""
    path = key_file(database_id)
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = _cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, _read_file(path))
            _cache[path] = cached
        return cached[1]
    except (OSError, AuditKeyError):
        return None


def held_keys(database_id: str | None) -> dict[str, bytes]:
    """The keys for ``database_id`` on this computer (empty if none or unreadable)."""
    if database_id is None:
        return {}
    keys: dict[str, bytes] = {}
    held = _held_file(database_id)
    if held is not None:
        keys.update(held.keys)
    unsaved = _unsaved.get(database_id)
    if unsaved:
        keys.setdefault(*unsaved)
    return keys


def database_identity(session: Session) -> tuple[str | None, str | None]:
    """(database id, the fingerprint of its key) as the database records them."""
    rows = dict(
        session.execute(
            select(Setting.key, Setting.value).where(
                Setting.key.in_([DATABASE_SETTING, KEY_SETTING])
            )
        ).all()
    )
    return rows.get(DATABASE_SETTING), rows.get(KEY_SETTING)


def location_of(session: Session) -> str | None:
    """Where the database is (its file, or its URL without a password)."""
    url = session.get_bind().engine.url  # bound to an engine or a connection, the same URL
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            return None
        return str(Path(url.database).resolve())
    return url.set(password=None).render_as_string(hide_password=False)


def keys_elsewhere_for(location: str | None, database_id: str | None) -> str | None:
    """The id of another database this computer keeps a key for at ``location``.

    A trail rewritten without its key loses its keyed entries and the
    database's identity with them; the key file left on this computer still
    says a keyed database lived there.
    """
    if location is None:
        return None
    try:
        files = sorted(key_folder().glob("*.key"))
    except OSError:
        return None
    for path in files:
        try:
            keyset = _read_file(path)
        except (OSError, AuditKeyError):
            continue
        if keyset.pending:  # never committed (or not known to be): proves nothing
            continue
        if keyset.location == location and keyset.database_id != database_id and keyset.keys:
            return keyset.database_id
    return None


def _new_key() -> tuple[str, bytes]:
    key = secrets.token_bytes(KEY_BYTES)
    return key_fingerprint(key), key


def _add_key(
    database_id: str, key_id: str, key: bytes, location: str | None, *, pending: bool = False
) -> None:
    """Add a key to this computer's file for ``database_id`` (raises on failure)."""
    path = key_file(database_id)
    try:
        current = _read_file(path)
    except FileNotFoundError:
        current = KeySet(database_id, {}, pending=pending)
    except AuditKeyError:
        # Never write over a file we cannot read: it may hold the only copy.
        raise
    keys = {**current.keys, key_id: key}
    _write_file(
        path,
        KeySet(
            database_id, keys, location or current.location, pending=current.pending and pending
        ),
    )


def _confirm(database_id: str) -> None:
    """Mark the key file of ``database_id`` as belonging to a committed database.

    Called once the transaction that recorded the identity has committed, and
    again whenever the database is seen with its identity while the file
    still says pending (the process ended between the commit and this).
    A failure leaves the file pending, to be confirmed next time.
    """
    with _lock:
        path = key_file(database_id)
        try:
            current = _read_file(path)
            if current.pending:
                _write_file(path, KeySet(database_id, current.keys, current.location))
        except (OSError, CrmError):
            pass


def signing_key(session: Session, last_key_id: str | None) -> tuple[str, bytes] | None:
    """The key to sign the next entry with, inside the writer's transaction.

    The database's own key when this computer has it; else the key of the
    entry before, if held here; else this computer's own key for the
    database, made now if needed. On a database never keyed, its identity
    and key are made now (the settings rows join the caller's transaction).
    Returns None only when a first key cannot be saved: the trail then stays
    unkeyed, as before, rather than keyed with a key nobody has.
    """
    database_id, database_key = database_identity(session)
    location = location_of(session)
    with _lock:
        if database_id is None:
            database_id = secrets.token_hex(16)
            key_id, key = _new_key()
            try:
                _add_key(database_id, key_id, key, location, pending=True)
            except CrmError:
                return None
            session.add(Setting(key=DATABASE_SETTING, value=database_id))
            session.add(Setting(key=KEY_SETTING, value=key_id))
            event.listen(
                session, "after_commit", lambda _s, db=database_id: _confirm(db), once=True
            )
            return key_id, key
        found = _held_file(database_id)
        if found is not None and found.pending:
            _confirm(database_id)
        held = held_keys(database_id)
        for wanted in (database_key, last_key_id):
            if wanted in held:
                return wanted, held[wanted]
        if held:
            key_id = sorted(held)[0]
            return key_id, held[key_id]
        key_id, key = _new_key()
        try:
            _add_key(database_id, key_id, key, location)
        except CrmError:
            _unsaved[database_id] = (key_id, key)
        return key_id, key


@dataclass(frozen=True)
class KeyStatus:
    """What this computer holds of the database's audit key."""

    database_id: str | None  # None: no entry was ever keyed
    key_id: str | None  # the database's key (fingerprint)
    held: bool  # this computer has the database's key
    file: Path | None
    keys_here: int = 0  # keys this computer holds for the database (its own included)

    @property
    def sentence(self) -> str:
        if self.database_id is None:
            return "The audit trail is not keyed yet: its next entry will be."
        if self.held:
            return f"This computer holds the database's audit key (in {self.file})."
        return (
            "This computer does not hold the database's audit key, so the entries signed "
            f"with it cannot be checked here. To check them, {HOW_TO_BRING}"
        )


def status(session: Session) -> KeyStatus:
    database_id, key_id = database_identity(session)
    if database_id is None:
        return KeyStatus(None, None, False, None)
    held = held_keys(database_id)
    return KeyStatus(database_id, key_id, key_id in held, key_file(database_id), len(held))


def export_keys(session: Session, path: str | os.PathLike, *, overwrite: bool = False) -> int:
    """Write every key this computer holds for the database to ``path`` (0600).

    Returns how many keys were written. The file is as secret as the key:
    whoever has it can rewrite the trail. Refuses an existing file unless
    ``overwrite``.
    """
    database_id, _ = database_identity(session)
    keys = held_keys(database_id)
    if database_id is None or not keys:
        raise AuditKeyError(
            "This computer holds no audit key for this database, so there is nothing to "
            "export. Export it on a computer that does."
        )
    dest = Path(path).expanduser()
    _write_file(dest, KeySet(database_id, keys, None), replace=overwrite)
    return len(keys)


@dataclass(frozen=True)
class Imported:
    added: int
    already: int


def import_keys(session: Session, path: str | os.PathLike) -> Imported:
    """Add the keys in ``path`` (made by :func:`export_keys`) to this computer.

    Refuses a file made for another database, or damaged.
    """
    source = Path(path).expanduser()
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuditKeyError(f"Cannot read {source}: {exc.strerror or exc}.") from exc
    except ValueError:  # not UTF-8, or not JSON
        raise AuditKeyError(f"{source} is not an audit key file of this app.") from None
    incoming = _parse(data, source=str(source))
    database_id, _ = database_identity(session)
    if database_id is None:
        raise AuditKeyError(
            "This database has no audit key yet, so no key can belong to it: "
            f"{source} is for another database."
        )
    if incoming.database_id != database_id:
        raise AuditKeyError(
            f"{source} holds the audit key of another database; nothing was imported."
        )
    held = held_keys(database_id)
    new = {k: v for k, v in incoming.keys.items() if k not in held}
    location = location_of(session)
    with _lock:
        for key_id, key in new.items():
            _add_key(database_id, key_id, key, location)
    return Imported(len(new), len(incoming.keys) - len(new))
