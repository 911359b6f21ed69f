"""Engine, sessions, migrations and backups. The only SQLite-aware package."""

from .db import Database, default_database_path, open_database, resolve_database_url

__all__ = ["Database", "default_database_path", "open_database", "resolve_database_url"]
