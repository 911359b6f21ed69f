"""PostgreSQL keeps the audit trail's head (length, last hash) where truncation shows.

The one-row table ``audit_head`` is moved forward by a trigger on every
insert into ``audit_entry``, in the same transaction; deleting entries does
not move it back, so ``verify`` sees entries removed from the end. The table
belongs to the schema's owner: other roles may read it but not change it,
and the trigger's function runs with its owner's rights (SECURITY DEFINER),
so a login that may only append entries still moves the head. A SQLite
database keeps its head in a file beside it instead (persistence.audit_head):
nothing changes there.

A trail that already has entries gets a head now, noting how many it had
(``started_at``): entries removed before today cannot be seen.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE TABLE audit_head (
            id integer PRIMARY KEY CHECK (id = 1),
            length bigint NOT NULL CHECK (length >= 0),
            hash varchar(64) NOT NULL,
            last_id integer,
            updated timestamp with time zone NOT NULL,
            since timestamp with time zone NOT NULL,
            started_at bigint NOT NULL DEFAULT 0
        )
        """
    )
    op.execute("REVOKE ALL ON audit_head FROM PUBLIC")
    op.execute("GRANT SELECT ON audit_head TO PUBLIC")
    op.execute(
        """
        CREATE FUNCTION crm_audit_head_advance() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
        BEGIN
            UPDATE audit_head
               SET length = length + 1, hash = NEW.hash, last_id = NEW.id, updated = now()
             WHERE id = 1;
            IF NOT FOUND THEN
                -- The row was deleted: start again, noting the entries already there.
                INSERT INTO audit_head (id, length, hash, last_id, updated, since, started_at)
                SELECT 1, count(*), NEW.hash, NEW.id, now(), now(), count(*) - 1
                  FROM audit_entry;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_head_advance AFTER INSERT ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION crm_audit_head_advance()"
    )
    op.execute(
        """
        INSERT INTO audit_head (id, length, hash, last_id, updated, since, started_at)
        SELECT 1, count(*),
               coalesce((SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1), repeat('0', 64)),
               max(id), now(), now(), count(*)
          FROM audit_entry
        """
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_head_advance ON audit_entry")
    op.execute("DROP FUNCTION IF EXISTS crm_audit_head_advance()")
    op.execute("DROP TABLE IF EXISTS audit_head")
