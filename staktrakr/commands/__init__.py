"""The click commands of `staktrakr`, one module per topic.

`staktrakr/cli.py` holds only the group, the error handling and `main()`; it registers every
command named in COMMANDS. To add a command: write it in a module (here, or next to the code it
drives) and add "module:attribute" below. Plugins add theirs through `staktrakr_cli_commands`.
"""

from __future__ import annotations

from importlib import import_module

import click

COMMANDS: tuple[str, ...] = (
    "staktrakr.commands.plugins:plugins_command",
    "staktrakr.commands.providers:providers",
    "staktrakr.commands.db:db",
    "staktrakr.commands.extract:extract_command",
    "staktrakr.commands.publish:export_command",
    "staktrakr.commands.publish:publish_command",
    "staktrakr.commands.new_dealer:new_dealer_command",
    "staktrakr.commands.reports:runs_command",
    "staktrakr.commands.reports:dealers_command",
    "staktrakr.commands.shards:shards_command",
    "staktrakr.backfill:backfill_command",
    "staktrakr.serve:serve_command",
    "staktrakr.health:health_command",
    "staktrakr.metrics:metrics_command",
)


def load_commands() -> list[click.Command]:
    """The commands named in COMMANDS, imported."""
    commands = []
    for reference in COMMANDS:
        module, _, attribute = reference.partition(":")
        commands.append(getattr(import_module(module), attribute))
    return commands
