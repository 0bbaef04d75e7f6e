"""The plugin's own table, `backup_spot_prices`: one row per metal per backup poll."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from staktrakr.store import Database
from staktrakr.store.migrations import Migration

COMPONENT = "backup_spot"
MIGRATIONS = [
    Migration(
        COMPONENT,
        1,
        "backup spot readings",
        (
            """CREATE TABLE IF NOT EXISTS backup_spot_prices (
                id TEXT PRIMARY KEY,
                poller_id TEXT NOT NULL,
                metal TEXT NOT NULL,
                spot REAL NOT NULL,
                source TEXT NOT NULL,
                timestamp TEXT NOT NULL,
                scraped_at TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS idx_backup_spot_metal_time ON backup_spot_prices (metal, timestamp)",
        ),
    )
]
_COLUMNS = ("id", "poller_id", "metal", "spot", "source", "timestamp", "scraped_at")


class BackupReading(BaseModel):
    id: str
    poller_id: str
    metal: str
    spot: float  # USD per troy ounce
    source: str  # gold-api.com, import
    timestamp: str  # ISO-8601 UTC: when the source says the price was set
    scraped_at: str


def insert_readings(db: Database, readings: list[BackupReading]) -> int:
    """Store readings; ids already present are skipped. Returns how many were new."""
    inserted = 0
    with db.transaction():
        for reading in readings:
            inserted += max(0, db.execute(
                f"INSERT INTO backup_spot_prices ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
                "ON CONFLICT(id) DO NOTHING",
                tuple(getattr(reading, c) for c in _COLUMNS),
            ))  # fmt: skip
    return inserted


def latest_reading(db: Database, metal: str, since: str, until: str) -> dict[str, Any] | None:
    rows = db.query(
        "SELECT * FROM backup_spot_prices WHERE metal = ? AND timestamp >= ? AND timestamp <= ? ORDER BY timestamp DESC, id DESC LIMIT 1",
        (metal, since, until),
    )
    return rows[0] if rows else None
