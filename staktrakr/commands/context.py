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


def warn(message: str) -> None:
    """One warning line on stderr (sync failures and the like: the command goes on)."""
    err_console.print(f"warning: {message}", markup=False, highlight=False)


def pull_first(database: Any) -> None:
    """Exports start from every poller's rows; without the remote, from the local copy."""
    from ..sync import pull_or_warn

    pull_or_warn(database, warn, then="exporting the local copy")
