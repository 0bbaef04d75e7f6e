"""What the commands share: the lazily loaded configuration and the consoles."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console

from ..config import Config, load_config

console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


class CommandContext:
    """The configuration, loaded on first use (so `--help` works without one)."""

    def __init__(self) -> None:
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config()
        return self._config


pass_context = click.make_pass_decorator(CommandContext, ensure=True)


def pull_first(database: Any) -> None:
    """Exports start from every poller's rows; without the remote, from the local copy."""
    from ..errors import SyncError

    if database.synced:
        try:
            database.pull()
        except SyncError as exc:
            err_console.print(f"warning: {exc}; exporting the local copy", markup=False, highlight=False)
