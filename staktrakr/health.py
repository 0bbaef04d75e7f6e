"""`staktrakr health`: are the published feeds fresh?

Reads the same files a client reads — from a data root folder or from the published base URL —
and compares each feed's own timestamp with a threshold (LIVE-SYSTEM §7, "Health thresholds"):

- market:   `api/manifest.json` `generated_at`
- spot:     last entry of `hourly/YYYY/MM/DD/HH.json` for the current UTC hour, else the previous
            hour (the current file does not exist until the first spot poll of the hour)
- goldback: `api/goldback-spot.json` `scraped_at`

The core is `check_health(source, thresholds, now)`; the command only picks the source and prints.
"""

from __future__ import annotations

import http.client
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import click
from pydantic import BaseModel, ConfigDict, Field, computed_field
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__
from .timeutil import iso_s, parse_time, utcnow

URL_TIMEOUT_S = 10.0
MAX_FILE_BYTES = 32 * 1024 * 1024  # far above any published file; stops a runaway response

MANIFEST = "api/manifest.json"
GOLDBACK = "api/goldback-spot.json"


class Feed(StrEnum):
    MARKET = "market"
    SPOT = "spot"
    GOLDBACK = "goldback"


class FeedStatus(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"


class Thresholds(BaseModel):
    """How old each feed may be and still count as fresh."""

    model_config = ConfigDict(frozen=True)

    market: timedelta = Field(timedelta(minutes=30), description="Manifest age; the export runs every 15 min.")
    spot: timedelta = Field(timedelta(minutes=75), description="Last hourly spot entry; polled hourly.")
    goldback: timedelta = Field(timedelta(hours=25), description="Goldback rate; scraped once a day.")
    clock_skew: timedelta = Field(timedelta(minutes=5), description="How far in the future a timestamp may be before it is suspect.")

    def for_feed(self, feed: Feed) -> timedelta:
        return {Feed.MARKET: self.market, Feed.SPOT: self.spot, Feed.GOLDBACK: self.goldback}[feed]


class FeedHealth(BaseModel):
    """The verdict on one feed."""

    feed: Feed
    status: FeedStatus
    age_seconds: float | None = Field(None, description="now - source timestamp; None when missing.")
    threshold_seconds: float
    source_timestamp: str | None = Field(None, description="The timestamp exactly as the file has it.")
    location: str | None = Field(None, description="File or URL the timestamp came from (or was looked for).")
    reason: str | None = Field(None, description="Why it is not fresh.")


class HealthReport(BaseModel):
    source: str
    checked_at: str
    feeds: dict[Feed, FeedHealth]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return all(health.status is FeedStatus.FRESH for health in self.feeds.values())


# -- sources ------------------------------------------------------------------------------------


class FeedUnavailable(Exception):
    """A feed file could not be read or understood; the message says why."""

    def __init__(self, reason: str, location: str | None = None, not_found: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.location = location
        self.not_found = not_found


class FeedSource(Protocol):
    """Where the published files are read from."""

    def describe(self) -> str:
        """Name of the source for the report."""

    def locate(self, relative: str) -> str:
        """Path or URL of one file, for the report."""

    def read(self, relative: str) -> bytes:
        """The file's bytes; raises FeedUnavailable (not_found=True when it does not exist)."""


class DirSource:
    """A data root folder (what the exporter writes, or a clone of the `api` branch)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def locate(self, relative: str) -> str:
        return str(self.root / relative)

    def read(self, relative: str) -> bytes:
        path = self.root / relative
        if not self.root.is_dir():
            raise FeedUnavailable(f"data root {self.root} does not exist", str(path), not_found=True)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise FeedUnavailable("not found", str(path), not_found=True) from None
        except OSError as exc:
            raise FeedUnavailable(f"unreadable: {exc.strerror or exc}", str(path)) from None


class UrlSource:
    """The published API: `base` is the data root URL, e.g. https://api.staktrakr.com/data."""

    def __init__(self, base: str, timeout: float = URL_TIMEOUT_S):
        self.base = parse_base_url(base)
        self.timeout = timeout
        # After one connection failure the others would fail the same way, each after the full
        # timeout; remember it and answer at once.
        self._unreachable: str | None = None

    def describe(self) -> str:
        return self.base

    def locate(self, relative: str) -> str:
        return f"{self.base}/{relative}"

    def read(self, relative: str) -> bytes:
        url = self.locate(relative)
        if self._unreachable:
            raise FeedUnavailable(self._unreachable, url)
        # no-cache: a CDN copy up to max-age old would make a stale feed look fresh.
        request = Request(url, headers={"User-Agent": f"staktrakr-health/{__version__}", "Accept": "application/json", "Cache-Control": "no-cache"})
        try:
            with urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read(MAX_FILE_BYTES + 1)
        except HTTPError as exc:
            exc.close()
            raise FeedUnavailable(f"HTTP {exc.code}", url, not_found=exc.code in (404, 410)) from None
        except (URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            self._unreachable = f"cannot reach {self.base}: {reason or type(exc).__name__}"
            raise FeedUnavailable(self._unreachable, url) from None
        if len(body) > MAX_FILE_BYTES:
            raise FeedUnavailable(f"larger than {MAX_FILE_BYTES} bytes", url)
        return body


def parse_base_url(value: str) -> str:
    """Validate a data root URL; raises ValueError with a message for the user."""
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


# -- the check ----------------------------------------------------------------------------------


def check_health(source: FeedSource, thresholds: Thresholds, now: datetime) -> HealthReport:
    """Judge each feed's freshness at `now` (timezone-aware)."""
    now = now.astimezone(UTC)
    feeds = {
        Feed.MARKET: _judge(Feed.MARKET, lambda: _field_of(source, MANIFEST, "generated_at"), thresholds, now),
        Feed.SPOT: _judge(Feed.SPOT, lambda: _last_spot_entry(source, now), thresholds, now),
        Feed.GOLDBACK: _judge(Feed.GOLDBACK, lambda: _field_of(source, GOLDBACK, "scraped_at"), thresholds, now),
    }
    return HealthReport(source=source.describe(), checked_at=iso_s(now), feeds=feeds)


def _judge(feed: Feed, find: Callable[[], tuple[str, str]], thresholds: Thresholds, now: datetime) -> FeedHealth:
    """`find()` returns (timestamp text, location) or raises FeedUnavailable."""
    limit = thresholds.for_feed(feed)
    try:
        text, location = find()
    except FeedUnavailable as exc:
        return _missing(feed, limit, location=exc.location, reason=exc.reason)
    try:
        stamp = parse_time(text)
    except ValueError:
        return _missing(feed, limit, location=location, reason=f"unreadable timestamp {text!r}", source_timestamp=text)
    age = now - stamp
    if age > limit:
        status, reason = FeedStatus.STALE, f"{format_age(age.total_seconds())} old, limit {format_age(limit.total_seconds())}"
    elif -age > thresholds.clock_skew:
        # A timestamp from the future would stay "fresh" forever and hide an outage.
        status, reason = FeedStatus.STALE, f"{format_age(-age.total_seconds())} in the future (clock skew?)"
    else:
        status, reason = FeedStatus.FRESH, None
    return FeedHealth(
        feed=feed, status=status, age_seconds=age.total_seconds(), threshold_seconds=limit.total_seconds(),
        source_timestamp=text, location=location, reason=reason,
    )  # fmt: skip


def _missing(feed: Feed, limit: timedelta, location: str | None, reason: str, source_timestamp: str | None = None) -> FeedHealth:
    return FeedHealth(
        feed=feed, status=FeedStatus.MISSING, threshold_seconds=limit.total_seconds(),
        source_timestamp=source_timestamp, location=location, reason=reason,
    )  # fmt: skip


def _read_json(source: FeedSource, relative: str) -> Any:
    body = source.read(relative)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedUnavailable(f"malformed JSON ({exc})", source.locate(relative)) from None


def _field_of(source: FeedSource, relative: str, key: str) -> tuple[str, str]:
    document = _read_json(source, relative)
    value = document.get(key) if isinstance(document, dict) else None
    if not isinstance(value, str):
        raise FeedUnavailable(f"no {key!r} timestamp in it", source.locate(relative))
    return value, source.locate(relative)


def _last_spot_entry(source: FeedSource, now: datetime) -> tuple[str, str]:
    """Timestamp of the last entry of this hour's spot file, else of the previous hour's.

    Only a missing or empty current file falls back: a corrupt one is reported, not hidden.
    """
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    looked: list[str] = []
    for hour in (this_hour, this_hour - timedelta(hours=1)):
        relative = f"hourly/{hour:%Y/%m/%d/%H}.json"
        try:
            entries = _read_json(source, relative)
        except FeedUnavailable as exc:
            if not exc.not_found:
                raise
            looked.append(f"{relative}: {exc.reason}")
            continue
        if not isinstance(entries, list):
            raise FeedUnavailable("expected a list of spot entries", source.locate(relative))
        if not entries:
            looked.append(f"{relative}: no entries")
            continue
        last = entries[-1]
        value = last.get("timestamp") if isinstance(last, dict) else None
        if not isinstance(value, str):
            raise FeedUnavailable("last entry has no 'timestamp'", source.locate(relative))
        return value, source.locate(relative)
    raise FeedUnavailable("; ".join(looked), source.locate(f"hourly/{this_hour:%Y/%m/%d/%H}.json"))


def format_age(seconds: float) -> str:
    """`42s`, `12m 05s`, `3h 07m`, `25h`, `3d 04h`: two units at most, a zero second unit dropped."""
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    if days < 2:  # "25h" reads better than "1d 01h" next to a 25 h threshold
        days, rest = 0, total
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        big, small, units = days, hours, "dh"
    elif hours:
        big, small, units = hours, minutes, "hm"
    elif minutes:
        big, small, units = minutes, secs, "ms"
    else:
        return f"{sign}{secs}s"
    return f"{sign}{big}{units[0]}" + (f" {small:02d}{units[1]}" if small else "")


# -- command ------------------------------------------------------------------------------------


def _base_url_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_base_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


_STYLES = {FeedStatus.FRESH: "green", FeedStatus.STALE: "yellow", FeedStatus.MISSING: "red"}


def _print_table(report: HealthReport) -> None:
    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table("feed", "status", "age", "threshold", "source timestamp", "detail", title=f"feed health of {report.source} at {report.checked_at}")
    for health in report.feeds.values():
        table.add_row(
            health.feed.value,
            Text(health.status.value, style=_STYLES[health.status]),
            format_age(health.age_seconds) if health.age_seconds is not None else "-",
            format_age(health.threshold_seconds),
            Text(health.source_timestamp or "-"),
            Text(health.reason or health.location or ""),  # Text: paths and errors are not markup
        )
    console.print(table)
    unhealthy = [f"{h.feed.value} {h.status.value}" for h in report.feeds.values() if h.status is not FeedStatus.FRESH]
    console.print("all feeds fresh" if report.ok else "NOT healthy: " + ", ".join(unhealthy), highlight=False)


@click.command("health")
@click.option("--dir", "root", type=click.Path(path_type=Path), help="Data root folder to check; default STAKTRAKR_API_DIR.")
@click.option("--url", "base_url", callback=_base_url_option, help="Data root URL to check instead, e.g. https://api.staktrakr.com/data.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--market-minutes", type=click.FloatRange(min=0, min_open=True), default=30, show_default=True, help="Max age of the manifest.")
@click.option("--spot-minutes", type=click.FloatRange(min=0, min_open=True), default=75, show_default=True, help="Max age of the last spot entry.")
@click.option("--goldback-hours", type=click.FloatRange(min=0, min_open=True), default=25, show_default=True, help="Max age of the Goldback rate.")
def health_command(root: Path | None, base_url: str | None, as_json: bool, market_minutes: float, spot_minutes: float, goldback_hours: float) -> None:
    """Check that the market, spot and Goldback feeds are fresh; exit 1 when any is not."""
    if root is not None and base_url is not None:
        raise click.UsageError("give at most one of --dir or --url")
    source: FeedSource
    if base_url is not None:
        source = UrlSource(base_url)
    else:
        from .config import load_config

        source = DirSource(root if root is not None else load_config().STAKTRAKR_API_DIR)
    thresholds = Thresholds(market=timedelta(minutes=market_minutes), spot=timedelta(minutes=spot_minutes), goldback=timedelta(hours=goldback_hours))
    report = check_health(source, thresholds, utcnow())
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        _print_table(report)
    if not report.ok:
        sys.exit(1)
