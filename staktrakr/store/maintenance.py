"""Integrity checks and backups of the database file (`staktrakr db check`, `db backup`).

pyturso runs `PRAGMA quick_check` / `integrity_check` itself; on a damaged file it raises instead
of returning rows, which counts as a failed check. When everything is in the main file (an empty
WAL: a local database after its last connection closed), Python's sqlite3 reads the same file
format read-only as a second opinion: it is the reference checker of the format.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from ..errors import DatabaseCorrupt, PathIsDirectory, PermissionDenied, ReadOnlyStorage, StorageFault, StorageFull, StoreError
from .db import Database
from .faults import damaged, os_fault


def integrity_problems(db: Database, *, full: bool = True) -> list[str]:
    """What the check found wrong; empty when the database is sound. `full=False` is the quick
    check (no index/table cross-check: 0.2 s for 64 MB), run before every crawl."""
    pragma = "PRAGMA integrity_check" if full else "PRAGMA quick_check"
    try:
        rows = db.query(pragma)
    except DatabaseCorrupt as exc:  # HistoryWouldBeLost is no verdict on pages: it goes up as it is
        return [exc.detail or exc.problem]
    problems = [str(value) for row in rows for value in row.values() if value != "ok"]
    if not problems and full:
        problems = _sqlite_opinion(db.path)
    return problems


def ensure_sound(db: Database) -> None:
    """Raise DatabaseCorrupt when the quick check fails: nothing may be written into a damaged file."""
    problems = integrity_problems(db, full=False)
    if problems:
        raise damaged(db.path, f"integrity check: {problems[0]}")


_SOUND: set[Path] = set()  # files whose quick check passed in this process


def ensure_sound_once(db: Database) -> None:
    """`ensure_sound` once per process and file: the crawl command, the spider loader and the
    crawl itself open the same file; damage that appears later is still reported by the
    statement that reads it (store/faults.py)."""
    key = db.path.absolute()
    if key not in _SOUND:
        ensure_sound(db)
        _SOUND.add(key)


def _sqlite_opinion(path: Path) -> list[str]:
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return []  # pages live in turso's WAL too; sqlite3 reading the main file alone would be wrong
    try:
        # immutable: no -shm file, no lock, nothing written beside the database
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"sqlite3: {exc}"]
    return [f"sqlite3: {row[0]}" for row in rows if row[0] != "ok"]


def backup_database(db: Database, dest: Path) -> int:
    """Write a consistent copy of the database to `dest` (VACUUM INTO a temporary file beside it,
    then an atomic rename, so `dest` is never half-written); returns the copy's price_snapshots
    rows. The copy is a plain local database: point STAKTRAKR_DB at it to use it."""
    dest = dest.absolute()
    if "'" in str(dest):
        raise StoreError(f"backup path {dest} contains a quote, which VACUUM INTO cannot take — choose another path")
    if dest.is_dir():
        dest = dest / db.path.name
    if dest.resolve() == db.path.absolute().resolve():
        raise StoreError(f"backup path {dest} is the database itself — choose another path")
    partial = dest.with_name(dest.name + ".partial")
    try:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            _remove(partial)
            db.execute(f"VACUUM INTO '{partial}'")
            rows = _verified_rows(partial)
            # a -wal left by an older copy at `dest` would be read as part of the new one
            dest.with_name(dest.name + "-wal").unlink(missing_ok=True)
            os.replace(partial, dest)
        finally:
            _remove(partial)
    except (OSError, StorageFault) as exc:
        raise _backup_fault(exc, dest) from None
    return rows


def _verified_rows(copy: Path) -> int:
    """Read the finished copy back with sqlite3: a backup nobody can open is no backup."""
    problems = _sqlite_opinion(copy)
    if problems:
        raise StoreError(f"backup {copy} failed its integrity check ({problems[0]}); the database itself may be damaged — run `staktrakr db check`")
    try:
        conn = sqlite3.connect(f"{copy.as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM price_snapshots").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"backup {copy} cannot be read back ({exc}); nothing was replaced") from None


def _remove(partial: Path) -> None:
    """The temp copy and the empty -wal turso leaves beside it."""
    for leftover in (partial, partial.with_name(partial.name + "-wal")):
        leftover.unlink(missing_ok=True)


# A fault of the copy, whether the OS or turso (writing the VACUUM INTO target) reported it.
_ERRNO_OF = {PathIsDirectory: errno.EISDIR, PermissionDenied: errno.EACCES, ReadOnlyStorage: errno.EROFS, StorageFull: errno.ENOSPC}


def _backup_fault(exc: OSError | StorageFault, dest: Path) -> StoreError:
    if isinstance(exc, StorageFault):
        code = _ERRNO_OF.get(type(exc), errno.EIO)
        exc = OSError(code, os.strerror(code), str(dest))
    fault = os_fault(exc, dest)
    if fault is None:
        return StoreError(f"cannot write backup {dest}: {exc.strerror or exc}")
    reason = fault.problem.split(": ", 1)[-1]
    return type(fault)(dest, f"cannot write backup {dest}: {reason}", fault.advice)
