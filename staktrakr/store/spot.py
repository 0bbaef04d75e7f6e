"""Spot prices (`spot_prices`): one row per metal per poll, with the real poll time and its
15-minute floor. A second poll in the same floor is a new row, never an overwrite (B-3)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .db import Database

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
