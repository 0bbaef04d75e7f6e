"""`staktrakr export`: the static JSON API, built from the database.

Layout (the folder is the data root, like the published `data/`):
api/manifest.json, api/latest.json, api/providers.json, api/{slug}/latest.json,
api/{slug}/history-7d.json, api/{slug}/history-30d.json, plus the files plugins add
(spot: hourly/…, 15min/…; Goldback: api/goldback-spot.json, goldback-YYYY.json).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..models import Coin
from ..providers import ProviderSet
from ..store import Database
from ..store.exports import informative_observations
from ..timeutil import iso_ms, utcnow
from .retail import ExportParams, Observation, coin_figures
from .writer import ApiWriter

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
ENDPOINTS = {
    "latest": "api/latest.json",
    "slug_latest": "api/{slug}/latest.json",
    "history_7d": "api/{slug}/history-7d.json",
    "history_30d": "api/{slug}/history-30d.json",
    "providers": "api/providers.json",
}
# Files whose only change would be `generated_at`: left alone when nothing else changed, so an
# export with no new data rewrites nothing and `generated_at` says when the data last moved.
_STAMPED = ("api/manifest.json", "api/latest.json")


class ExportReport(BaseModel):
    out_dir: str
    as_of: str
    generated_at: str
    coins: int
    rows: int
    written: list[str]
    unchanged: int
    removed: list[str]
    seconds: float


def _observations(db: Database, since: str, until: str) -> dict[str, list[Observation]]:
    by_coin: dict[str, list[Observation]] = defaultdict(list)
    for slug, vendor, scraped_at, window, price, in_stock, status, method in informative_observations(db, since, until):
        ok = status == "ok" and price is not None and bool(in_stock)
        by_coin[slug].append(Observation(vendor, scraped_at, window, price, bool(in_stock), ok, method))
    return by_coin


def _same_but_stamp(old: Any, new: dict[str, Any]) -> bool:
    if not isinstance(old, dict):
        return False
    strip = lambda d: {k: v for k, v in d.items() if k != "generated_at"}  # noqa: E731
    return strip(old) == strip(new)


def export_api(
    db: Database,
    providers: ProviderSet,
    out_dir: Path,
    *,
    as_of: datetime | None = None,
    params: ExportParams | None = None,
    pm: Any = None,
) -> ExportReport:
    """Write the API for the state of the database at `as_of` (default now)."""
    started = time.monotonic()
    as_of = as_of or utcnow()
    params = params or ExportParams()
    generated_at = iso_ms(as_of)
    since = iso_ms(as_of - timedelta(days=31))
    with db.held():
        by_coin = _observations(db, since, generated_at)
        extra_files: dict[str, Any] = {}
        if pm is not None:
            for files in pm.hook.staktrakr_export_files(db=db, as_of=generated_at, coins=dict(providers.coins)):
                extra_files.update(files or {})
    writer = ApiWriter(out_dir)
    coins: dict[str, Coin] = dict(sorted(providers.coins.items()))
    figures = {}
    for slug in coins:
        configured = [v for v, listing in providers.listings.get(slug, {}).items() if listing.active]
        figures[slug] = coin_figures(slug, by_coin.get(slug, []), configured, as_of, params)
    latest_window = max((f.latest_window for f in figures.values() if f.latest_window), default=None)

    for slug, fig in figures.items():
        if fig.latest["window_start"] is None:
            fig.latest["window_start"] = latest_window
        writer.write_json(f"api/{slug}/latest.json", fig.latest)
        writer.write_json(f"api/{slug}/history-7d.json", fig.history_7d)
        writer.write_json(f"api/{slug}/history-30d.json", fig.history_30d)

    summaries = {slug: f.summary for slug, f in figures.items() if f.summary is not None}
    latest = {"window_start": latest_window, "generated_at": generated_at, "coin_count": len(summaries), "coins": summaries}
    recent_windows = {w["window"] for f in figures.values() for w in f.latest["windows_24h"]}
    manifest = {
        "generated_at": generated_at,
        "latest_window": latest_window,
        "window_count": len(recent_windows),
        "coin_count": len(coins),
        "coins": list(coins),
        "coins_meta": {slug: {"name": c.name, "metal": c.metal.value, "weight": c.weight_oz} for slug, c in coins.items()},
        "endpoints": ENDPOINTS,
        "schema_version": SCHEMA_VERSION,
    }
    for relative, value in (("api/latest.json", latest), ("api/manifest.json", manifest)):
        if relative in _STAMPED and _same_but_stamp(writer.read_json(relative), value):
            writer.log.unchanged.append(relative)
            continue
        writer.write_json(relative, value)
    writer.write_json("api/providers.json", providers.flat())
    for relative, value in sorted(extra_files.items()):
        writer.write_json(relative, value)
    writer.remove_stale_slug_dirs(set(coins))

    report = ExportReport(
        out_dir=str(out_dir),
        as_of=generated_at,
        generated_at=generated_at,
        coins=len(coins),
        rows=sum(len(v) for v in by_coin.values()),
        written=writer.log.written,
        unchanged=len(writer.log.unchanged),
        removed=writer.log.removed,
        seconds=round(time.monotonic() - started, 3),
    )
    logger.info(
        "export to %s: %d coins, %d rows, %d files written, %d unchanged, %d removed in %.2f s",
        out_dir, report.coins, report.rows, len(report.written), report.unchanged, len(report.removed), report.seconds,
    )  # fmt: skip
    return report
