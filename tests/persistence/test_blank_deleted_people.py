"""Upgrading blanks what deletions made before this version left in the audit trail."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.persistence import open_database
from crm_desktop.persistence.db import MIGRATIONS_DIR
from crm_desktop.services import Context, audit
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P


def _stored(db) -> str:
    with db.read() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return " ".join(f"{e.values} {e.reason}" for e in rows)


def test_an_old_deletion_is_blanked_on_upgrade_and_the_trail_still_verifies(db, ctx, monkeypatch):
    def person(first, last, email):
        return P.create_prospect(
            ctx, ProspectInput(first_name=first, last_name=last, email=email, role="Bursar")
        ).record

    zelda = person("Zelda", "Quist", "zq@quist.example")
    olive = person("Olive", "Other", "olive@other.example")
    P.update_prospect(
        ctx, zelda.id, ProspectInput(first_name="Zelda", last_name="Quisted", email=zelda.email,
                                     owner=zelda.owner, role="Bursar"),
        reason="Zelda asked for the Quisted spelling",
    )  # fmt: skip
    C.log_contact(ctx, zelda.id, ContactInput(kind="call", summary="Zephyr project call"))
    C.log_contact(ctx, olive.id, ContactInput(kind="call", summary="Olive's orchard call"))
    # Deleted as before this version: nothing blanked.
    with monkeypatch.context() as patch:
        patch.setattr(audit, "redact", lambda *a, **k: 0)
        P.delete_prospect(ctx, zelda.id)
    # A later entry under the same record id (ids can be used again) is someone else's.
    with db.transaction() as session:
        audit.record(session, "alice", "prospect.noted", "prospect", zelda.id,
                     {"note": "Newcomer Nell"}, reason="kept")  # fmt: skip
    assert "Zephyr" in _stored(db) and "Quisted spelling" in _stored(db)
    assert audit.verify(ctx).complete

    # The database as this version's predecessor left it (later migrations
    # undone, 0012's blanking never run), opened by this version.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    upgraded = open_database(db.url)
    try:
        stored = _stored(upgraded)
        for trace in ("Zelda", "Quist", "zq@", "quist.example", "Zephyr"):
            assert trace not in stored, trace
        assert "Olive" in stored and "orchard" in stored and "olive@other.example" in stored
        assert "Newcomer Nell" in stored and "kept" in stored
        result = audit.verify(Context(upgraded, user="alice"))
        assert result.complete, result
        with upgraded.read() as session:
            version = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version >= "0012"
    finally:
        upgraded.dispose()
