"""Storage: every SQL statement of the project lives in this package, behind named functions."""

from __future__ import annotations

from ..config import Config
from .db import Database
from .maintenance import ensure_sound_once


def open_database(config: Config, *, migrate: bool = True, check: bool = True) -> Database:
    """The database of this poller, migrated to the latest schema; a synced replica of the
    Turso database when TURSO_DATABASE_URL is set. Unless `check` is off, the quick integrity
    check runs first (once per process and file): a damaged file is refused with one line
    before anything is written into it or read from it as if it were whole."""
    sync = {}
    if config.TURSO_DATABASE_URL:
        token = config.TURSO_AUTH_TOKEN.get_secret_value() if config.TURSO_AUTH_TOKEN else None
        sync = {"remote_url": config.TURSO_DATABASE_URL, "auth_token": token, "client_name": f"staktrakr-{config.POLLER_ID}"}
    db = Database.open_local(config.STAKTRAKR_DB, migrate=False, **sync)
    try:
        if check:
            ensure_sound_once(db)
        if migrate:
            db.migrate()
    except BaseException:
        db.close()
        raise
    return db


__all__ = ["Database", "open_database"]
