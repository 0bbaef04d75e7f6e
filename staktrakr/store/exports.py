"""Reads for the API export."""

from __future__ import annotations

from typing import Any

from .db import Database


def informative_observations(db: Database, since: str, until: str) -> list[tuple[Any, ...]]:
    """(coin, vendor, scraped_at, window_start, price, in_stock, status, method) of every `ok` or
    `out_of_stock` row observed in (since, until], oldest first. Failed attempts say nothing
    about price or stock and are left out."""
    with db.held() as conn:
        cursor = conn.execute(
            "SELECT coin_slug, vendor, scraped_at, window_start, price, in_stock, status, method "
            "FROM price_snapshots WHERE scraped_at > ? AND scraped_at <= ? AND status IN ('ok', 'out_of_stock') "
            "ORDER BY coin_slug, scraped_at, id",
            (since, until),
        )
        return cursor.fetchall()
