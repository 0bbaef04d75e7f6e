"""Spot prices (`spot_prices`, the spot plugin's own table): one row per metal per poll, with the
real poll time and its 15-minute floor. A second poll in the same floor is a new row, never an
overwrite (B-3)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from staktrakr.store import Database
from staktrakr.store.migrations import Migration

COMPONENT = "spot"
# Core migrations 1 and 4 created this table and its indexes before they became the plugin's:
# every statement is IF NOT EXISTS, so on such a database this migration changes nothing.
MIGRATIONS = [
    Migration(
        COMPONENT,
        1,
        "spot readings, and the indexes of the latest reading of a metal and of a floor",
        (
            """CREATE TABLE IF NOT EXISTS spot_prices (
                id TEXT PRIMARY KEY,
                poller_id TEXT NOT NULL,
                metal TEXT NOT NULL,
                spot REAL NOT NULL,
                source TEXT NOT NULL,
                timestamp TEXT NOT NULL,
                timestamp_floor TEXT NOT NULL,
                scraped_at TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS idx_spot_metal_floor ON spot_prices (metal, timestamp_floor)",
            "CREATE INDEX IF NOT EXISTS idx_spot_floor ON spot_prices (timestamp_floor)",
            # Validation asks for the latest reading once per retail item; without this index every
            # ask scans the metal's rows.
            "CREATE INDEX IF NOT EXISTS idx_spot_metal_time ON spot_prices (metal, timestamp)",
        ),
    )
]

_COLUMNS = ("id", "poller_id", "metal", "spot", "source", "timestamp", "timestamp_floor", "scraped_at")


class SpotReading(BaseModel):
    id: str
    poller_id: str
    metal: str  # lower case: gold, silver, platinum, palladium
    spot: float  # USD per troy ounce
    source: str  # metalprice-api, import, …
    timestamp: str  # ISO-8601 UTC: when the price was read
    timestamp_floor: str  # ISO-8601 UTC, 15-minute floor of `timestamp`
    scraped_at: str

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in _COLUMNS)


def insert_spot_readings(db: Database, readings: list[SpotReading]) -> int:
    """Insert readings; ids already present are skipped. Returns how many were new."""
    inserted = 0
    with db.transaction():
        for reading in readings:
            inserted += max(
                0,
                db.execute(
                    f"INSERT INTO spot_prices ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
                    "ON CONFLICT(id) DO NOTHING",
                    reading.row(),
                ),
            )
    return inserted


def spot_readings_between(db: Database, start: str, end: str) -> list[dict[str, Any]]:
    """Readings with start <= timestamp < end, by metal then time."""
    return db.query(
        "SELECT * FROM spot_prices WHERE timestamp >= ? AND timestamp < ? ORDER BY metal, timestamp, id",
        (start, end),
    )


def hours_stored_between(db: Database, scraped_since: str, scraped_until: str, before: str) -> list[str]:
    """Hours (`YYYY-MM-DDTHH`) before `before` that hold readings stored in [scraped_since,
    scraped_until]: what a backfill filled further back than the export's window."""
    rows = db.query(
        "SELECT DISTINCT substr(timestamp, 1, 13) AS hour FROM spot_prices "
        "WHERE scraped_at >= ? AND scraped_at <= ? AND timestamp < ? ORDER BY hour",
        (scraped_since, scraped_until, before),
    )
    return [r["hour"] for r in rows]


def latest_spot(db: Database, metal: str, since: str, until: str | None = None) -> dict[str, Any] | None:
    """The newest reading of `metal` taken in [since, until]."""
    rows = db.query(
        "SELECT * FROM spot_prices WHERE metal = ? AND timestamp >= ? AND timestamp <= ? ORDER BY timestamp DESC LIMIT 1",
        (metal, since, until or "9999"),
    )
    return rows[0] if rows else None


def observed_spot_floors(db: Database, first: str, last: str, import_poller: str = "import") -> set[tuple[str, str]]:
    """(metal, 15-minute floor) pairs in [first, last] that pollers stored themselves."""
    rows = db.query(
        "SELECT DISTINCT metal, timestamp_floor FROM spot_prices WHERE timestamp_floor >= ? AND timestamp_floor <= ? "
        "AND poller_id <> ?",
        (first, last, import_poller),
    )
    return {(r["metal"], r["timestamp_floor"]) for r in rows}
