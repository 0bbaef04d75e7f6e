"""Retail observations (`price_snapshots`) and failures (`provider_failures`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..models import FAILURE_STATUSES, Status
from .db import Database
from .ids import new_id

_SNAPSHOT_COLUMNS = (
    "id", "run_id", "poller_id", "scraped_at", "window_start", "coin_slug", "vendor", "url", "price",
    "in_stock", "status", "method", "reason", "confidence", "http_status", "elapsed_ms",
    "source", "scraped_price", "vision_price", "vision_in_stock", "vision_weight", "vision_agrees",
)  # fmt: skip


class Snapshot(BaseModel):
    """One row of price_snapshots: one target's outcome in one run."""

    id: str
    run_id: str | None
    poller_id: str
    scraped_at: str
    window_start: str
    coin_slug: str
    vendor: str
    url: str | None = None
    price: float | None = None
    in_stock: bool | None = None
    status: Status
    method: str | None = None
    reason: str | None = None
    confidence: float | None = None
    http_status: int | None = None
    elapsed_ms: int | None = None
    # How the price was decided: "firecrawl" (page text; the live contract's name),
    # "firecrawl+vision" (text and screenshot agree), "vision" (screenshot only or preferred).
    source: str | None = None
    scraped_price: float | None = None  # the page text's price, kept whenever vision also answered
    vision_price: float | None = None
    vision_in_stock: bool | None = None
    vision_weight: str | None = None  # weight / denomination the screenshot shows
    vision_agrees: bool | None = None  # computed by us (within 3 %), never the model's own claim

    def row(self) -> tuple[Any, ...]:
        values = self.model_dump()
        values["status"] = self.status.value
        for flag in ("in_stock", "vision_in_stock", "vision_agrees"):
            values[flag] = None if values[flag] is None else int(values[flag])
        return tuple(values[c] for c in _SNAPSHOT_COLUMNS)


def insert_snapshot(db: Database, snapshot: Snapshot) -> None:
    """Store one observation, and a provider_failures row when it is a failure."""
    placeholders = ", ".join("?" for _ in _SNAPSHOT_COLUMNS)
    with db.transaction():
        db.execute(
            f"INSERT INTO price_snapshots ({', '.join(_SNAPSHOT_COLUMNS)}) VALUES ({placeholders}) "
            "ON CONFLICT(id) DO NOTHING",
            snapshot.row(),
        )
        if snapshot.status in FAILURE_STATUSES:
            db.execute(
                "INSERT INTO provider_failures (id, run_id, poller_id, coin_slug, vendor, url, status, reason, failed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                (
                    new_id(snapshot.poller_id),
                    snapshot.run_id,
                    snapshot.poller_id,
                    snapshot.coin_slug,
                    snapshot.vendor,
                    snapshot.url,
                    snapshot.status.value,
                    snapshot.reason,
                    snapshot.scraped_at,
                ),
            )


def failed_targets(db: Database, poller_id: str) -> list[tuple[str, str]]:
    """(coin, vendor) pairs whose latest attempt by this poller failed (blocked, no price, error),
    looking at attempts since this poller's last full `retail` run started. Later retry and
    single-dealer runs count: a target that succeeded since is no longer failed."""
    since = db.query_value(
        "SELECT started_at FROM poller_runs WHERE poller_id = ? AND job = 'retail' AND finished_at IS NOT NULL "
        "ORDER BY started_at DESC LIMIT 1",
        (poller_id,),
    )
    if since is None:
        return []
    failed = ", ".join(f"'{s.value}'" for s in FAILURE_STATUSES)
    rows = db.query(
        f"""SELECT coin_slug, vendor FROM (
                SELECT coin_slug, vendor, status, ROW_NUMBER() OVER (
                    PARTITION BY coin_slug, vendor ORDER BY scraped_at DESC, id DESC) AS rn
                FROM price_snapshots WHERE poller_id = ? AND scraped_at >= ?)
            WHERE rn = 1 AND status IN ({failed}) ORDER BY coin_slug, vendor""",
        (poller_id, since),
    )
    return [(r["coin_slug"], r["vendor"]) for r in rows]


def count_rows(db: Database, table: str) -> int:
    return int(db.query_value(f"SELECT COUNT(*) FROM {table}") or 0)


IMPORT_POLLER_ID = "import"  # rows brought in by `staktrakr backfill`; no poller may use this id
_BATCH = 1000


def insert_snapshots(db: Database, snapshots: list[Snapshot]) -> int:
    """Insert many observations in one transaction; existing ids are left alone. Returns how
    many were new. For bulk imports: no provider_failures rows."""
    rows = [s.row() for s in snapshots]
    if not rows:
        return 0
    sql = (
        f"INSERT INTO price_snapshots ({', '.join(_SNAPSHOT_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in _SNAPSHOT_COLUMNS)}) ON CONFLICT(id) DO NOTHING"
    )
    with db.transaction():
        before = int(db.query_value("SELECT total_changes()") or 0)
        for start in range(0, len(rows), _BATCH):
            db.executemany(sql, rows[start : start + _BATCH])
        return int(db.query_value("SELECT total_changes()") or 0) - before


def observed_windows(db: Database, slug: str) -> set[tuple[str, str]]:
    """(vendor, window_start) pairs of this coin that pollers stored themselves (not imports)."""
    rows = db.query(
        "SELECT DISTINCT vendor, window_start FROM price_snapshots WHERE coin_slug = ? AND poller_id <> ?",
        (slug, IMPORT_POLLER_ID),
    )
    return {(r["vendor"], r["window_start"]) for r in rows}


def observed_days(db: Database, slug: str, daily_method: str = "import_daily") -> set[str]:
    """UTC days of this coin that hold any observation other than an imported daily average."""
    rows = db.query(
        "SELECT DISTINCT substr(window_start, 1, 10) AS day FROM price_snapshots "
        "WHERE coin_slug = ? AND NOT (poller_id = ? AND method = ?)",
        (slug, IMPORT_POLLER_ID, daily_method),
    )
    return {r["day"] for r in rows}


def newest_per_target(db: Database) -> dict[tuple[str, str], dict[str, Any]]:
    """Each (coin, vendor)'s newest row: what a person looking at one crawl wants to see."""
    rows = db.query("SELECT * FROM price_snapshots ORDER BY scraped_at, id")
    return {(r["coin_slug"], r["vendor"]): r for r in rows}


def count_by_source(db: Database) -> dict[str | None, int]:
    """Rows per `source` (None: no vision cross-check answered)."""
    return {r["source"]: r["n"] for r in db.query("SELECT source, COUNT(*) AS n FROM price_snapshots GROUP BY source")}
