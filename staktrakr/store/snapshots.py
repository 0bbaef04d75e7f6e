"""Retail observations (`price_snapshots`) and failures (`provider_failures`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ConfigDict

from ..models import FAILURE_STATUSES, Observation
from .db import Database
from .ids import new_id


class Snapshot(Observation):
    """One row of price_snapshots: an Observation with the row's identity. Its columns are its
    fields; a plugin's own columns (added by its migrations) ride along as extra fields, so the
    core model never names them (the vision cross-check's `vision_price`, ...)."""

    model_config = ConfigDict(extra="allow")

    id: str
    run_id: str | None
    poller_id: str
    window_start: str

    @classmethod
    def from_item(cls, item: Any, identity: Mapping[str, Any]) -> Snapshot:
        """The row of a retail item (models.RetailPriceItem); `identity` gives id, run_id,
        poller_id and window_start (and the normalized scraped_at)."""
        values = {name: item.get(name) for name in Observation.model_fields if item.get(name) is not None}
        return cls(**{**dict(item.get("plugin_columns") or {}), **values, **identity})

    def columns(self) -> tuple[str, ...]:
        return (*CORE_COLUMNS, *sorted(self.model_extra or {}))

    def row(self, columns: Sequence[str] | None = None) -> tuple[Any, ...]:
        values = {**self.model_dump(), **(self.model_extra or {})}
        values["status"] = self.status.value
        # SQLite has no booleans: flags are stored as 0/1, whoever declared them.
        return tuple(int(values[c]) if isinstance(values.get(c), bool) else values.get(c) for c in columns or self.columns())


_IDENTITY = ("id", "run_id", "poller_id", "scraped_at", "window_start")
# The core's columns of price_snapshots, the row's identity first (the table's own order).
CORE_COLUMNS: tuple[str, ...] = (*_IDENTITY, *(name for name in Snapshot.model_fields if name not in _IDENTITY))


def insert_snapshot(db: Database, snapshot: Snapshot) -> None:
    """Store one observation, and a provider_failures row when it is a failure."""
    columns = snapshot.columns()
    with db.transaction():
        db.execute(_insert_sql(columns), snapshot.row(columns))
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


def _insert_sql(columns: Sequence[str]) -> str:
    for column in columns:
        if not column.isidentifier():  # plugin columns come from field names: never from input
            raise ValueError(f"not a column name: {column!r}")
    return (
        f"INSERT INTO price_snapshots ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        "ON CONFLICT(id) DO NOTHING"
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
    if not snapshots:
        return 0
    # One statement for the batch: the columns of every row (a row without a plugin's column gets NULL).
    columns = tuple(dict.fromkeys(c for s in snapshots for c in s.columns()))
    rows = [s.row(columns) for s in snapshots]
    sql = _insert_sql(columns)
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
