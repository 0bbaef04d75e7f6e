"""Prometheus metrics: from `staktrakr serve` at `/metrics`, or as a node-exporter textfile.

    staktrakr metrics                               print the exposition text
    staktrakr metrics --textfile /var/lib/node_exporter/staktrakr.prom   write it atomically

Every figure is read when it is asked for, from STAKTRAKR_DB (runs, observations, feeds) and from
the published files of the data root (freshness, judged by `staktrakr.health.check_health`): the
folder `staktrakr serve` serves at `/metrics`, STAKTRAKR_API_DIR for `staktrakr metrics`.
`StaktrakrCollector` is a custom collector registered on its own `CollectorRegistry`: nothing is
kept in process-global metric objects, so the numbers are the database's, not a process's memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import click
import turso
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .config import Config, load_config
from .errors import StaktrakrError
from .api.reader import FolderRoot
from .health import FeedStatus, check_health, collect_checks
from .plugin_manager import get_plugin_manager
from .store import Database
from .store import reports as queries
from .store.migrations import core_columns
from .timeutil import iso_ms, parse_time, utcnow

logger = logging.getLogger(__name__)

OBSERVATION_WINDOW = timedelta(hours=24)
# Any other numeric column of poller_runs was added by a plugin's migration and is exported as
# its own gauge ("rn": the query's row number).
CORE_RUN_COLUMNS = core_columns("poller_runs") | {"rn"}
# A scrape must not hang while a crawl holds the database file: give up and say so instead.
DB_LOCK_TIMEOUT_S = 10.0


class StaktrakrCollector(Collector):
    """Collects the metrics from the database and the published files on every scrape."""

    def __init__(
        self,
        config: Config,
        now: Callable[[], datetime] = utcnow,
        max_age: Mapping[str, timedelta] | None = None,
        api_dir: Path | None = None,
    ):
        self.config = config
        # The data root whose files are judged: the folder `serve --dir` serves, else STAKTRAKR_API_DIR.
        self.api_dir = Path(api_dir) if api_dir is not None else Path(config.STAKTRAKR_API_DIR)
        self.now = now
        self.max_age = dict(max_age or {})  # thresholds by feed name; default: each check's own

    def collect(self) -> Iterator[Metric]:
        now = self.now()
        yield from self._database_metrics(now)
        yield from self._published_metrics(now)

    # -- database -------------------------------------------------------------------------------

    def _database_metrics(self, now: datetime) -> Iterator[Metric]:
        up = GaugeMetricFamily("staktrakr_database_up", "1 when STAKTRAKR_DB could be read at this scrape, else 0.")
        path = Path(self.config.STAKTRAKR_DB)
        families: list[Metric] = []
        if path.exists():
            try:
                families = self._read_database(now)
            except (StaktrakrError, turso.Error, OSError) as exc:
                logger.warning("metrics: cannot read %s: %s", path, exc)
                families = []
            else:
                up.add_metric([], 1)
        if not families:
            up.add_metric([], 0)
        yield up
        yield from families

    def _read_database(self, now: datetime) -> list[Metric]:
        # Opened without migrating (a reader must not write) and without network traffic: a synced
        # replica is read as it is on disk.
        sync = {}
        if self.config.TURSO_DATABASE_URL:
            token = self.config.TURSO_AUTH_TOKEN.get_secret_value() if self.config.TURSO_AUTH_TOKEN else None
            sync = {"remote_url": self.config.TURSO_DATABASE_URL, "auth_token": token}
        with Database.open_local(self.config.STAKTRAKR_DB, migrate=False, lock_timeout_s=DB_LOCK_TIMEOUT_S, **sync) as db, db.held():
            if not queries.schema_is_current(db):
                raise StaktrakrError(f"{self.config.STAKTRAKR_DB} is not migrated yet (run `staktrakr db migrate`)")
            run_counts = queries.run_counts(db)
            last_runs = queries.last_finished_runs(db)
            observations = queries.observation_counts(db, iso_ms(now - OBSERVATION_WINDOW))
            last_success = queries.last_success_per_feed(db)

        runs = GaugeMetricFamily(
            "staktrakr_runs", "Runs recorded in poller_runs per poller, job and status (only grows, like a counter).",
            labels=["poller", "job", "status"],
        )  # fmt: skip
        for row in run_counts:
            runs.add_metric([row["poller_id"], row["job"], row["status"]], row["n"])

        duration = GaugeMetricFamily("staktrakr_last_run_duration_seconds", "Duration of the last finished run.", labels=["poller", "job"])
        finished = GaugeMetricFamily("staktrakr_last_run_finished_timestamp_seconds", "When the last finished run ended (Unix time).", labels=["poller", "job"])
        targets = GaugeMetricFamily("staktrakr_last_run_targets", "Targets of the last finished run.", labels=["poller", "job"])
        captured = GaugeMetricFamily("staktrakr_last_run_captured", "Targets of the last finished run that were ok or out of stock.", labels=["poller", "job"])
        failed = GaugeMetricFamily("staktrakr_last_run_failures", "Targets of the last finished run that failed.", labels=["poller", "job"])
        # Plugins' own run columns (hook staktrakr_run_figures, e.g. vision_calls): one gauge
        # each, named after the column, present only for runs that recorded it.
        plugin_figures: dict[str, GaugeMetricFamily] = {}
        for row in last_runs:
            labels = [row["poller_id"], row["job"]]
            duration.add_metric(labels, row["duration_s"] or 0.0)
            finished.add_metric(labels, parse_time(row["finished_at"]).timestamp())
            targets.add_metric(labels, row["total"])
            captured.add_metric(labels, row["captured"])
            failed.add_metric(labels, row["failures"])
            for column, value in row.items():
                if column in CORE_RUN_COLUMNS or isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                gauge = plugin_figures.get(column)
                if gauge is None:
                    gauge = plugin_figures[column] = GaugeMetricFamily(
                        f"staktrakr_last_run_{column}", f"poller_runs.{column} of the last finished run (a plugin's figure).", labels=["poller", "job"]
                    )
                gauge.add_metric(labels, value)

        observed = GaugeMetricFamily(
            "staktrakr_observations_24h", "Retail observations of the last 24 hours per dealer and status.",
            labels=["dealer", "status"],
        )  # fmt: skip
        for row in observations:
            observed.add_metric([row["vendor"], row["status"]], row["n"])

        success = GaugeMetricFamily(
            "staktrakr_last_success_timestamp_seconds",
            "Newest success per feed and poller (Unix time): retail ok observation; other feeds' newest run that captured something.",
            labels=["feed", "poller"],
        )  # fmt: skip
        for row in last_success:
            if row["at"]:
                success.add_metric([row["feed"], row["poller_id"]], parse_time(row["at"]).timestamp())
        return [runs, duration, finished, targets, captured, failed, *plugin_figures.values(), observed, success]

    # -- published files ------------------------------------------------------------------------

    def _published_metrics(self, now: datetime) -> Iterator[Metric]:
        checks = collect_checks(get_plugin_manager(self.config))
        report = check_health(FolderRoot(self.api_dir), checks, now, max_age=self.max_age)
        age = GaugeMetricFamily("staktrakr_published_age_seconds", "Age of each published feed in the data root (absent when missing).", labels=["feed"])
        stamp = GaugeMetricFamily("staktrakr_published_timestamp_seconds", "The published feed's own timestamp (Unix time).", labels=["feed"])
        fresh = GaugeMetricFamily("staktrakr_published_fresh", "1 when the published feed is within its threshold (`staktrakr health`), else 0.", labels=["feed"])
        limit = GaugeMetricFamily("staktrakr_published_threshold_seconds", "Age above which the feed counts as stale.", labels=["feed"])
        for feed, health in report.feeds.items():
            labels = [feed]
            if health.age_seconds is not None and health.source_timestamp is not None:
                age.add_metric(labels, health.age_seconds)
                stamp.add_metric(labels, parse_time(health.source_timestamp).timestamp())
            fresh.add_metric(labels, 1 if health.status is FeedStatus.FRESH else 0)
            limit.add_metric(labels, health.threshold_seconds)
        yield from (age, stamp, fresh, limit)


def build_registry(config: Config, now: Callable[[], datetime] = utcnow, api_dir: Path | None = None) -> CollectorRegistry:
    """A registry holding only our collector (nothing is collected until it is asked)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StaktrakrCollector(config, now=now, api_dir=api_dir))
    return registry


def render(config: Config, api_dir: Path | None = None) -> bytes:
    """The metrics in Prometheus text exposition format (published files of `api_dir`, default
    STAKTRAKR_API_DIR)."""
    return generate_latest(build_registry(config, api_dir=api_dir))


def write_textfile(config: Config, path: Path) -> None:
    """Write the metrics for node-exporter's textfile collector: temp file + rename, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), build_registry(config))


# -- HTTP -------------------------------------------------------------------------------------------


def metrics_routes(config: Config | None = None) -> list[web.RouteDef]:
    """The `/metrics` route for `staktrakr.serve.make_app(root, extra_routes=...)`.

    Without `config`, the environment is read at each request (as every command reads it). The
    published files judged are those of the folder the app serves, not STAKTRAKR_API_DIR."""
    from .serve import ROOT_KEY

    async def handler(request: web.Request) -> web.Response:
        try:
            body = await asyncio.to_thread(render, config or load_config(), request.app.get(ROOT_KEY))
        except StaktrakrError as exc:
            return web.Response(status=500, text=f"500: {exc}\n", headers={"Cache-Control": "no-store"})
        # no-store: a cached scrape would hide an outage from Prometheus.
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})

    return [web.get("/metrics", handler)]


# -- command ----------------------------------------------------------------------------------------


@click.command("metrics")
@click.option("--textfile", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file atomically (node-exporter textfile collector; name it *.prom).")
def metrics_command(textfile: Path | None) -> None:
    """Print the Prometheus metrics (runs, observations per dealer, durations, freshness)."""
    config = load_config()
    if textfile is None:
        click.echo(render(config).decode("utf-8"), nl=False)
        return
    try:
        write_textfile(config, textfile)
    except OSError as exc:
        raise click.ClickException(f"cannot write {textfile}: {exc.strerror or exc}") from None
    click.echo(f"wrote {textfile}")
