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
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in providers:\n{lines}")


class StoreError(StaktrakrError):
    """The database could not be opened, migrated or written."""


class SyncError(StoreError):
    """A push to or pull from the remote Turso database failed; local rows are kept."""


class PluginError(StaktrakrError):
    """A plugin could not be loaded or misbehaved."""
