"""Alerts plugin: `staktrakr alert` tells operators through Apprise (ALERT_URLS) when a dealer
broke or recovered, a feed went stale or recovered, a poller went silent, or a price moved.

    settings.py      the ALERT_* variables (ALERT_URLS a secret: destinations embed tokens)
    migrations.py    table alert_incidents, keyed by incident (shared by both pollers)
    conditions.py    broken dealers, stale feeds, silent pollers (from the core's status figures)
    price_events.py  a coin under its 30-day 10th percentile, a dealer's price jump
    incidents.py     each incident's state: open, announced, closed, recovery announced
    run.py           one pass: conditions against incidents, announcements
    notify.py        Apprise
    command.py       the command
"""

from __future__ import annotations

from typing import Any

from staktrakr.hookspecs import hookimpl

from .migrations import MIGRATIONS
from .settings import AlertSettings


@hookimpl
def staktrakr_config_fields() -> type[AlertSettings]:
    return AlertSettings


@hookimpl
def staktrakr_migrations() -> list[Any]:
    return list(MIGRATIONS)


@hookimpl
def staktrakr_cli_commands(cli: Any) -> None:
    from .command import alert_command

    cli.add_command(alert_command)
