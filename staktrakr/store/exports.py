"""Reads for the API export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .db import Database

_INFORMATIVE = "status IN ('ok', 'out_of_stock')"


def day_fingerprints(db: Database, since: str, until: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """A cheap summary of each (coin, day) of informative rows in (since, until]: when it is
    unchanged, so is that day's history, and the export can reuse what it computed before."""
    rows = db.query(
        "SELECT coin_slug, substr(scraped_at, 1, 10) AS day, COUNT(*) AS n, TOTAL(price) AS total, "
        "TOTAL(in_stock) AS stocked, MAX(scraped_at) AS newest, MAX(id) AS last_id "
        f"FROM price_snapshots WHERE scraped_at > ? AND scraped_at <= ? AND {_INFORMATIVE} GROUP BY 1, 2",
        (since, until),
    )
    return {(r["coin_slug"], r["day"]): (r["n"], round(r["total"], 4), r["stocked"], r["newest"], r["last_id"]) for r in rows}


def informative_observations(db: Database, since: str, until: str, recent_since: str, days: list[str]) -> Iterator[tuple[Any, ...]]:
    """(coin, vendor, scraped_at, window_start, price, in_stock, status, method, source, confidence) of the `ok` and
    `out_of_stock` rows in (since, until] that are either newer than `recent_since` or from one
    of `days`, oldest first. Failed attempts say nothing about price or stock."""
    day_list = ", ".join("?" for _ in days) or "''"
    with db.held() as conn:
        cursor = conn.execute(
            "SELECT coin_slug, vendor, scraped_at, window_start, price, in_stock, status, method, source, confidence "
            f"FROM price_snapshots WHERE scraped_at > ? AND scraped_at <= ? AND {_INFORMATIVE} "
            f"AND (scraped_at > ? OR substr(scraped_at, 1, 10) IN ({day_list})) "
            "ORDER BY coin_slug, scraped_at, id",
            (since, until, recent_since, *days),
        )
        while batch := cursor.fetchmany(5000):  # streamed: the export keeps its own compact form
            yield from batch


def last_in_stock_price(db: Database, coin: str, vendor: str, until: str, since: str) -> tuple[float, str] | None:
    """The newest in-stock `ok` price of a dealer for a coin in [since, until], with its time."""
    rows = db.query(
        "SELECT price, scraped_at FROM price_snapshots WHERE coin_slug = ? AND vendor = ? AND status = 'ok' "
        "AND in_stock = 1 AND price IS NOT NULL AND scraped_at >= ? AND scraped_at <= ? "
        "ORDER BY scraped_at DESC LIMIT 1",
        (coin, vendor, since, until),
    )
    return (rows[0]["price"], rows[0]["scraped_at"]) if rows else None
