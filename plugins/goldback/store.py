"""Official Goldback exchange rates (`goldback_rates`, the Goldback plugin's own table): one row
per scrape; the export keeps one entry per day (the latest of that day)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from staktrakr.store import Database
from staktrakr.store.migrations import Migration

COMPONENT = "goldback"
# Core migration 1 created this table before it became the plugin's: every statement is
# IF NOT EXISTS, so on such a database this migration changes nothing.
MIGRATIONS = [
    Migration(
        COMPONENT,
        1,
        "official Goldback rates",
        (
            """CREATE TABLE IF NOT EXISTS goldback_rates (
                id TEXT PRIMARY KEY,
                poller_id TEXT NOT NULL,
                date TEXT NOT NULL,
                g1_usd REAL NOT NULL,
                scraped_at TEXT NOT NULL,
                source TEXT NOT NULL,
                url TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS idx_goldback_date ON goldback_rates (date)",
        ),
    )
]

_COLUMNS = ("id", "poller_id", "date", "g1_usd", "scraped_at", "source", "url")


class GoldbackRate(BaseModel):
    id: str
    poller_id: str
    date: str  # YYYY-MM-DD (UTC) the rate is for
    g1_usd: float
    scraped_at: str  # ISO-8601 UTC
    source: str  # goldback.com, import, …
    url: str | None = None


def insert_goldback_rate(db: Database, rate: GoldbackRate) -> bool:
    """Store one rate; False when a row with this id already exists."""
    with db.transaction():
        changed = db.execute(
            f"INSERT INTO goldback_rates ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
            "ON CONFLICT(id) DO NOTHING",
            tuple(getattr(rate, c) for c in _COLUMNS),
        )
    return changed > 0


def daily_goldback_rates(db: Database, until: str = "9999") -> list[dict[str, Any]]:
    """The latest rate of each day scraped by `until`, newest day first."""
    return db.query(
        """SELECT date, g1_usd, scraped_at, source FROM (
               SELECT g.*, ROW_NUMBER() OVER (PARTITION BY date ORDER BY scraped_at DESC, id DESC) AS rn
               FROM goldback_rates g WHERE scraped_at <= ?)
           WHERE rn = 1 ORDER BY date DESC""",
        (until,),
    )


def latest_goldback_rate(db: Database, since: str, until: str) -> dict[str, Any] | None:
    """The newest rate scraped in [since, until] (the export's reference for Goldback prices)."""
    rows = db.query(
        "SELECT g1_usd, scraped_at FROM goldback_rates WHERE scraped_at >= ? AND scraped_at <= ? "
        "ORDER BY scraped_at DESC, id DESC LIMIT 1",
        (since, until),
    )
    return rows[0] if rows else None
