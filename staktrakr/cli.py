"""The `staktrakr` command."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .catalogue import catalogue_coin
from .config import Config, load_config
from .errors import StaktrakrError
from .models import Coin
from .redact import redact_url

console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


class Context:
    """Lazily built configuration shared by the subcommands."""

    def __init__(self) -> None:
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config()
        return self._config


pass_context = click.make_pass_decorator(Context, ensure=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="staktrakr")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Bullion dealer prices, spot and Goldback feeds, published as a static JSON API."""
    from .logs import install_log_hook

    install_log_hook()  # secrets redacted in every line; JSON lines with LOG_FORMAT=json
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.ensure_object(Context)


# -- plugins ------------------------------------------------------------------------------------


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def plugins_command(ctx: Context, as_json: bool) -> None:
    """List loaded plugins, where they come from and the hooks each implements."""
    from .plugin_manager import get_plugin_manager, list_plugins

    infos = list_plugins(get_plugin_manager(ctx.config))
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos], indent=2))
        return
    table = Table("plugin", "origin", "version", "hooks")
    for info in infos:
        table.add_row(info.name, info.origin, info.version, ", ".join(info.hooks))
    console.print(table)


# -- providers ----------------------------------------------------------------------------------


@cli.group()
def providers() -> None:
    """Inspect the providers (which dealer pages are crawled for which coin)."""


@providers.command("list")
@click.option("--coin", "coins", multiple=True, help="Only this coin slug (repeatable).")
@click.option("--vendor", "vendors", multiple=True, help="Only this dealer id (repeatable).")
@click.option("--all", "show_all", is_flag=True, help="Also list disabled entries.")
@pass_context
def providers_list(ctx: Context, coins: tuple[str, ...], vendors: tuple[str, ...], show_all: bool) -> None:
    """Print a table of coin x dealer URLs."""
    from .providers import resolve_providers
    from .store import open_database

    with open_database(ctx.config) as db:
        provider_set = resolve_providers(ctx.config, db)
    table = Table("coin", "metal", "oz", "dealer", "enabled", "url(s)", title=f"providers from {provider_set.source}")
    rows = 0
    for slug, by_vendor in provider_set.listings.items():
        if coins and slug not in coins:
            continue
        coin = provider_set.coins[slug]
        for vendor, listing in by_vendor.items():
            if vendors and vendor not in vendors:
                continue
            if not listing.active and not show_all:
                continue
            table.add_row(slug, coin.metal.value, f"{coin.weight_oz:g}", vendor, "yes" if listing.active else "no", "\n".join(listing.urls) or "-")
            rows += 1
    console.print(table)
    console.print(f"{rows} listing(s), {len(provider_set.targets())} enabled targets in total")


def _edit_providers(ctx: Context, edit: Any) -> None:
    """Apply an edit to the database copy (seeded from the providers in force when empty),
    validate it like a file, store it and push it so every poller uses it on its next run."""
    from .errors import SyncError
    from .providers import resolve_providers
    from .store import open_database
    from .store.provider_tables import load_providers_rich, save_providers

    database = open_database(ctx.config)
    _pull_first(database)
    rich = load_providers_rich(database) or resolve_providers(ctx.config, database).rich()
    edited = edit(rich)
    coins, listings = save_providers(database, edited.rich())
    console.print(f"stored {coins} coins, {listings} listings in {ctx.config.STAKTRAKR_DB}")
    if database.synced:
        try:
            database.push()
            console.print("pushed: both pollers use it on their next run")
        except SyncError as exc:
            err_console.print(f"warning: {exc}; the edit is queued and goes out with the next push", markup=False)
    if ctx.config.STAKTRAKR_PROVIDERS:
        err_console.print("note: STAKTRAKR_PROVIDERS is set here, so this machine keeps using that file", markup=False)


@providers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def providers_import(ctx: Context, file: Path) -> None:
    """Validate FILE (flat or rich form) and store it in the database."""
    from .providers import load_providers_file

    imported = load_providers_file(file)
    _edit_providers(ctx, lambda rich: _merge(rich, imported))


def _merge(rich: dict[str, Any], imported: Any) -> Any:
    from .providers import parse_providers

    rich["coins"].update(imported.rich()["coins"])
    return parse_providers(rich, "imported providers")


@providers.command("export")
@click.option("--flat", is_flag=True, help="The public flat form {slug: {dealer: url}}.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
@pass_context
def providers_export(ctx: Context, flat: bool, out_file: Path | None) -> None:
    """Print the providers in force (rich form by default)."""
    from .providers import resolve_providers
    from .store import open_database

    with open_database(ctx.config) as database:
        provider_set = resolve_providers(ctx.config, database)
    text = json.dumps(provider_set.flat() if flat else provider_set.rich(), indent=2, ensure_ascii=False) + "\n"
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_file} (from {provider_set.source})")
    else:
        click.echo(text, nl=False)


@providers.command("set-url")
@click.argument("coin")
@click.argument("vendor")
@click.argument("urls", nargs=-1, required=True)
@pass_context
def providers_set_url(ctx: Context, coin: str, vendor: str, urls: tuple[str, ...]) -> None:
    """Set the URL of COIN at VENDOR; several URLs are tried in order."""
    from .providers import edit_set_urls

    _edit_providers(ctx, lambda rich: edit_set_urls(rich, coin, vendor, list(urls)))


@providers.command("enable")
@click.argument("coin")
@click.argument("vendor")
@pass_context
def providers_enable(ctx: Context, coin: str, vendor: str) -> None:
    """Crawl COIN at VENDOR again."""
    from .providers import edit_enabled

    _edit_providers(ctx, lambda rich: edit_enabled(rich, coin, vendor, True))


@providers.command("disable")
@click.argument("coin")
@click.argument("vendor")
@pass_context
def providers_disable(ctx: Context, coin: str, vendor: str) -> None:
    """Stop crawling COIN at VENDOR (the listing and its URLs are kept)."""
    from .providers import edit_enabled

    _edit_providers(ctx, lambda rich: edit_enabled(rich, coin, vendor, False))


@providers.command("add-coin")
@click.argument("slug")
@click.option("--name", help="Display name (default: from the catalogue).")
@click.option("--metal", type=click.Choice(["silver", "gold", "platinum", "palladium", "goldback"]), help="Metal (default: from the catalogue).")
@click.option("--weight", "weight_oz", type=float, help="Troy ounces (Goldbacks: G units).")
@pass_context
def providers_add_coin(ctx: Context, slug: str, name: str | None, metal: str | None, weight_oz: float | None) -> None:
    """Add a coin (then give it dealer URLs with set-url)."""
    from .providers import edit_add_coin

    _edit_providers(ctx, lambda rich: edit_add_coin(rich, slug, name, metal, weight_oz))


# -- database -----------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Manage the local database."""


@db.command("migrate")
@pass_context
def db_migrate(ctx: Context) -> None:
    """Create the database or bring it to the latest schema."""
    from .store import Database

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
def db_sync(ctx: Context, push_only: bool, pull_only: bool) -> None:
    """Push local changes to Turso and pull the other pollers' (TURSO_DATABASE_URL)."""
    from .errors import SyncError
    from .store import open_database

    if not ctx.config.sync_enabled:
        raise click.UsageError("TURSO_DATABASE_URL is not set: this database is not synced")
    database = open_database(ctx.config)
    before = database.backlog()
    if not pull_only:
        database.push()
        click.echo(f"pushed {before} local change(s)")
    if not push_only:
        try:
            changed = database.pull()
        except SyncError:
            raise
        click.echo("pulled remote changes" if changed else "nothing new on the remote")


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def db_status(ctx: Context, as_json: bool) -> None:
    """Row counts per table and the last run of each poller."""
    from .store import open_database
    from .store.runs import last_run_per_poller
    from .store.snapshots import count_rows

    tables = ("price_snapshots", "poller_runs", "provider_failures", "spot_prices", "goldback_rates", "provider_coins", "provider_vendors")
    with open_database(ctx.config) as database:
        counts = {t: count_rows(database, t) for t in tables}
        runs = last_run_per_poller(database)
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
    runs_table = Table("poller", "job", "started", "status", "targets", "captured", "failures", "seconds", title="last run per poller")
    for run in runs:
        runs_table.add_row(
            run["poller_id"], run["job"], run["started_at"], run["status"], str(run["total"]),
            str(run["captured"]), str(run["failures"]), f"{run['duration_s'] or 0:.1f}",
        )  # fmt: skip
    console.print(runs_table if runs else "no runs yet")


@db.command("check")
@click.option("--quick", is_flag=True, help="PRAGMA quick_check only (no index cross-check).")
@pass_context
def db_check(ctx: Context, quick: bool) -> None:
    """Run the integrity check of the database file; exits 4 when it fails."""
    from .store import open_database
    from .store.faults import damaged
    from .store.maintenance import integrity_problems
    from .store.snapshots import count_rows

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
def db_backup(ctx: Context, dest: Path) -> None:
    """Write a consistent copy of the database to DEST (a file, or a folder to put it in)."""
    from .store import open_database
    from .store.maintenance import backup_database

    with open_database(ctx.config, migrate=False) as database:
        rows = backup_database(database, dest)
    target = dest / Path(ctx.config.STAKTRAKR_DB).name if dest.is_dir() else dest
    click.echo(f"backed up {ctx.config.STAKTRAKR_DB} to {target}: {rows} price_snapshots rows, integrity ok")


# -- extract ------------------------------------------------------------------------------------


def _coin(ctx: Context, slug: str) -> Coin:
    from .providers import resolve_providers
    from .store import open_database

    coin = catalogue_coin(slug)
    if coin is None:
        with open_database(ctx.config) as database:
            coin = resolve_providers(ctx.config, database).coins.get(slug)
    if coin is None:
        raise click.BadParameter(f"unknown coin {slug!r} (not in the catalogue or the providers)", param_hint="--coin")
    return coin


@cli.command("extract")
@click.option("--vendor", required=True, help="Dealer id, e.g. apmex.")
@click.option("--coin", "coin_slug", required=True, help="Coin slug, e.g. ase.")
@click.option("--file", "file_path", type=click.Path(path_type=Path), help="A saved product page.")
@click.option("--url", help="Download this URL like the crawl does (browser for dealers that need it).")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@pass_context
def extract_command(ctx: Context, vendor: str, coin_slug: str, file_path: Path | None, url: str | None, as_json: bool) -> None:
    """Show what the extraction chain decides for one page, and why."""
    from .extract_cli import extract_file, extract_url

    if bool(file_path) == bool(url):
        raise click.UsageError("give exactly one of --file or --url")
    coin = _coin(ctx, coin_slug)
    result = extract_file(ctx.config, coin, vendor, file_path) if file_path else extract_url(coin, vendor, url or "")
    if as_json:
        click.echo(json.dumps(result.as_public()))
        return
    for i, step in enumerate(result.steps, 1):
        console.print(f"{i:2d}. {step}", markup=False, highlight=False)
    price = f"{result.price:.2f}" if result.price is not None else "none"
    console.print(
        f"=> status {result.status.value}, price {price}, in stock {result.in_stock}, method {result.method}, reason: {result.reason}",
        markup=False,
        highlight=False,
    )


# -- export -----------------------------------------------------------------------------------------


def _pull_first(database: Any) -> None:
    """Exports start from every poller's rows; without the remote, from the local copy."""
    from .errors import SyncError

    if database.synced:
        try:
            database.pull()
        except SyncError as exc:
            err_console.print(f"warning: {exc}; exporting the local copy", markup=False, highlight=False)


@cli.command("export")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Data root to write (default STAKTRAKR_API_DIR).")
@click.option("--as-of", "as_of", help="Export the API as it was at this UTC time (ISO-8601), from rows observed by then.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_context
def export_command(ctx: Context, out_dir: Path | None, as_of: str | None, as_json: bool) -> None:
    """Write the static JSON API from the database."""
    from .export import export_api, export_cache_path
    from .plugin_manager import get_plugin_manager
    from .providers import resolve_providers
    from .store import open_database
    from .timeutil import parse_time

    try:
        when = parse_time(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter(f"{as_of!r} is not an ISO-8601 time (e.g. 2026-03-15T20:23:00Z)", param_hint="--as-of") from None
    database = open_database(ctx.config)
    _pull_first(database)
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


@cli.command("publish")
@click.option("--as-of", "as_of", help="Export as of this UTC time (default now).")
@pass_context
def publish_command(ctx: Context, as_of: str | None) -> None:
    """Export the API, then hand it to the publish plugins (git: commit and push to API_GIT_BRANCH)."""
    from .export import export_api, export_cache_path
    from .plugin_manager import get_plugin_manager
    from .providers import resolve_providers
    from .store import open_database
    from .timeutil import parse_time

    pm = get_plugin_manager(ctx.config)
    database = open_database(ctx.config)
    _pull_first(database)
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
    manifest = json.loads((Path(out_dir) / "api/manifest.json").read_text(encoding="utf-8"))
    lines = [line for line in pm.hook.staktrakr_publish(data_dir=str(out_dir), manifest=manifest, config=ctx.config) if line]
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if not lines:
        console.print("no publisher is configured (set API_GIT_REMOTE to publish with git)")


@cli.command("new-dealer")
@click.argument("name")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="Repository root to write into.")
def new_dealer_command(name: str, root: Path) -> None:
    """Write a dealer plugin skeleton, a fixture page and a passing test."""
    from .scaffold import new_dealer

    for path in new_dealer(name, root):
        click.echo(f"wrote {path}")
    click.echo(f"next: save a real product page next to the fixture, then run pytest tests/dealers/test_{name}.py")


def _add_feature_commands() -> None:
    """Commands that live in their own modules."""
    from .backfill import backfill_command
    from .health import health_command
    from .metrics import metrics_command
    from .reports import dealers_command, runs_command
    from .serve import serve_command

    for command in (backfill_command, serve_command, health_command, runs_command, dealers_command, metrics_command):
        cli.add_command(command)


_add_feature_commands()


def _register_plugin_commands() -> None:
    try:
        from .plugin_manager import get_plugin_manager

        get_plugin_manager().hook.staktrakr_cli_commands(cli=cli)
    except StaktrakrError:
        pass  # reported by the command that needs the plugins


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: user errors print one message, never a traceback."""
    _register_plugin_commands()
    try:
        return cli.main(args=argv, prog_name="staktrakr", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except StaktrakrError as exc:
        # soft_wrap: a one-line message stays one line (rich would break it at 80 columns in cron).
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        from .store.faults import os_fault

        fault = os_fault(exc)
        if fault is None:
            raise
        err_console.print(f"error: {fault}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(fault.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
