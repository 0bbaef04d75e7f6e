"""The core's import: each coin's 24 h windows and daily averages.

* every (window, dealer) of `api/{slug}/latest.json` `windows_24h` becomes a `price_snapshots`
  row (method `import`, scraped at the window time);
* for the days no window covers, the dealers' daily averages of `api/{slug}/history-30d.json`
  (method `import_daily`, scraped at 12:00 UTC that day).

Slugs come from `api/manifest.json` `coins`. The live publisher never deleted the folders of
slugs it stopped exporting (B-17), so other folders are listed in the report, not imported;
only without a manifest are the folders themselves the list.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from ..api import layout
from ..api.models.imported import DAILY_HISTORY, MANIFEST_SLUGS, SLUG_WINDOWS, DailyAverages, WindowPrices
from ..models import Status
from ..store.snapshots import IMPORT_POLLER_ID, Snapshot, insert_snapshots, observed_days, observed_windows
from ..timeutil import floor_15, iso_ms, iso_s
from .importer import ImportRun, import_id

logger = logging.getLogger(__name__)

WINDOW_METHOD = "import"
DAILY_METHOD = "import_daily"
WINDOWS, DAILY = "windows", "daily"  # their families in the report


def import_retail(run: ImportRun) -> None:
    run.counts(WINDOWS)
    run.counts(DAILY)
    for slug in _slugs(run):
        _slug(run, slug)


def _slugs(run: ImportRun) -> list[str]:
    listed: list[str] | None = None
    data = run.load(layout.MANIFEST, quiet_missing=run.folder is not None)
    if data is not None:
        manifest = run.validate(layout.MANIFEST, MANIFEST_SLUGS, data)
        listed = list(dict.fromkeys(manifest.coins)) if manifest else None
    folder = run.folder
    if folder is None:
        return listed or []
    folders = folder.slug_folders()
    if listed is None:
        logger.info("backfill: no usable manifest in %s; importing the %d slug folder(s)", run.root.label, len(folders))
        return folders
    run.report.ignored_slugs = [s for s in folders if s not in set(listed)]
    if run.report.ignored_slugs:
        logger.info("backfill: %d slug folder(s) not in the manifest are not imported", len(run.report.ignored_slugs))
    return listed


def _slug(run: ImportRun, slug: str) -> None:
    latest_rel, history_rel = layout.slug_latest(slug), layout.history_30d(slug)
    latest_data, latest_missing = run.read(latest_rel)
    history_data, history_missing = run.read(history_rel)
    if latest_missing and history_missing:
        run.report.skip(f"{layout.slug_dir(slug)}/", f"listed in the manifest, but latest.json and history-30d.json are {run.missing_reason()}")
        return
    for rel, missing in ((latest_rel, latest_missing), (history_rel, history_missing)):
        if missing:
            run.report.skip(rel, run.missing_reason())
    window_days: set[str] = set()
    latest = run.validate(latest_rel, SLUG_WINDOWS, latest_data) if latest_data is not None else None
    if latest is not None:
        window_days = _windows(run, slug, latest_rel, latest.windows_24h)
    days = run.validate(history_rel, DAILY_HISTORY, history_data) if history_data is not None else None
    if days is not None:
        _daily(run, slug, history_rel, days, window_days)


def _windows(run: ImportRun, slug: str, rel: str, windows: list[WindowPrices]) -> set[str]:
    counts = run.counts(WINDOWS)
    counts.files += 1
    reason = f"imported from windows_24h of {run.root.where(rel)}"
    rows: dict[str, Snapshot] = {}
    for entry in windows:
        at = entry.window
        run.window_hours.add(at.replace(minute=0, second=0, microsecond=0))
        run.years.add(at.year)
        scraped_at, window_start = iso_ms(at), iso_s(floor_15(at))
        for vendor, price in entry.vendors.items():
            row_id = import_id("window", slug, vendor, scraped_at)
            rows[row_id] = Snapshot(
                id=row_id, run_id=None, poller_id=IMPORT_POLLER_ID, scraped_at=scraped_at,
                window_start=window_start, coin_slug=slug, vendor=vendor, url=None, price=price,
                in_stock=True, status=Status.ok, method=WINDOW_METHOD, reason=reason,
            )  # fmt: skip
    with run.db.held():
        live = observed_windows(run.db, slug)
        fresh = [s for s in rows.values() if (s.vendor, s.window_start) not in live]
        counts.rows += len(rows)
        counts.covered += len(rows) - len(fresh)
        inserted = insert_snapshots(run.db, fresh)
    counts.inserted += inserted
    logger.info("backfill %s: %d window row(s) in %s, %d new", slug, len(rows), rel, inserted)
    return {iso_s(e.window)[:10] for e in windows}


def _daily(run: ImportRun, slug: str, rel: str, days: list[DailyAverages], window_days: set[str]) -> None:
    counts = run.counts(DAILY)
    counts.files += 1
    reason = "daily average imported from history-30d"
    with run.db.held():
        covered_days = window_days | observed_days(run.db, slug, DAILY_METHOD)
        rows: dict[str, Snapshot] = {}
        for day in days:
            run.years.add(day.date.year)
            if day.date.isoformat() in covered_days:
                continue
            noon = datetime(day.date.year, day.date.month, day.date.day, 12, tzinfo=UTC)
            for vendor, figures in day.vendors.items():
                if figures.avg is None:
                    continue
                row_id = import_id("daily", slug, vendor, day.date.isoformat())
                rows[row_id] = Snapshot(
                    id=row_id, run_id=None, poller_id=IMPORT_POLLER_ID, scraped_at=iso_ms(noon),
                    window_start=iso_s(noon), coin_slug=slug, vendor=vendor, url=None, price=figures.avg,
                    in_stock=figures.inStock, status=Status.ok if figures.inStock else Status.out_of_stock,
                    method=DAILY_METHOD, reason=reason,
                )  # fmt: skip
        counts.rows += len(rows)
        inserted = insert_snapshots(run.db, list(rows.values()))
    counts.inserted += inserted
    logger.info("backfill %s: %d daily row(s) in %s for days without windows, %d new", slug, len(rows), rel, inserted)
