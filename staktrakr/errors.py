"""Exceptions a person can act on. The CLI prints their message and exits non-zero, no traceback."""

from __future__ import annotations


class StaktrakrError(Exception):
    """Base class for every error we expect a user or operator to see."""

    exit_code = 1


class ConfigError(StaktrakrError):
    """An environment variable or setting has a bad value."""

    exit_code = 2


class ProvidersError(StaktrakrError):
    """The providers file (or database copy) is malformed; the message names entry and field."""

    exit_code = 2

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        if len(problems) == 1:  # one mistake, one line (what cron mails and log searches show)
            super().__init__(f"{source}: {problems[0]}")
            return
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in providers:\n{lines}")


class StoreError(StaktrakrError):
    """The database could not be opened, migrated or written."""


class SyncError(StoreError):
    """A push to or pull from the remote Turso database failed; local rows are kept."""


class PluginError(StaktrakrError):
    """A plugin could not be loaded or misbehaved."""


# -- storage faults: one line naming the path, what failed and what to do --------------------------
# Exit 3: the place a file lives cannot be used (fix the machine, then run again).
# Exit 4: the database file itself is damaged or would be lost (recover it; README "Recovering a
# database"). A cron wrapper can tell them from a run that merely failed (1) or a bad setting (2).


class StorageFault(StoreError):
    """A file or folder (the database, its folder, an export folder) cannot be used."""

    exit_code = 3

    def __init__(self, path: object, problem: str, advice: str):
        self.path = str(path)
        self.problem = problem
        self.advice = advice
        super().__init__(f"{problem} — {advice}")


class PathIsDirectory(StorageFault):
    """A file was expected where a folder is (or a folder where a file is)."""


class PermissionDenied(StorageFault):
    """This user may not read or write the path."""


class ReadOnlyStorage(StorageFault):
    """The path is on a read-only file system."""


class StorageFull(StorageFault):
    """No space left on the file system (or the quota is used up)."""


class DatabaseDamaged(StoreError):
    """The database file is unreadable or would be lost: recover it, do not write to it."""

    exit_code = 4
    detail: str | None = None  # what the check or the read said, without the path

    def __init__(self, path: object, problem: str, advice: str):
        self.path = str(path)
        self.problem = problem
        self.advice = advice
        super().__init__(f"{problem} — {advice}")


class DatabaseCorrupt(DatabaseDamaged):
    """The file is not a database, is truncated, or fails the integrity check."""


class HistoryWouldBeLost(DatabaseDamaged):
    """The main file is missing or empty while files beside it hold its history: opening it
    would start a new empty database over them (turso does so silently), so it is refused."""
