"""`staktrakr plugins`: which plugins are loaded, from where, with which hooks."""

from __future__ import annotations

import json

import click
from rich.table import Table

from .context import CommandContext, console, pass_context


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def plugins_command(ctx: CommandContext, as_json: bool) -> None:
    """List loaded plugins, where they come from and the hooks each implements."""
    from ..plugin_manager import get_plugin_manager, list_plugins

    infos = list_plugins(get_plugin_manager(ctx.config))
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos], indent=2))
        return
    table = Table("plugin", "origin", "version", "hooks")
    for info in infos:
        table.add_row(info.name, info.origin, info.version, ", ".join(info.hooks))
    console.print(table)
