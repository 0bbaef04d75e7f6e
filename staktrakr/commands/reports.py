"""`staktrakr runs` and `staktrakr dealers`: the reports of staktrakr/reports.py, printed."""

from __future__ import annotations

import json

import click

from ..timeutil import utcnow
from .context import CommandContext, pass_context


@click.command("runs")
@click.option("--poller", "poller_id", help="Only this poller's runs (POLLER_ID, e.g. api or home).")
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True, help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def runs_command(ctx: CommandContext, poller_id: str | None, last: int, as_json: bool) -> None:
    """Recent crawl runs: duration, status, totals per status, failures per dealer."""
    from ..reports import build_runs_report, print_runs
    from ..store import open_database

    with open_database(ctx.config) as db:
        runs = build_runs_report(db, poller_id, last)
    if as_json:
        click.echo(json.dumps([run.model_dump(mode="json") for run in runs], indent=2))
        return
    print_runs(runs)


@click.command("dealers")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), default=24, show_default=True, help="Look back this many hours.")
@click.option("--poller", "poller_id", help="Only this poller's attempts (a ban often hits one IP only).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def dealers_command(ctx: CommandContext, hours: float, poller_id: str | None, as_json: bool) -> None:
    """Health per dealer: attempts, success rate, last success, blocked/no-price/error counts, top failure reason."""
    from ..reports import build_dealers_report, print_dealers
    from ..store import open_database

    now = utcnow()
    with open_database(ctx.config) as db:
        report = build_dealers_report(db, now, hours, poller_id)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    print_dealers(report, now)
