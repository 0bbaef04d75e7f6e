"""Storage faults turned into one line: which path, what failed, what to do.

pyturso reports a failing file system as an exception whose text is a Rust `io::ErrorKind`
(`IoError('open: PermissionDenied')`, `IoError('pwritev: StorageFull')`), and it is not a
`turso.Error`; damage shows as DatabaseError texts ("short read on page 273", "Invalid page type")
or its own Corrupt / NotAdb. Left alone they surface as 40-line tracebacks that never name the
file, so every call into turso goes through `database_fault()`, and the CLI sends stray OSErrors
(an unwritable export folder) through `os_fault()`.
"""

from __future__ import annotations

import errno
import os
import pwd
from pathlib import Path

from ..errors import (
    DatabaseCorrupt,
    HistoryWouldBeLost,
    PathIsDirectory,
    PermissionDenied,
    ReadOnlyStorage,
    StorageFault,
    StorageFull,
    StoreError,
)

RECOVER = "restore it from a `staktrakr db backup` copy or a fresh Turso replica (README: Recovering a database)"

# io::ErrorKind names in pyturso's messages (`open: PermissionDenied`) and the OS's own texts in
# the sync engine's (`I/O error (open): is a directory`), lowercased -> our class.
_IO_KINDS: dict[str, type[StorageFault]] = {
    "isadirectory": PathIsDirectory,
    "is a directory": PathIsDirectory,
    "notadirectory": PathIsDirectory,
    "not a directory": PathIsDirectory,
    "permissiondenied": PermissionDenied,
    "permission denied": PermissionDenied,
    "readonlyfilesystem": ReadOnlyStorage,
    "read-only file system": ReadOnlyStorage,
    "read-only filesystem": ReadOnlyStorage,
    "storagefull": StorageFull,
    "no space left": StorageFull,
    "database or disk is full": StorageFull,
    "quotaexceeded": StorageFull,
    "quota exceeded": StorageFull,
    "filetoolarge": StorageFull,
    "file too large": StorageFull,
}
_ERRNOS: dict[int, type[StorageFault]] = {
    errno.EISDIR: PathIsDirectory,
    errno.ENOTDIR: PathIsDirectory,
    errno.EACCES: PermissionDenied,
    errno.EPERM: PermissionDenied,
    errno.EROFS: ReadOnlyStorage,
    errno.ENOSPC: StorageFull,
    errno.EDQUOT: StorageFull,
    errno.EFBIG: StorageFull,
}
# What pyturso and SQLite say when the pages themselves are bad.
_DAMAGE = (
    "file is not a database", "malformed", "short read", "invalid page", "page type", "out of bounds",
    "corrupt", "payload too small", "data section too small", "overflow pointer", "header size",
)  # fmt: skip
# pyturso's own exception classes (module turso._turso) that mean a fault of the file.
_TURSO_FULL = ("DatabaseFull",)
_TURSO_DAMAGE = ("Corrupt", "NotAdb")
_TURSO_READONLY = ("Readonly",)


def is_turso_exception(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] == "turso"


def database_fault(exc: BaseException, path: Path) -> StoreError | None:
    """The one-line error for a turso exception on the database at `path`, or None when it is
    not a storage fault (a bug, a lock, a constraint: the caller lets it through)."""
    if not is_turso_exception(exc):
        return None
    name, text = type(exc).__name__, str(exc)
    lowered = text.lower()
    kind = next((cls for word, cls in _IO_KINDS.items() if word in lowered), None)
    if kind is None and name in _TURSO_FULL:
        kind = StorageFull
    if kind is None and name in _TURSO_READONLY:
        kind = ReadOnlyStorage
    if kind is not None:
        return database_storage_fault(kind, path)
    if name in _TURSO_DAMAGE or (name in ("DatabaseError", "InternalError") and looks_damaged(text)):
        return damaged(path, text)
    return None


def looks_damaged(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _DAMAGE)


def damaged(path: Path, detail: str) -> DatabaseCorrupt:
    detail = " ".join(detail.split())[:160]
    fault = DatabaseCorrupt(path, f"database {path} is damaged ({detail})", f"stop writing to it; {RECOVER}")
    fault.detail = detail
    return fault


def database_storage_fault(kind: type[StorageFault], path: Path) -> StorageFault:
    if kind is PathIsDirectory:
        if _is_dir(path):
            return kind(path, f"database {path} is a directory, not a file", f"set STAKTRAKR_DB to a file path, e.g. {path / 'staktrakr.db'}")
        return kind(path, f"database {path}: a part of its path is a file, not a folder", "set STAKTRAKR_DB to a path under a folder")
    if kind is PermissionDenied:
        return kind(
            path, f"cannot open database {path}: permission denied for {_user()}",
            f"give that user read and write access to {path}, the files beside it and {path.parent} (chown/chmod), or run as their owner",
        )  # fmt: skip
    if kind is ReadOnlyStorage:
        return kind(
            path, f"cannot write database {path}: its file system ({_mount_point(path)}) is read-only",
            "remount it read-write, or set STAKTRAKR_DB to a writable place",
        )  # fmt: skip
    return kind(
        path, f"cannot write database {path}: no space left on {_mount_point(path)} ({_free(path)} free)",
        f"free space on {_mount_point(path)} (or move STAKTRAKR_DB elsewhere), then run again",
    )  # fmt: skip


def os_fault(exc: OSError, fallback: Path | str | None = None) -> StorageFault | None:
    """The one-line error for an OSError on any file we write (export folder, cache, backup)."""
    kind = _ERRNOS.get(exc.errno or 0)
    raw = exc.filename if exc.filename is not None else fallback
    if kind is None or raw is None:
        return None
    path = Path(os.fsdecode(raw))
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "error")
    # A temp file that could not be created (a dotfile: `.latest.json.k2j4_x.tmp`) says nothing
    # to the reader; its folder does.
    what = f"files in {path.parent}" if path.name.startswith(".") and not _exists(path) else str(path)
    if kind is PermissionDenied:
        return kind(path, f"cannot write {what}: {reason} for {_user()}", f"give that user write access to {_existing(path)}, or choose another folder")
    if kind is ReadOnlyStorage:
        return kind(path, f"cannot write {what}: its file system ({_mount_point(path)}) is read-only", "remount it read-write, or choose another folder")
    if kind is StorageFull:
        return kind(path, f"cannot write {what}: no space left on {_mount_point(path)} ({_free(path)} free)", f"free space on {_mount_point(path)}, then run again")
    return kind(path, f"cannot write {path}: {reason}", "a file stands where a folder is expected (or the reverse): fix the path, or choose another folder")


def check_history_kept(path: Path) -> None:
    """Refuse a database whose main file is missing or empty while the files beside it hold its
    history: turso would open it as a new, empty database and wipe that WAL without a word."""
    try:
        size: int | None = path.stat().st_size
    except FileNotFoundError:
        size = None
    except OSError:
        return  # the open reports it (permissions, a path through a file, ...)
    if size:
        return
    witnesses, files = [], []
    wal = path.with_name(path.name + "-wal")
    wal_size = _size(wal)
    if wal_size > 32:  # a WAL header alone holds no page
        witnesses.append(f"{wal} holds {wal_size} bytes of its history")
        files.append(wal.name)
    info = path.with_name(path.name + "-info")
    if _exists(info):
        witnesses.append(f"{info} says it is a Turso replica")
        files.append(info.name)
    if not witnesses:
        return
    state = "missing" if size is None else "empty (0 bytes)"
    raise HistoryWouldBeLost(
        path,
        f"refusing to open database {path}: the file is {state} but {' and '.join(witnesses)} (opening it would start an empty database over it)",
        f"{RECOVER}; to really start over, move {' and '.join(files)} away",
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _user() -> str:
    uid = os.geteuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = "?"
    return f"user {name} (uid {uid})"


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a folder on the way we may not enter
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _existing(path: Path) -> Path:
    """The nearest existing folder of `path` (what needs the permission)."""
    for candidate in (path, *path.parents):
        if _is_dir(candidate):
            return candidate
    return path


def _mount_point(path: Path) -> str:
    """The mount point holding `path` (a bind mount too, which os.path.ismount does not see)."""
    absolute = os.path.abspath(path)
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            points = [line.split()[1].replace("\\040", " ") for line in mounts if len(line.split()) > 1]
    except OSError:
        points = []
    inside = [p for p in points if absolute == p or absolute.startswith(p.rstrip("/") + "/")]
    if inside:
        return max(inside, key=len)
    current = _existing(Path(absolute))
    while not os.path.ismount(current) and current != current.parent:
        current = current.parent
    return str(current)


def _free(path: Path) -> str:
    try:
        stats = os.statvfs(_existing(path.absolute()))
    except OSError:
        return "?"
    free = stats.f_bavail * stats.f_frsize
    return f"{free // 1024} KB" if free < 10 * 1024 * 1024 else f"{free // (1024 * 1024)} MB"
