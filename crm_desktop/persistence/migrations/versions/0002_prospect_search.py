"""Full-text search over prospects (SQLite FTS5), kept in step by triggers.

On other databases search uses indexed LIKE over the same columns (see
``persistence.search``), so this migration does nothing there.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ROW = """
    SELECT p.id, p.first_name || ' ' || p.last_name, coalesce(p.email, ''),
           coalesce(s.name, '')
    FROM prospect p LEFT JOIN school s ON s.id = p.school_id
"""

STATEMENTS = [
    """CREATE VIRTUAL TABLE prospect_fts USING fts5(
           name, email, school, tokenize = 'unicode61 remove_diacritics 2')""",
    f"INSERT INTO prospect_fts(rowid, name, email, school) {_ROW}",
    f"""CREATE TRIGGER prospect_fts_ai AFTER INSERT ON prospect BEGIN
           INSERT INTO prospect_fts(rowid, name, email, school) {_ROW} WHERE p.id = new.id;
       END""",
    f"""CREATE TRIGGER prospect_fts_au AFTER UPDATE OF first_name, last_name, email, school_id
       ON prospect BEGIN
           DELETE FROM prospect_fts WHERE rowid = old.id;
           INSERT INTO prospect_fts(rowid, name, email, school) {_ROW} WHERE p.id = new.id;
       END""",
    """CREATE TRIGGER prospect_fts_ad AFTER DELETE ON prospect BEGIN
           DELETE FROM prospect_fts WHERE rowid = old.id;
       END""",
    f"""CREATE TRIGGER prospect_fts_school_au AFTER UPDATE OF name ON school BEGIN
           DELETE FROM prospect_fts WHERE rowid IN
               (SELECT id FROM prospect WHERE school_id = new.id);
           INSERT INTO prospect_fts(rowid, name, email, school) {_ROW}
               WHERE p.school_id = new.id;
       END""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("prospect_fts_ai", "prospect_fts_au", "prospect_fts_ad", "prospect_fts_school_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS prospect_fts")
