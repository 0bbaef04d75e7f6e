"""Storage: every SQL statement of the project lives in this package, behind named functions."""

from __future__ import annotations

from ..config import Config
from .db import Database


def open_database(config: Config, *, migrate: bool = True) -> Database:
    """The database of this poller, migrated to the latest schema; a synced replica of the
    Turso database when TURSO_DATABASE_URL is set."""
    sync = {}
    if config.TURSO_DATABASE_URL:
        token = config.TURSO_AUTH_TOKEN.get_secret_value() if config.TURSO_AUTH_TOKEN else None
        sync = {"remote_url": config.TURSO_DATABASE_URL, "auth_token": token, "client_name": f"staktrakr-{config.POLLER_ID}"}
    return Database.open_local(config.STAKTRAKR_DB, migrate=migrate, **sync)


__all__ = ["Database", "open_database"]
