"""`staktrakr export` writes the static JSON API; `staktrakr publish` also hands it to the
publish plugins (the built-in git publisher commits and pushes it)."""

from __future__ import annotations

from pathlib import Path

import click

from .context import CommandContext, console, pass_context, pull_first


@click.command("export")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Data root to write (default STAKTRAKR_API_DIR).")
@click.option("--as-of", "as_of", help="Export the API as it was at this UTC time (ISO-8601), from rows observed by then.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_context
def export_command(ctx: CommandContext, out_dir: Path | None, as_of: str | None, as_json: bool) -> None:
    """Write the static JSON API from the database."""
    from ..export import export_api, export_cache_path
    from ..plugin_manager import get_plugin_manager
    from ..providers import resolve_providers
    from ..store import open_database
    from ..timeutil import parse_time

    try:
        when = parse_time(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter(f"{as_of!r} is not an ISO-8601 time (e.g. 2026-03-15T20:23:00Z)", param_hint="--as-of") from None
    database = open_database(ctx.config)
    pull_first(database)
    provider_set = resolve_providers(ctx.config, database)
    report = export_api(
        database,
        provider_set,
        out_dir or ctx.config.STAKTRAKR_API_DIR,
        as_of=when,
        pm=get_plugin_manager(ctx.config),
        cache_path=export_cache_path(ctx.config),
    )
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    console.print(
        f"exported {report.coins} coins from {report.rows} observations to {report.out_dir} (as of {report.as_of}): "
        f"{len(report.written)} files written, {report.unchanged} unchanged, {len(report.removed)} removed, {report.seconds:.2f} s"
    )


@click.command("publish")
@click.option("--as-of", "as_of", help="Export as of this UTC time (default now).")
@pass_context
def publish_command(ctx: CommandContext, as_of: str | None) -> None:
    """Export the API, then hand it to the publish plugins (git: commit and push to API_GIT_BRANCH)."""
    from ..export import export_api, export_cache_path
    from ..plugin_manager import get_plugin_manager
    from ..providers import resolve_providers
    from ..store import open_database
    from ..timeutil import parse_time

    pm = get_plugin_manager(ctx.config)
    database = open_database(ctx.config)
    pull_first(database)
    out_dir = ctx.config.STAKTRAKR_API_DIR
    report = export_api(
        database,
        resolve_providers(ctx.config, database),
        out_dir,
        as_of=parse_time(as_of) if as_of else None,
        pm=pm,
        cache_path=export_cache_path(ctx.config),
    )
    console.print(f"exported {report.coins} coins to {out_dir}: {len(report.written)} files written, {report.unchanged} unchanged")
    # The manifest the export built (or kept): the publishers get it without reading it back.
    lines = [line for line in pm.hook.staktrakr_publish(data_dir=str(out_dir), manifest=report.manifest, config=ctx.config) if line]
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if not lines:
        console.print("no publisher is configured (set API_GIT_REMOTE to publish with git)")
