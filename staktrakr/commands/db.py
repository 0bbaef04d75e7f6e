"""`staktrakr db …`: create, sync, inspect, check and back up the local database."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ..redact import redact_url
from .context import CommandContext, console, pass_context


@click.group()
def db() -> None:
    """Manage the local database."""


@db.command("migrate")
@pass_context
def db_migrate(ctx: CommandContext) -> None:
    """Create the database or bring it to the latest schema."""
    from ..store import Database

    with Database.open_local(ctx.config.STAKTRAKR_DB, migrate=False) as database:
        before = database.schema_version()
        applied = database.migrate()
        after = database.schema_version()
    if applied:
        click.echo(f"{ctx.config.STAKTRAKR_DB}: schema {before} -> {after} (applied {', '.join(map(str, applied))})")
    else:
        click.echo(f"{ctx.config.STAKTRAKR_DB}: schema {after}, up to date")


@db.command("sync")
@click.option("--push-only", is_flag=True, help="Only send local changes.")
@click.option("--pull-only", is_flag=True, help="Only fetch remote changes.")
@pass_context
def db_sync(ctx: CommandContext, push_only: bool, pull_only: bool) -> None:
    """Push local changes to Turso and pull the other pollers' (TURSO_DATABASE_URL)."""
    from ..store import open_database

    if not ctx.config.sync_enabled:
        raise click.UsageError("TURSO_DATABASE_URL is not set: this database is not synced")
    database = open_database(ctx.config)
    before = database.backlog()
    if not pull_only:
        database.push()
        click.echo(f"pushed {before} local change(s)")
    if not push_only:
        changed = database.pull()  # a SyncError is the one-line error of main()
        click.echo("pulled remote changes" if changed else "nothing new on the remote")


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def db_status(ctx: CommandContext, as_json: bool) -> None:
    """Row counts per table and the last run of each job of each poller."""
    from ..store.runs import last_run_per_job
    from ..store import open_database
    from ..store.snapshots import count_rows

    with open_database(ctx.config) as database:
        # Every table, the plugins' included: the core does not list what plugins own.
        tables = [t for t in database.table_names() if t not in ("schema_migrations", "plugin_migrations")]
        counts = {t: count_rows(database, t) for t in tables}
        runs = last_run_per_job(database)
        version = database.schema_version()
        backlog = database.backlog()
    sync = {"enabled": database.synced, "remote": redact_url(ctx.config.TURSO_DATABASE_URL or "") or None, "backlog": backlog}
    if as_json:
        click.echo(json.dumps({"database": str(ctx.config.STAKTRAKR_DB), "schema_version": version, "rows": counts, "sync": sync, "last_runs": runs}, indent=2))
        return
    console.print(f"database {ctx.config.STAKTRAKR_DB} (schema {version})")
    if database.synced:
        console.print(f"synced with {sync['remote']}: {backlog} local change(s) not pushed yet")
    else:
        console.print("not synced (TURSO_DATABASE_URL is not set)")
    table = Table("table", "rows")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)
    runs_table = Table("poller", "job", "started", "status", "targets", "captured", "failures", "seconds", title="last run of each job")
    for run in runs:
        runs_table.add_row(
            run["poller_id"] + (f" shard {run['shard']}" if run.get("shard") else ""), run["job"], run["started_at"], run["status"], str(run["total"]),
            str(run["captured"]), str(run["failures"]), f"{run['duration_s'] or 0:.1f}",
        )  # fmt: skip
    console.print(runs_table if runs else "no runs yet")


@db.command("check")
@click.option("--quick", is_flag=True, help="PRAGMA quick_check only (no index cross-check).")
@pass_context
def db_check(ctx: CommandContext, quick: bool) -> None:
    """Run the integrity check of the database file; exits 4 when it fails."""
    from ..store import open_database
    from ..store.faults import damaged
    from ..store.maintenance import integrity_problems
    from ..store.snapshots import count_rows

    path = ctx.config.STAKTRAKR_DB
    with open_database(ctx.config, migrate=False, check=False) as database:  # a check never writes
        problems = integrity_problems(database, full=not quick)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise damaged(path, f"integrity check: {problems[0]}{more}")
        rows = count_rows(database, "price_snapshots") if "price_snapshots" in database.table_names() else 0
    click.echo(f"{path}: {'quick' if quick else 'integrity'} check ok ({rows} price_snapshots rows)")


@db.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@pass_context
def db_backup(ctx: CommandContext, dest: Path) -> None:
    """Write a consistent copy of the database to DEST (a file, or a folder to put it in)."""
    from ..store import open_database
    from ..store.maintenance import backup_database

    with open_database(ctx.config, migrate=False) as database:
        rows = backup_database(database, dest)
    target = dest / Path(ctx.config.STAKTRAKR_DB).name if dest.is_dir() else dest
    click.echo(f"backed up {ctx.config.STAKTRAKR_DB} to {target}: {rows} price_snapshots rows, integrity ok")
