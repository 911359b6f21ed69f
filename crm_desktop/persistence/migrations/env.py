"""Alembic environment: runs on the connection handed over by persistence.db."""

from alembic import context
from sqlmodel import SQLModel

import crm_desktop.domain.models  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    # The FTS5 index and its shadow tables are managed by hand (0002), and so
    # is PostgreSQL's audit trail head with its trigger (0011).
    return not (type_ == "table" and (name.startswith("prospect_fts") or name == "audit_head"))


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
