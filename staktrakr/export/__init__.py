"""`staktrakr export`: the static JSON API, built from the database.

The folder is the data root, like the published `data/`; `staktrakr.api.layout` says where
each file goes. Every file is checked against its model (`staktrakr.api.families`) as it is
written, and the JSON Schemas of the families are published beside them (api/schema/).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..api import layout
from ..api.families import published_value
from ..api.models import CoinMeta, History, HistoryDay, LatestIndex, Manifest, dump
from ..api.schema import schema_files

from ..models import Coin
from ..providers import ProviderSet
from ..store import Database
from ..store.exports import day_fingerprints, informative_observations, last_in_stock_price
from ..timeutil import iso_ms, utcnow
from ..status import build_status, configured_targets
from ..plugin_manager import dealer_profiles
from .vendors import published_providers
from .figures import GOLDBACK_RATE, ExportParams, Observation, SpotQuote, coin_figures, history_day, reference_metal
from .writer import ApiWriter, ensure_mode, js_value, write_atomic

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
ENDPOINTS = layout.ENDPOINTS
# Files whose only change would be `generated_at`: left alone when nothing else changed, so an
# export with no new data rewrites nothing and `generated_at` says when the data last moved.
_STAMPED = (layout.MANIFEST, layout.LATEST, layout.STATUS)


class ExportReport(BaseModel):
    out_dir: str
    as_of: str
    generated_at: str
    coins: int
    rows: int
    history_days_computed: int
    written: list[str]
    unchanged: int
    removed: list[str]
    seconds: float
    # The manifest as written (or as it stands, when unchanged): `publish` hands it on without
    # reading the file back. Not part of the printed report.
    manifest: dict[str, Any] = Field(default_factory=dict, exclude=True)


class HistoryCache:
    """Computed history days, kept between exports next to the database: a past day is only
    recomputed when its rows changed (e.g. the other poller's backlog arrived late)."""

    def __init__(self, path: Path | None, params: ExportParams):
        self.path = path
        self.key = repr(params)
        self.entries: dict[str, Any] = {}
        if path is not None:
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
                if stored.get("params") == self.key:
                    self.entries = stored.get("days", {})
            except (OSError, ValueError, AttributeError):
                self.entries = {}  # a missing or damaged cache only costs time

    def get(self, slug: str, day: str, fingerprint: list[Any]) -> tuple[bool, Any]:
        entry = self.entries.get(f"{slug}|{day}")
        if entry is not None and entry.get("fp") == fingerprint:
            return True, entry.get("day")
        return False, None

    def put(self, slug: str, day: str, fingerprint: list[Any], value: Any) -> None:
        self.entries[f"{slug}|{day}"] = {"fp": fingerprint, "day": value}

    def save(self, keep_days: set[str]) -> None:
        if self.path is None:
            return
        kept = {k: v for k, v in self.entries.items() if k.split("|", 1)[1] in keep_days}
        write_atomic(self.path, json.dumps({"params": self.key, "days": kept}, separators=(",", ":")).encode())


def export_cache_path(config: Any) -> Path:
    """Where the history cache of this database lives (beside it, never in the published folder)."""
    db_path = Path(config.STAKTRAKR_DB)
    return db_path.with_name(db_path.name + ".export-cache.json")


# How old a quote may be to measure prices against. The Goldback rate is read once a day (the
# web app calls it stale after 25 h); spot prices are polled all day.
QUOTE_MAX_AGE = {
    "gold": timedelta(hours=24), "silver": timedelta(hours=24), "platinum": timedelta(hours=24),
    "palladium": timedelta(hours=24), GOLDBACK_RATE: timedelta(hours=26),
}  # fmt: skip


def _spot_quotes(db: Database, as_of: datetime, pm: Any) -> dict[str, SpotQuote]:
    """The latest spot price of each metal (and the Goldback G1 rate) read recently before
    `as_of`, from the feed plugins (hook `staktrakr_spot_price`): none without one."""
    quotes: dict[str, SpotQuote] = {}
    if pm is None:
        return quotes
    for metal, max_age in QUOTE_MAX_AGE.items():
        row = pm.hook.staktrakr_spot_price(db=db, metal=metal, since=iso_ms(as_of - max_age), until=iso_ms(as_of))
        if row is not None:
            quotes[metal] = SpotQuote(metal, row["spot"], row["timestamp"])
    return quotes


def _observations(rows: Iterable[tuple[Any, ...]]) -> tuple[dict[str, list[Observation]], int]:
    """Rows as compact observations grouped by coin; repeated strings are shared, which halves
    the memory of a 30-day export."""
    by_coin: dict[str, list[Observation]] = defaultdict(list)
    shared: dict[str, str] = {}
    count = 0
    for slug, vendor, scraped_at, window, price, in_stock, status, method, source, confidence in rows:
        ok = status == "ok" and price is not None and bool(in_stock)
        vendor = shared.setdefault(vendor, vendor)
        window = shared.setdefault(window, window)
        method = shared.setdefault(method, method) if method is not None else None
        source = shared.setdefault(source, source) if source is not None else None
        by_coin[shared.setdefault(slug, slug)].append(
            Observation(vendor, scraped_at, window, price, bool(in_stock), ok, method, source, confidence)
        )
        count += 1
    return by_coin, count


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
    cache_path: Path | None = None,
) -> ExportReport:
    """Write the API for the state of the database at `as_of` (default now)."""
    started = time.monotonic()
    as_of = as_of or utcnow()
    params = params or ExportParams()
    generated_at = iso_ms(as_of)
    since = iso_ms(as_of - timedelta(days=31))
    recent_since = iso_ms(as_of - params.fallback - timedelta(hours=2))  # 24 h plus the longest carry
    days = [(as_of.date() - timedelta(days=n)).isoformat() for n in range(29, -1, -1)]
    coins: dict[str, Coin] = dict(sorted(providers.coins.items()))
    cache = HistoryCache(cache_path, params)
    with db.held():
        fingerprints = {k: list(v) for k, v in day_fingerprints(db, iso_ms(as_of - timedelta(days=30)), generated_at).items()}
        stale_days = sorted({day for (slug, day), fp in fingerprints.items() if slug in coins and day in days and not cache.get(slug, day, fp)[0]})
        quotes = _spot_quotes(db, as_of, pm)
        by_coin, row_count = _observations(informative_observations(db, since, generated_at, recent_since, stale_days))
        extra_files: dict[str, Any] = {}
        if pm is not None:
            for files in pm.hook.staktrakr_export_files(db=db, as_of=generated_at, coins=dict(coins)):
                extra_files.update(files or {})
        writer = ApiWriter(out_dir)
        writer.remove_debris()  # temp files of a write that was killed: never left to be published
        figures = {}
        for slug in coins:
            observations = by_coin.get(slug, [])
            by_day: dict[str, list[Observation]] = defaultdict(list)
            for o in observations:
                by_day[o.scraped_at[:10]].append(o)
            history = []
            for day in days:
                fingerprint = fingerprints.get((slug, day))
                if fingerprint is None:
                    continue
                hit, cached = cache.get(slug, day, fingerprint)
                if hit:
                    entry = HistoryDay.model_validate(cached) if cached is not None else None
                else:
                    entry = history_day(day, by_day.get(day, []), params)
                    cache.put(slug, day, fingerprint, dump(entry) if entry is not None else None)
                if entry is not None:
                    history.append(entry)
            recent = [o for o in observations if o.scraped_at > recent_since]
            configured = [v for v, listing in providers.listings.get(slug, {}).items() if listing.active]

            def last_in_stock(vendor: str, slug: str = slug) -> tuple[float, str] | None:
                return last_in_stock_price(db, slug, vendor, generated_at, since)

            coin = coins[slug]
            quote = quotes.get(reference_metal(coin))
            figures[slug] = coin_figures(slug, recent, history, configured, as_of, params, last_in_stock, coin, quote)
        status = build_status(db, as_of, targets=configured_targets(providers.listings)).model_dump(mode="json")
    cache.save(set(days))
    latest_window = max((f.latest_window for f in figures.values() if f.latest_window), default=None)

    for slug, fig in figures.items():
        if fig.latest.window_start is None:
            fig.latest.window_start = latest_window
        writer.write_json(layout.slug_latest(slug), fig.latest)
        writer.write_json(layout.history_7d(slug), History(fig.history_7d))
        writer.write_json(layout.history_30d(slug), History(fig.history_30d))

    summaries = {slug: f.summary for slug, f in figures.items() if f.summary is not None}
    latest = LatestIndex(window_start=latest_window, generated_at=generated_at, coin_count=len(summaries), coins=summaries)
    recent_windows = {w.window for f in figures.values() for w in f.latest.windows_24h}
    manifest = Manifest(
        generated_at=generated_at,
        latest_window=latest_window,
        window_count=len(recent_windows),
        coin_count=len(coins),
        coins=list(coins),
        coins_meta={slug: CoinMeta(name=c.name, metal=c.metal.value, weight=c.weight_oz) for slug, c in coins.items()},
        endpoints=ENDPOINTS,
        schema_version=SCHEMA_VERSION,
    )
    published_manifest = js_value(dump(manifest))  # as it is written
    for relative, model in ((layout.LATEST, latest), (layout.MANIFEST, manifest), (layout.STATUS, status)):
        old, value = writer.read_json(relative), published_value(relative, model)
        if relative in _STAMPED and _same_but_stamp(old, value):
            ensure_mode(writer.root / relative)
            writer.log.unchanged.append(relative)
            if relative == layout.MANIFEST:
                published_manifest = old  # its generated_at says when the data last moved
            continue
        writer.write_json(relative, value)
    profiles = dealer_profiles(pm) if pm is not None else {}
    writer.write_json(layout.PROVIDERS, published_providers(providers, profiles))
    for relative, value in sorted(extra_files.items()):
        writer.write_json(relative, value)
    for relative, value in schema_files().items():
        writer.write_json(relative, value)
    writer.remove_stale_slug_dirs(set(coins))

    report = ExportReport(
        out_dir=str(out_dir),
        as_of=generated_at,
        generated_at=generated_at,
        coins=len(coins),
        rows=row_count,
        history_days_computed=len(stale_days),
        written=writer.log.written,
        unchanged=len(writer.log.unchanged),
        removed=writer.log.removed,
        seconds=round(time.monotonic() - started, 3),
        manifest=published_manifest,
    )
    logger.info(
        "export to %s: %d coins, %d rows, %d files written, %d unchanged, %d removed in %.2f s",
        out_dir, report.coins, report.rows, len(report.written), report.unchanged, len(report.removed), report.seconds,
    )  # fmt: skip
    return report
