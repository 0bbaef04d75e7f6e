"""Storage: every SQL statement of the project lives in this package, behind named functions."""

from __future__ import annotations

from ..config import Config
from .db import Database


def open_database(config: Config, *, migrate: bool = True) -> Database:
    """The database of this poller, migrated to the latest schema."""
    return Database.open_local(config.STAKTRAKR_DB, migrate=migrate)


__all__ = ["Database", "open_database"]
