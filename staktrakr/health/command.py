"""`staktrakr health`: check the published feeds of a folder or a URL and print the verdict."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..api.reader import FolderRoot, UrlRoot
from ..timeutil import utcnow
from .checks import FeedStatus, HealthReport, check_health, collect_checks, format_age

URL_TIMEOUT_S = 10.0


def parse_base_url(value: str) -> str:
    """Validate a data root URL given on the command line; raises ValueError with a message."""
    parts = urlsplit(value.strip())
    try:
        parts.port  # noqa: B018 - raises on a non-numeric port
    except ValueError:
        raise ValueError("has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL of the data root, e.g. https://api.staktrakr.com/data")
    if parts.username or parts.password:
        # It would be echoed in the report and in logs.
        raise ValueError("must not contain credentials")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    return value.strip().rstrip("/")


def _base_url_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_base_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _max_age_option(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, timedelta]:
    limits = {}
    for value in values:
        name, _, minutes = value.partition("=")
        try:
            amount = float(minutes)
        except ValueError:
            amount = -1.0
        if not name or amount <= 0:
            raise click.BadParameter(f"{value!r} is not NAME=MINUTES with MINUTES > 0 (e.g. spot=90)")
        limits[name.strip()] = timedelta(minutes=amount)
    return limits


_STYLES = {FeedStatus.FRESH: "green", FeedStatus.STALE: "yellow", FeedStatus.MISSING: "red"}


def _print_table(report: HealthReport) -> None:
    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table("feed", "status", "age", "threshold", "source timestamp", "detail", title=f"feed health of {report.source} at {report.checked_at}")
    for health in report.feeds.values():
        table.add_row(
            health.feed,
            Text(health.status.value, style=_STYLES[health.status]),
            format_age(health.age_seconds) if health.age_seconds is not None else "-",
            format_age(health.threshold_seconds),
            Text(health.source_timestamp or "-"),
            Text(health.reason or health.location or ""),  # Text: paths and errors are not markup
        )
    console.print(table)
    unhealthy = [f"{h.feed} {h.status.value}" for h in report.feeds.values() if h.status is not FeedStatus.FRESH]
    console.print("all feeds fresh" if report.ok else "NOT healthy: " + ", ".join(unhealthy), highlight=False)


_POSITIVE = click.FloatRange(min=0, min_open=True)


@click.command("health")
@click.option("--dir", "root", type=click.Path(path_type=Path), help="Data root folder to check; default STAKTRAKR_API_DIR.")
@click.option("--url", "base_url", callback=_base_url_option, help="Data root URL to check instead, e.g. https://api.staktrakr.com/data.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--market-minutes", type=_POSITIVE, help="Max age of the manifest  [default: 30]")
@click.option("--spot-minutes", type=_POSITIVE, help="Max age of the last spot entry (spot plugin)  [default: 75]")
@click.option("--goldback-hours", type=_POSITIVE, help="Max age of the Goldback rate (Goldback plugin)  [default: 25]")
@click.option("--max-age", "max_ages", multiple=True, metavar="FEED=MINUTES", callback=_max_age_option, help="Max age of any feed, e.g. a plugin's (repeatable).")
def health_command(
    root: Path | None, base_url: str | None, as_json: bool, market_minutes: float | None, spot_minutes: float | None,
    goldback_hours: float | None, max_ages: dict[str, timedelta],
) -> None:  # fmt: skip
    """Check that the published feeds (market, and those of the plugins: spot, Goldback) are fresh; exit 1 when any is not."""
    if root is not None and base_url is not None:
        raise click.UsageError("give at most one of --dir or --url")
    from ..config import load_config
    from ..plugin_manager import get_plugin_manager

    config = load_config()
    data_root = UrlRoot(base_url, URL_TIMEOUT_S, no_cache=True) if base_url is not None else FolderRoot(root if root is not None else config.STAKTRAKR_API_DIR)
    named = {"market": market_minutes, "spot": spot_minutes, "goldback": goldback_hours * 60 if goldback_hours else None}
    limits = {name: timedelta(minutes=minutes) for name, minutes in named.items() if minutes} | max_ages
    report = check_health(data_root, collect_checks(get_plugin_manager(config)), utcnow(), max_age=limits)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        _print_table(report)
    if not report.ok:
        sys.exit(1)
