"""The database handle: a local libSQL file through pyturso, optionally a synced Turso replica."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import turso

from ..errors import StoreError
from ..timeutil import iso_s, utcnow
from .migrations import LATEST_VERSION, MIGRATIONS

logger = logging.getLogger(__name__)

_ADD_COLUMN = re.compile(r"^\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)", re.IGNORECASE)


class Database:
    """One connection to the local database file. All SQL goes through store/ modules."""

    def __init__(self, path: str | Path, connection: Any, *, synced: bool = False):
        self.path = Path(path)
        self.conn = connection
        self.synced = synced

    @classmethod
    def open_local(cls, path: str | Path, *, migrate: bool = True) -> Database:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = turso.connect(str(path))
        except (OSError, turso.Error) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None
        db = cls(path, conn)
        if migrate:
            db.migrate()
        return db

    # -- plain access -------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, tuple(params))
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def query_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, tuple(params)).fetchone()
        return row[0] if row else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self.conn.execute(sql, tuple(params))
        return cursor.rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, [tuple(r) for r in rows])

    def commit(self) -> None:
        self.conn.commit()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Commit on success, roll back on any error."""
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()

    def close(self) -> None:
        try:
            self.conn.close()
        except turso.Error:  # closing twice or after a failed sync is harmless
            pass

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------

    def table_names(self) -> list[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return [r["name"] for r in rows]

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.conn.execute(f"PRAGMA table_info({table})").fetchall()]

    def schema_version(self) -> int:
        if "schema_migrations" not in self.table_names():
            return 0
        return int(self.query_value("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)

    def migrate(self, target: int = LATEST_VERSION) -> list[int]:
        """Apply missing migrations up to `target`; safe to run any number of times."""
        self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        self.commit()
        current = self.schema_version()
        applied = []
        for version, name, statements in MIGRATIONS:
            if version <= current or version > target:
                continue
            try:
                with self.transaction():
                    for statement in statements:
                        if self._column_exists_already(statement):
                            continue  # a synced peer may have applied this ALTER already
                        self.execute(statement)
                    self.execute(
                        "INSERT OR REPLACE INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        (version, name, iso_s(utcnow())),
                    )
            except turso.Error as exc:
                raise StoreError(f"migration {version} ({name}) failed on {self.path}: {exc}") from None
            logger.info("database %s: applied migration %d (%s)", self.path, version, name)
            applied.append(version)
        return applied

    def _column_exists_already(self, statement: str) -> bool:
        match = _ADD_COLUMN.match(statement)
        return bool(match) and match.group(2) in self.columns(match.group(1))
