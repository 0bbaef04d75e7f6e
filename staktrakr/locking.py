"""One lock file per job, so overlapping runs of the same job skip instead of piling up.

`job_lock("publish", lock_dir)` creates `lock_dir/publish.lock` atomically (O_CREAT|O_EXCL) with
who holds it. Different jobs use different files and may overlap. A lock left behind by a
process that died (B-17: the live system's `/tmp/retail-publish.lock` had no recovery, so one
crash stopped publishing until someone deleted it) is taken over with a warning when its
process no longer exists on this host, or when it is older than `stale_after_s`.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StaktrakrError
from .timeutil import iso_ms, parse_time, utcnow

logger = logging.getLogger(__name__)

DEFAULT_STALE_AFTER_S = 3 * 3600.0

_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class LockBusy(StaktrakrError):
    """Another run of the same job holds the lock. Callers log one line and skip the run."""

    # EX_TEMPFAIL: if it ever reaches the CLI, a wrapper can tell "skipped" from "failed".
    exit_code = 75

    def __init__(self, name: str, path: Path, holder: LockHolder | None):
        self.name = name
        self.path = path
        self.holder = holder
        who = holder.describe() if holder else "a process that is still writing it"
        super().__init__(f"job {name!r} is already running ({who}; lock {path})")


@dataclass(frozen=True)
class LockHolder:
    """What a lock file says about the process that holds it."""

    pid: int
    host: str
    started_at: str
    token: str = ""

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.started_at}"

    def to_json(self) -> str:
        return json.dumps({"pid": self.pid, "host": self.host, "started_at": self.started_at, "token": self.token})

    @classmethod
    def parse(cls, raw: bytes) -> LockHolder | None:
        """The holder, or None when the content is not a complete lock record."""
        try:
            data: Any = json.loads(raw.decode("utf-8"))
            holder = cls(pid=int(data["pid"]), host=str(data["host"]), started_at=str(data["started_at"]), token=str(data.get("token", "")))
            parse_time(holder.started_at)
        except (UnicodeDecodeError, ValueError, TypeError, KeyError):
            return None
        return holder


@contextmanager
def job_lock(name: str, lock_dir: Path, stale_after_s: float = DEFAULT_STALE_AFTER_S) -> Iterator[LockHolder]:
    """Hold `lock_dir/<name>.lock` for the block; raise LockBusy if a live run of `name` holds it.

    The lock is removed on exit (also on exceptions), but only if it is still ours: a run that
    overstayed `stale_after_s` and lost its lock must not delete its successor's.
    """
    if not _JOB_NAME.match(name):
        raise ValueError(f"job name {name!r} must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{name}.lock"
    me = LockHolder(pid=os.getpid(), host=socket.gethostname(), started_at=iso_ms(utcnow()), token=uuid.uuid4().hex)
    with _guard(lock_dir):
        _acquire(name, path, me, stale_after_s)
    try:
        yield me
    finally:
        with _guard(lock_dir):
            _release(path, me)


@contextmanager
def _guard(lock_dir: Path) -> Iterator[None]:
    """Serialise the check-then-remove steps of every job_lock user of this directory.

    Creating the lock file is atomic on its own, but "read it, find it stale, delete it" is not:
    two processes could both find the same stale lock, one deletes it and creates its own, and
    the other then deletes that fresh lock. flock() on the directory makes those steps exclusive
    for a few microseconds, and the kernel drops it if the process dies, so the guard itself can
    never go stale.
    """
    fd = os.open(lock_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _acquire(name: str, path: Path, me: LockHolder, stale_after_s: float) -> None:
    for attempt in (1, 2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raw, mtime = _read(path)
            if raw is None:
                continue  # removed between the two calls: try creating it again
            holder = LockHolder.parse(raw)
            reason = _stale_reason(holder, mtime, stale_after_s)
            if reason is None or attempt == 2:
                raise LockBusy(name, path, holder) from None
            logger.warning("job %s: taking over stale lock %s (%s)", name, path, reason)
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(me.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        return
    raise LockBusy(name, path, None)


def _release(path: Path, me: LockHolder) -> None:
    raw, _ = _read(path)
    if raw is None:
        logger.warning("lock %s was already removed by someone else", path)
        return
    holder = LockHolder.parse(raw)
    if holder is None or holder.token != me.token:
        logger.warning("lock %s was taken over while this run held it; leaving the new holder's lock alone", path)
        return
    path.unlink(missing_ok=True)


def _read(path: Path) -> tuple[bytes | None, float]:
    try:
        with open(path, "rb") as handle:
            return handle.read(4096), os.fstat(handle.fileno()).st_mtime
    except FileNotFoundError:
        return None, 0.0


def _stale_reason(holder: LockHolder | None, mtime: float, stale_after_s: float) -> str | None:
    """Why the lock may be taken over, or None when its holder may still be running."""
    now = time.time()
    if holder is None:
        # Unreadable: a crash mid-write, or a holder that created the file a moment ago and is
        # writing it right now. Only age tells the two apart.
        age = now - mtime
        if age > stale_after_s:
            return f"unreadable lock file, {age / 3600:.1f} h old"
        return None
    if holder.host == socket.gethostname() and not _pid_alive(holder.pid):
        return f"process {holder.pid} that took it at {holder.started_at} no longer exists"
    age = now - parse_time(holder.started_at).timestamp()
    if age > stale_after_s:
        # The PID may have been reused, or the holder hangs, or runs on another host.
        return f"held by {holder.describe()}, {age / 3600:.1f} h old (limit {stale_after_s / 3600:.1f} h)"
    return None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError as exc:
        return exc.errno != errno.ESRCH
    return True
