"""Queries of the vision cross-check (pipelines/vision.py)."""

from __future__ import annotations

from .db import Database


def other_dealer_prices(db: Database, coin_slug: str, vendor: str, since: str) -> list[float]:
    """Each other dealer's newest in-stock price of this coin scraped since `since`, by either
    poller: what a disagreement between page text and screenshot is judged against."""
    rows = db.query(
        """SELECT price FROM (
               SELECT vendor, price, ROW_NUMBER() OVER (
                   PARTITION BY vendor ORDER BY scraped_at DESC, id DESC) AS rn
               FROM price_snapshots
               WHERE coin_slug = ? AND vendor <> ? AND scraped_at >= ? AND status = 'ok' AND price IS NOT NULL)
           WHERE rn = 1 ORDER BY vendor""",
        (coin_slug, vendor, since),
    )
    return [float(r["price"]) for r in rows]
