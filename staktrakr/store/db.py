"""The database handle: a local libSQL file through pyturso, optionally a synced Turso replica."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import turso
import turso.sync as turso_sync

from ..errors import StaktrakrError, StoreError, SyncError
from ..redact import redact_text, redact_url, url_secrets
from ..timeutil import iso_s, utcnow
from .faults import check_history_kept, database_fault, is_turso_exception, os_fault
from .migrations import CORE_MIGRATIONS, LATEST_VERSION, Migration, plugin_migrations

logger = logging.getLogger(__name__)

_ADD_COLUMN = re.compile(r"^\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)", re.IGNORECASE)


class Database:
    """The local database file, opened for each unit of work.

    pyturso locks the file for the whole process while a connection exists, so a crawl that
    held it for its whole run would lock out the publisher and the other feeds' crawls on the
    same machine. Each statement (or `transaction()`, or `held()` block) therefore opens the
    file, waits for the lock with bounded back-off, and lets go as soon as it is done.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        remote_url: str | None = None,
        auth_token: str | None = None,
        client_name: str | None = None,
        lock_timeout_s: float = 120.0,
    ):
        self.path = Path(path)
        self.remote_url = remote_url
        self._auth_token = auth_token
        self.client_name = client_name
        self.lock_timeout_s = lock_timeout_s
        self._conn: Any = None
        self._depth = 0

    @property
    def synced(self) -> bool:
        """The file is a replica of a Turso database: writes are pushed, others' rows pulled."""
        return self.remote_url is not None

    @classmethod
    def open_local(cls, path: str | Path, *, migrate: bool = True, lock_timeout_s: float = 120.0, **sync: Any) -> Database:
        db = cls(path, lock_timeout_s=lock_timeout_s, **sync)
        try:
            db.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fault = os_fault(exc, db.path.parent)
            if fault is None:
                raise StoreError(f"cannot create the folder of {db.path}: {exc.strerror or exc}") from None
            raise type(fault)(db.path, f"database {db.path}: {fault.problem}", fault.advice) from None
        if migrate:
            db.migrate()
        return db

    # -- connections --------------------------------------------------------------------------

    def _connect(self) -> Any:
        check_history_kept(self.path)
        deadline = time.monotonic() + self.lock_timeout_s
        pause = 0.02
        while True:
            try:
                return self._open_synced() if self.synced else turso.connect(str(self.path))
            except Exception as exc:
                if not is_turso_exception(exc):
                    raise
                fault = database_fault(exc, self.path)
                if fault is not None:
                    raise fault from None
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise StoreError(f"cannot open database {self.path}: {exc}") from None
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _open_synced(self) -> Any:
        # Only a brand-new replica is bootstrapped from the remote; when the remote cannot be
        # reached then, the poller still starts (empty, local) and its rows go out with a later
        # push. An existing file is opened without any network traffic.
        fresh = not self.path.exists()
        try:
            return turso_sync.connect(
                str(self.path), remote_url=self.remote_url, auth_token=self._auth_token,
                client_name=self.client_name, bootstrap_if_empty=fresh,
            )  # fmt: skip
        except turso.Error as exc:
            if not fresh or "lock" in str(exc).lower() or database_fault(exc, self.path) is not None:
                raise  # a disk fault is not an unreachable remote
            logger.warning(
                "remote database unreachable (%s); starting %s locally, it is pushed later",
                redact_text(str(exc), self._secrets()), self.path,
            )
            return turso_sync.connect(
                str(self.path), remote_url=self.remote_url, auth_token=self._auth_token,
                client_name=self.client_name, bootstrap_if_empty=False,
            )  # fmt: skip

    def _secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._auth_token, *url_secrets(self.remote_url or "")) if s)

    # -- sync ---------------------------------------------------------------------------------

    def push(self) -> None:
        """Send local changes to the remote; raises SyncError (nothing is lost: they stay queued)."""
        self._sync_call("push")

    def pull(self) -> bool:
        """Apply remote changes locally; True when something arrived."""
        return bool(self._sync_call("pull"))

    def backlog(self) -> int | None:
        """Local changes not yet pushed (None when the database is not synced)."""
        if not self.synced:
            return None
        with self.held() as conn:
            return int(conn.stats().cdc_operations)

    def _sync_call(self, name: str) -> Any:
        if not self.synced:
            raise SyncError(f"{self.path} is not synced (TURSO_DATABASE_URL is not set)")
        with self.held() as conn:
            try:
                return getattr(conn, name)()
            except turso.Error as exc:
                raise SyncError(f"{name} to {redact_url(self.remote_url or '')} failed: {redact_text(str(exc), self._secrets())}") from None

    @contextmanager
    def held(self) -> Iterator[Any]:
        """Keep one connection (and the file lock) for a batch of work; nests. A full disk, a
        read-only file system or a damaged file comes out as one StorageFault / DatabaseDamaged
        naming the file (store/faults.py), whichever statement hit it."""
        if self._conn is None:
            self._conn = self._connect()
        self._depth += 1
        try:
            yield self._conn
        except StaktrakrError:
            raise
        except Exception as exc:
            fault = database_fault(exc, self.path)
            if fault is None:
                raise
            raise fault from None
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._release()

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:  # noqa: BLE001
                # Closing checkpoints the WAL into the main file; on a full disk that fails, but
                # what was committed is in the WAL and the next connection reads it from there.
                if not is_turso_exception(exc):
                    raise
                logger.debug("closing %s: %s", self.path, exc)
            del conn  # the file lock goes with the last reference

    # -- plain access -------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.held() as conn:
            cursor = conn.execute(sql, tuple(params))
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def query_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.held() as conn:
            row = conn.execute(sql, tuple(params)).fetchone()
            return row[0] if row else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; outside a transaction it is committed at once."""
        with self.held() as conn:
            cursor = conn.execute(sql, tuple(params))
            if self._depth == 1:
                conn.commit()
            return cursor.rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.held() as conn:
            conn.executemany(sql, [tuple(r) for r in rows])
            if self._depth == 1:
                conn.commit()

    def commit(self) -> None:
        if self._conn is not None:
            self._conn.commit()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Commit on success, roll back on any error."""
        with self.held() as conn:
            try:
                yield self
            except BaseException:
                try:
                    conn.rollback()
                except Exception as exc:  # noqa: BLE001 - the first error is the one to report
                    if not is_turso_exception(exc):
                        raise
                raise
            else:
                conn.commit()

    def close(self) -> None:
        self._depth = 0
        self._release()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------

    def table_names(self) -> list[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return [r["name"] for r in rows]

    def columns(self, table: str) -> list[str]:
        return [row["name"] for row in self.query(f"PRAGMA table_info({table})")]

    def schema_version(self) -> int:
        if "schema_migrations" not in self.table_names():
            return 0
        return int(self.query_value("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)

    def migrate(self, target: int = LATEST_VERSION) -> list[int]:
        """Apply missing core migrations up to `target`, then every loaded plugin's; safe to
        run any number of times. Returns the core versions applied."""
        with self.held():
            applied = self._migrate_core(target)
            self._migrate_plugins(plugin_migrations())
            return applied

    def plugin_versions(self) -> dict[str, int]:
        """The newest applied migration of each plugin component."""
        if "plugin_migrations" not in self.table_names():
            return {}
        rows = self.query("SELECT component, MAX(version) AS version FROM plugin_migrations GROUP BY component")
        return {row["component"]: int(row["version"]) for row in rows}

    def _migrate_core(self, target: int) -> list[int]:
        self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        self.commit()
        current = self.schema_version()
        applied = []
        for migration in CORE_MIGRATIONS:
            if migration.version <= current or migration.version > target:
                continue
            self._apply(
                migration,
                "INSERT OR REPLACE INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, iso_s(utcnow())),
            )
            applied.append(migration.version)
        return applied

    def _migrate_plugins(self, migrations: list[Migration]) -> None:
        if not migrations:
            return
        # (component, version) is the key: two pollers applying the same step write the same row.
        self.execute(
            "CREATE TABLE IF NOT EXISTS plugin_migrations (component TEXT NOT NULL, version INTEGER NOT NULL,"
            " name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version))"
        )
        self.commit()
        done = self.plugin_versions()
        for migration in migrations:
            if migration.version <= done.get(migration.component, 0):
                continue
            self._apply(
                migration,
                "INSERT OR REPLACE INTO plugin_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
                (migration.component, migration.version, migration.name, iso_s(utcnow())),
            )

    def _apply(self, migration: Migration, record_sql: str, record: tuple[Any, ...]) -> None:
        label = f"migration {migration.version} ({migration.name})"
        if migration.component != "core":
            label = f"{migration.component} {label}"
        try:
            with self.transaction():
                for statement in migration.statements:
                    if self._column_exists_already(statement):
                        continue  # a synced peer may have applied this ALTER already
                    self.execute(statement)
                self.execute(record_sql, record)
        except turso.Error as exc:
            raise (database_fault(exc, self.path) or StoreError(f"{label} failed on {self.path}: {exc}")) from None
        logger.info("database %s: applied %s", self.path, label)

    def _column_exists_already(self, statement: str) -> bool:
        match = _ADD_COLUMN.match(statement)
        return bool(match) and match.group(2) in self.columns(match.group(1))
