"""The audit trail is keyed with a key kept outside the database.

An attacker who read the README (the hash is SHA-256 over a canonical JSON
body) and can write the database recomputes every hash: that is caught now.
The key file is private, never in the database or a backup, and a computer
without it is told plainly what it could not check, and keeps working.
"""

import hashlib
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from crm_desktop.domain.audit import GENESIS, EntryFields, canonical, entry_hash
from crm_desktop.domain.models import AuditEntry, Setting
from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.errors import CrmError
from crm_desktop.persistence import audit_keys
from crm_desktop.services import audit, audit_key, backups
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P


@pytest.fixture
def person(ctx) -> int:
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Jane", last_name="Smith", email="jane@oak.sch.uk")
    ).record.id
    view = P.get_prospect(ctx, pid)
    P.update_prospect(
        ctx, pid, ProspectInput(first_name="Janet", last_name="Smith", email=view.email,
                                owner=view.owner), reason="Rectification request #3",
    )  # fmt: skip
    C.log_contact(ctx, pid, ContactInput(kind="call", summary="Intro call"))
    return pid


def _rows(ctx) -> list[AuditEntry]:
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _key_files() -> list[Path]:
    return sorted(audit_keys.key_folder().glob("*.key"))


def _at(e: AuditEntry) -> datetime:
    return e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)


def _fields(e: AuditEntry, prev: str, key_id) -> EntryFields:
    hashes = json.loads(e.value_hashes)
    return EntryFields(_at(e), e.actor, e.action, e.entity, e.entity_id, hashes, prev, key_id)


def test_new_entries_are_keyed_and_the_key_file_is_private(ctx, person):
    rows = _rows(ctx)
    assert rows and all(e.key_id for e in rows)
    assert len({e.key_id for e in rows}) == 1
    [path] = _key_files()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    status = audit_key.key_status(ctx)
    assert status.held and status.file == path and status.key_id == rows[0].key_id
    result = audit.verify(ctx)
    assert result.complete and result.keyed_from == rows[0].id
    assert "every keyed entry was checked" in result.key_report


def _secret(path: Path) -> bytes:
    [hex_key] = json.loads(path.read_text())["keys"].values()
    return bytes.fromhex(hex_key)


@pytest.mark.sqlite_only
def test_the_key_is_never_in_the_database_or_a_backup(ctx, person, db_path, tmp_path):
    key = _secret(_key_files()[0])
    copy = backups.back_up(ctx, tmp_path / "copy.db")
    for path in (db_path, Path(f"{db_path}-wal"), copy):
        if path.exists():
            data = path.read_bytes()
            for form in (key, key.hex().encode(), key.hex().upper().encode()):
                assert form not in data, path


def test_the_key_is_in_no_table_of_a_server_database(ctx, person):
    # The same promise where there is no file to grep (PostgreSQL): every
    # text column of every table, dumped.
    key_hex = _secret(_key_files()[0]).hex()
    with ctx.db.read() as session:
        settings = dict(session.execute(select(Setting.key, Setting.value)).all())
        dump = json.dumps(settings) + " ".join(
            f"{e.values}{e.value_hashes}{e.hash}{e.key_id}{e.reason}" for e in _rows(ctx)
        )
        assert session.execute(text("SELECT 1")).scalar() == 1
    assert key_hex not in dump.lower()
    assert settings[audit_keys.DATABASE_SETTING] and settings[audit_keys.KEY_SETTING]


def _rewrite_with_sha256(ctx, *, strip_keys: bool, forget_identity: bool = False) -> int:
    """What an attacker who read the README does: alter, then recompute every hash.

    Returns the id of the first entry.
    """
    with ctx.db.transaction() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        edit = next(e for e in rows if e.action == "prospect.edited")
        edit.actor = "mallory"
        edit.reason = None
        hashes = json.loads(edit.value_hashes)
        hashes.pop("__reason__")
        edit.value_hashes = json.dumps(hashes, sort_keys=True)
        for e in rows:  # out of the way of the unique index while rewriting
            e.hash = hashlib.sha256(f"tmp{e.id}".encode()).hexdigest()
        session.flush()
        prev = GENESIS
        for e in rows:
            if strip_keys:
                e.key_id = None
                e.hash = entry_hash(_fields(e, prev, None))
            else:  # keep the key names, hash as the README says
                body = {
                    "at": _at(e).isoformat(), "actor": e.actor, "action": e.action,
                    "entity": e.entity, "entity_id": e.entity_id,
                    "value_hashes": json.loads(e.value_hashes), "prev": prev, "key": e.key_id,
                }  # fmt: skip
                e.hash = hashlib.sha256(canonical(body).encode()).hexdigest()
            e.prev_hash = prev
            prev = e.hash
        if forget_identity:
            session.execute(delete(Setting).where(Setting.key.like("audit.%")))
        return rows[0].id


@pytest.mark.parametrize(
    "how",
    ["keep key names", "strip keys", "strip keys and the database's identity"],
)
def test_rewriting_the_whole_chain_with_plain_sha256_is_caught(ctx, person, how):
    assert audit.verify(ctx).complete
    first = _rewrite_with_sha256(
        ctx, strip_keys=how != "keep key names", forget_identity="identity" in how
    )
    result = audit.verify(ctx)
    assert not result.ok, how
    if how == "keep key names":
        assert (result.first_bad_id, result.problem) == (first, "was altered")
    else:
        assert "rewritten without the key" in result.problem


def test_a_forged_unkeyed_tail_after_keyed_entries_is_caught(ctx, person):
    with ctx.db.transaction() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        forged = AuditEntry(
            at=last.at, actor="mallory", action="prospect.noted", entity="prospect",
            entity_id=str(person), values="{}", value_hashes="{}", prev_hash=last.hash,
        )  # fmt: skip
        forged.hash = entry_hash(_fields(forged, last.hash, None))
        session.add(forged)
        session.flush()
        forged_id, first_keyed = forged.id, _rows(ctx)[0].id
    result = audit.verify(ctx)
    assert (result.ok, result.first_bad_id) == (False, forged_id)
    assert result.problem == f"is not keyed, although entry {first_keyed} before it is"


def test_entries_written_before_keys_still_verify_and_the_trail_is_keyed_after(ctx, monkeypatch):
    # A database from before this version: its entries are unkeyed.
    monkeypatch.setattr(audit_keys, "signing_key", lambda session, last: None)
    old = P.create_prospect(
        ctx, ProspectInput(first_name="Old", last_name="Entry", email="old@oak.sch.uk")
    ).record.id
    result = audit.verify(ctx)
    assert result.ok and result.keyed_from is None and not _key_files()
    assert "not keyed" in result.key_report
    monkeypatch.undo()
    C.log_contact(ctx, old, ContactInput(kind="note", summary="After the upgrade"))
    rows = _rows(ctx)
    assert rows[0].key_id is None and rows[-1].key_id is not None
    result = audit.verify(ctx)
    first_keyed = next(e.id for e in rows if e.key_id)
    assert result.complete and result.keyed_from == first_keyed


def test_without_the_key_verify_says_what_it_could_not_check_and_work_goes_on(
    ctx, person, tmp_path, monkeypatch
):
    rows = _rows(ctx)
    exported = tmp_path / "team.key"
    assert audit_key.export_key(ctx, exported) == 1
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    keyed = len(rows) + 1  # the export itself is recorded
    # Another computer: same database, no key.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "laptop-2"))
    assert not audit_key.key_status(ctx).held
    assert "crm audit key import FILE" in audit_key.key_status(ctx).sentence
    result = audit.verify(ctx)
    assert result.ok and not result.complete and result.unchecked == keyed
    assert "only their links were checked" in result.key_report
    assert "crm audit key export FILE" in result.key_report
    # Links are still checked without the key.
    with ctx.db.transaction() as session:
        session.get(AuditEntry, rows[1].id).prev_hash = "0" * 64
    assert audit.verify(ctx).first_bad_id == rows[1].id
    with ctx.db.transaction() as session:
        session.get(AuditEntry, rows[1].id).prev_hash = rows[0].hash
    # Nobody is locked out: logging a contact works and signs with this
    # computer's own key for the database.
    C.log_contact(ctx, person, ContactInput(kind="call", summary="From laptop 2"))
    result = audit.verify(ctx)
    assert result.ok and result.unchecked == keyed
    # Bringing the key: everything is checked again, and new entries use it.
    imported = audit_key.import_key(ctx, exported)
    assert (imported.added, imported.already) == (1, 0)
    assert audit_key.key_status(ctx).held
    C.log_contact(ctx, person, ContactInput(kind="call", summary="After the import"))
    assert _rows(ctx)[-1].key_id == rows[0].key_id
    assert audit.verify(ctx).complete


def test_a_key_file_for_another_database_or_damaged_is_refused(ctx, person, tmp_path):
    good = tmp_path / "good.key"
    audit_key.export_key(ctx, good)
    with pytest.raises(CrmError, match="already exists"):
        audit_key.export_key(ctx, good)
    data = json.loads(good.read_text())
    other = tmp_path / "other.key"
    other.write_text(json.dumps({**data, "database": "f" * 32}))
    with pytest.raises(audit_key.AuditKeyError, match="another database"):
        audit_key.import_key(ctx, other)
    damaged = tmp_path / "damaged.key"
    [key_id] = data["keys"]
    damaged.write_text(json.dumps({**data, "keys": {key_id: "00" * 32}}))
    with pytest.raises(audit_key.AuditKeyError, match="damaged"):
        audit_key.import_key(ctx, damaged)
    junk = tmp_path / "junk.key"
    junk.write_bytes(b"\xff\xfe not json")
    with pytest.raises(audit_key.AuditKeyError, match="not an audit key file"):
        audit_key.import_key(ctx, junk)
    assert audit.verify(ctx).complete


def test_an_unreadable_key_file_is_never_written_over(ctx, person):
    [path] = _key_files()
    path.write_text("{ damaged")
    C.log_contact(ctx, person, ContactInput(kind="call", summary="Key file damaged"))
    assert path.read_text() == "{ damaged"  # the only copy of the key may be in it
    result = audit.verify(ctx)
    assert result.ok and not result.complete


def _pending(path: Path) -> bool:
    return json.loads(path.read_text(encoding="utf-8")).get("pending") is True


def test_a_first_keyed_write_that_never_commits_raises_no_false_alarm(ctx):
    """The key file is written before the identity commits; a writer that dies
    (or rolls back) in between leaves a file that belongs to no database. It
    must not read as "the trail was rewritten without the key"."""
    with pytest.raises(RuntimeError), ctx.db.transaction() as session:
        assert audit_keys.signing_key(session, None) is not None
        raise RuntimeError("killed before the commit")
    [orphan] = _key_files()
    assert _pending(orphan)
    with ctx.db.read() as session:
        assert audit_keys.database_identity(session) == (None, None)
    assert audit.verify(ctx).ok
    P.create_prospect(ctx, ProspectInput(first_name="Ann", last_name="Lee", email="ann@oak.sch.uk"))
    result = audit.verify(ctx)
    assert (result.ok, result.complete, result.problem) == (True, True, None)
    committed = [p for p in _key_files() if p != orphan]
    assert len(committed) == 1 and not _pending(committed[0])  # confirmed on commit
    assert _pending(orphan)


def test_a_key_file_left_pending_by_a_committed_write_is_confirmed_next_time(ctx, monkeypatch):
    with (
        monkeypatch.context() as patched
    ):  # the process "ends" between the commit and the confirmation
        patched.setattr(audit_keys, "_confirm", lambda database_id: None)
        pid = P.create_prospect(
            ctx, ProspectInput(first_name="Ann", last_name="Lee", email="ann@oak.sch.uk")
        ).record.id
    [path] = _key_files()
    assert _pending(path)
    C.log_contact(ctx, pid, ContactInput(kind="call", summary="Hello"))
    assert not _pending(path)
    # Confirmed, the file again proves a keyed database lived here once the trail is stripped.
    with ctx.db.transaction() as session:
        session.execute(delete(AuditEntry))
        session.execute(delete(Setting).where(Setting.key.like("audit.%")))
    assert "rewritten without the key" in (audit.verify(ctx).problem or "")
