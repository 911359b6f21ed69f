"""Engine, sessions, migrations and backups. The only SQLite-aware package."""

from .db import (
    Database,
    default_database_path,
    names_default_location,
    open_database,
    resolve_database_url,
    sqlite_file,
)
from .urls import mask_secrets, safe_url

__all__ = [
    "Database",
    "default_database_path",
    "mask_secrets",
    "names_default_location",
    "open_database",
    "resolve_database_url",
    "safe_url",
    "sqlite_file",
]
