import sqlite3
import stat

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from crm_desktop.errors import DatabaseError, NotACrmDatabaseError, SchemaTooNewError
from crm_desktop.persistence import open_database, resolve_database_url
from crm_desktop.persistence.db import _alembic_config, head_revision
from crm_desktop.services import Context
from crm_desktop.services import prospects as P


@pytest.mark.sqlite_only
def test_every_connection_gets_the_pragmas(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_write_transactions_begin_immediate(db, db_path):
    """A write transaction holds the write lock from its start."""
    with db.transaction() as session:
        session.execute(text("SELECT 1"))
        other = sqlite3.connect(db_path, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_new_database_file_is_owner_only(db_path):
    open_database(db_path, create=True).dispose()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        if db.is_sqlite:
            # SQLite reflection drops ON DELETE from a column-level REFERENCES
            # (migration 0003 has to add li_assessment_id that way); check it
            # directly instead.
            fks = conn.exec_driver_sql("PRAGMA foreign_key_list(prospect)").all()
            assert ("li_assessment", "li_assessment_id", "SET NULL") in {
                (f[2], f[3], f[6]) for f in fks
            }
            diffs = [
                d
                for d in diffs
                if not (
                    d[0] in ("add_fk", "remove_fk")
                    and [c.name for c in d[1].columns] == ["li_assessment_id"]
                )
            ]
    # The FTS5 index (and its shadow tables) and PostgreSQL's audit head are
    # migration-only by design.
    diffs = [
        d
        for d in diffs
        if not (
            d[0] == "remove_table"
            and (d[1].name.startswith("prospect_fts") or d[1].name == "audit_head")
        )
    ]
    assert diffs == []


def _create_at_first_revision(path):
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO school (id, name, name_key, created_at, updated_at, version) "
                "VALUES (1, 'Oakfield Primary', 'oakfield primary', '2025-01-01', '2025-01-01', 1)"
            )
        )
        for i, (first, last) in enumerate([("Jane", "Smith"), ("Tom", "Brown")], start=1):
            conn.execute(
                text(
                    "INSERT INTO prospect (id, first_name, last_name, email, email_key, school_id,"
                    " stage, created_at, updated_at, version) VALUES (:i, :f, :l, :e, :e, 1,"
                    " 'lead', '2025-01-01', '2025-01-01', 1)"
                ),
                {"i": i, "f": first, "l": last, "e": f"{first.lower()}@oak.sch.uk"},
            )
    engine.dispose()


def test_upgrade_from_first_migration_keeps_rows_and_backs_up(tmp_path):
    path = tmp_path / "old.db"
    _create_at_first_revision(path)
    db = open_database(path)
    ctx = Context(db, "alice")
    assert P.count_prospects(ctx) == 2
    # The new search index was filled from the existing rows.
    assert {r.full_name for r in P.list_prospects(ctx, P.ProspectQuery(search="oakf"))} == {
        "Jane Smith",
        "Tom Brown",
    }
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
    backups = list(tmp_path.glob("old.db.pre-*.bak"))
    assert len(backups) == 1
    check = sqlite3.connect(backups[0])
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert check.execute("SELECT count(*) FROM prospect").fetchone()[0] == 2
    assert check.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    check.close()
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600


def test_current_database_is_not_backed_up_again(tmp_path):
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    open_database(path).dispose()
    assert list(tmp_path.glob("*.bak")) == []


def test_database_from_newer_app_is_refused_untouched(db_path):
    open_database(db_path, create=True).dispose()
    con = sqlite3.connect(db_path)
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.commit()
    con.close()
    before = db_path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer version of CRM Desktop"):
        open_database(db_path)
    assert db_path.read_bytes() == before


def test_junk_file_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is my shopping list\n" * 100)
    with pytest.raises(NotACrmDatabaseError, match="not a CRM Desktop database"):
        open_database(path)
    assert path.read_bytes().startswith(b"this is my shopping list")


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE recipes (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(NotACrmDatabaseError, match="not a CRM Desktop database"):
        open_database(path)


def test_folder_is_not_a_database(tmp_path):
    with pytest.raises(DatabaseError, match="is a folder"):
        open_database(tmp_path)


def test_url_resolution(tmp_path, monkeypatch):
    assert resolve_database_url(tmp_path / "x.db") == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("CRM_DATABASE_URL", str(tmp_path / "env.db"))
    assert resolve_database_url(None) == f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.delenv("CRM_DATABASE_URL")
    assert resolve_database_url(None).endswith("crm-desktop/crm.db")


def test_read_only_database_gives_a_clear_message(db_path):
    open_database(db_path, create=True).dispose()
    ro = open_database(f"sqlite:///file:{db_path}?mode=ro&uri=true")
    ctx = Context(ro, "alice")
    from crm_desktop.domain.validation import ProspectInput

    with pytest.raises(DatabaseError, match="read-only.*nothing was saved"):
        P.create_prospect(ctx, ProspectInput(first_name="A", last_name="B", email="a@b.org"))
    assert P.count_prospects(ctx) == 0


@pytest.mark.parametrize("url", ["nosuchdb://x/y", "://x"])
def test_unusable_urls_are_clear_errors(url):
    with pytest.raises(DatabaseError, match="not a database path or URL|No database driver"):
        open_database(url)


def test_sqlite_file_uri_is_understood(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    db = open_database(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert db.path == path
    assert P.count_prospects(Context(db, "x")) == 0
    assert not (tmp_path / "file:").exists()
    with pytest.raises(DatabaseError, match="No database at"):
        open_database(f"sqlite:///file:{tmp_path / 'missing.db'}?mode=ro&uri=true")


def test_c1_controls_and_lone_surrogates_are_refused():
    from crm_desktop.domain.validation import clean_text

    for bad in ("a\x85b", "a\x9bb", "a\ud800b"):
        with pytest.raises(ValueError, match="control characters"):
            clean_text(bad, max_len=10)
