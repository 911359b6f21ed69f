import sqlite3
import stat
import subprocess
import sys
import textwrap
from datetime import date, timedelta

import pytest

from crm_desktop.domain.validation import ProspectInput
from crm_desktop.errors import DatabaseError, NotACrmDatabaseError, SchemaTooNewError
from crm_desktop.persistence import backup as B
from crm_desktop.persistence import open_database
from crm_desktop.services import Context, backups
from crm_desktop.services import prospects as P


def add(ctx, i):
    P.create_prospect(ctx, ProspectInput(first_name="P", last_name=str(i), email=f"p{i}@x.org"))


def test_backup_is_consistent_verified_and_owner_only(ctx, db_path, tmp_path):
    add(ctx, 1)
    out = B.backup_database(ctx.db, tmp_path / "copy.db")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert B.check_backup(out) == B.head_revision()
    con = sqlite3.connect(out)
    assert con.execute("SELECT count(*) FROM prospect").fetchone()[0] == 1
    con.close()
    default = B.backup_database(ctx.db)
    assert default.parent == db_path.parent / "backups"


WRITER = textwrap.dedent(
    """
    import sys
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, prospects as P
    from crm_desktop.domain.validation import ProspectInput
    ctx = Context(open_database(sys.argv[1]), "writer")
    print("ready", flush=True)
    for i in range(100000):
        P.create_prospect(ctx, ProspectInput(first_name="W", last_name=str(i), email=f"w{i}@x.org"))
    """
)


def test_backup_while_another_process_writes_restores_cleanly(ctx, db_path, tmp_path):
    for i in range(200):
        add(ctx, i)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        copies = [B.backup_database(ctx.db, tmp_path / f"live{i}.db") for i in range(3)]
    finally:
        writer.kill()
        writer.wait()
    counts = []
    for copy in copies:
        B.check_backup(copy)  # integrity_check inside
        con = sqlite3.connect(copy)
        counts.append(con.execute("SELECT count(*) FROM prospect").fetchone()[0])
        con.close()
    assert counts == sorted(counts) and counts[0] >= 200
    # Restore the first copy over the live database.
    ctx.db.dispose()
    safety = B.restore_sqlite(db_path, copies[0])
    assert safety.exists()
    restored = Context(open_database(db_path), "alice")
    assert P.count_prospects(restored) == counts[0]
    assert P.list_prospects(restored, P.ProspectQuery(search="p199"))  # search index came too


def test_auto_backup_rotates_daily_and_weekly(ctx, db_path):
    add(ctx, 1)
    start = date(2026, 1, 1)
    for day in range(40):
        backups.daily_backup(ctx, start + timedelta(days=day))
    again = backups.daily_backup(ctx, start + timedelta(days=39))
    assert again.made == []  # once a day
    # Each copy has its audit head file beside it (test_backup_audit_head).
    daily = sorted(p.name for p in (db_path.parent / "backups" / "daily").glob("*.db"))
    weekly = sorted(p.name for p in (db_path.parent / "backups" / "weekly").glob("*.db"))
    assert len(daily) == 7 and daily[-1] == "crm-2026-02-09.db" and daily[0] == "crm-2026-02-03.db"
    assert len(weekly) == 4 and weekly[-1] == "crm-2026-W07.db"


def test_check_backup_refuses_junk_foreign_and_newer(tmp_path, db_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"hello" * 100)
    with pytest.raises(NotACrmDatabaseError):
        B.check_backup(junk)
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(NotACrmDatabaseError):
        B.check_backup(foreign)
    open_database(db_path, create=True).dispose()
    newer = tmp_path / "newer.db"
    B.backup_sqlite_file(db_path, newer)
    con = sqlite3.connect(newer)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    with pytest.raises(SchemaTooNewError):
        B.check_backup(newer)
    with pytest.raises(DatabaseError):
        B.restore_sqlite(db_path, newer)


@pytest.mark.sqlite_only
def test_backup_to_missing_folder_is_created_and_bad_target_is_clear(ctx, tmp_path):
    out = B.backup_database(ctx.db, tmp_path / "new" / "folder" / "x.db")
    assert out.exists()
    (tmp_path / "blocker").write_text("a file, not a folder")
    with pytest.raises(DatabaseError):
        B.backup_database(ctx.db, tmp_path / "blocker" / "x.db")


def test_postgres_backup_without_pg_dump_says_how(monkeypatch):
    monkeypatch.setattr(B.shutil, "which", lambda name: None)

    class FakeDb:
        is_sqlite = False
        dialect = "postgresql"
        url = "postgresql+psycopg://crm@db.school.internal:5432/crm"

    with pytest.raises(DatabaseError, match="pg_dump is not installed.*--host=db.school.internal"):
        B.backup_database(FakeDb())


def test_postgres_backup_with_pg_dump(ctx, tmp_path):
    if ctx.db.is_sqlite:
        return  # the SQLite run of this test is covered above
    if B.shutil.which("pg_dump") is None:
        pytest.fail("pg_dump should be installed beside the PostgreSQL test server")
    out = B.backup_database(ctx.db, tmp_path / "crm.dump")
    assert out.read_bytes()[:5] == b"PGDMP"
