"""`staktrakr backfill --from-api DIR_OR_URL`: run the import and print its report."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from .report import BackfillReport
from .run import backfill


@click.command("backfill")
@click.option("--from-api", "source", required=True, metavar="DIR_OR_URL", help="Data root of a published API: a folder (checkout of the api branch) or its http(s) URL.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def backfill_command(source: str, as_json: bool) -> None:
    """Import the history a published API still holds (windows, daily averages, and the plugins'
    files: spot, Goldback).

    Safe to repeat: rows already imported, and windows the pollers stored themselves, are left
    alone. Exits 1 only when no file could be read.
    """
    from ..config import load_config
    from ..plugin_manager import get_plugin_manager
    from ..store import open_database
    from .run import collect_importers

    config = load_config()
    importers = collect_importers(get_plugin_manager(config))
    with open_database(config) as db:
        report = backfill(db, source, importers=importers)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        _print_report(report, Console(width=None if sys.stdout.isatty() else 160))
    if report.exit_code:
        sys.exit(report.exit_code)


def _print_report(report: BackfillReport, console: Console) -> None:
    table = Table("family", "files", "rows in files", "inserted", "already imported", "stored by pollers", title=f"backfill from {report.source}")
    for name, counts in report.families.items():
        table.add_row(name, str(counts.files), str(counts.rows), str(counts.inserted), str(counts.already_imported), str(counts.covered))
    console.print(table)
    if report.skipped:
        skipped = Table("skipped file", "reason", title=f"{len(report.skipped)} file(s) skipped")
        for item in report.skipped:
            skipped.add_row(item.file, item.reason)
        console.print(skipped)
    if report.ignored_slugs:
        console.print(f"not in the manifest, not imported: {', '.join(report.ignored_slugs)}", markup=False, highlight=False)
    if report.exit_code:
        console.print("nothing could be read: no rows imported", markup=False, highlight=False)
    else:
        console.print(f"{report.inserted} row(s) inserted from {report.files_read} file(s) in {report.duration_s:.1f} s", markup=False, highlight=False)
