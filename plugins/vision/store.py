"""The vision cross-check's tables: its migrations (columns of its own on price_snapshots and
poller_runs) and the query the decision reads."""

from __future__ import annotations

from typing import Any

from staktrakr.store.migrations import Migration

COMPONENT = "vision"

# Columns of price_snapshots the pipeline fills (item plugin_columns): what the page text said
# and what the screenshot said, next to the core's decision (`price`, `source`, `confidence`).
SNAPSHOT_COLUMNS = ("scraped_price", "vision_price", "vision_in_stock", "vision_weight", "vision_agrees")

MIGRATIONS = [
    Migration(
        COMPONENT,
        1,
        "both readings on the row, figures on the run",
        (
            # Core migration 3 added these to every database before they became the plugin's:
            # on such a database each ADD COLUMN is skipped (Database._apply).
            "ALTER TABLE price_snapshots ADD COLUMN scraped_price REAL",  # the page text's price, kept whenever vision answered
            "ALTER TABLE price_snapshots ADD COLUMN vision_price REAL",
            "ALTER TABLE price_snapshots ADD COLUMN vision_in_stock INTEGER",
            "ALTER TABLE price_snapshots ADD COLUMN vision_weight TEXT",  # weight / denomination the screenshot shows
            "ALTER TABLE price_snapshots ADD COLUMN vision_agrees INTEGER",  # computed by us (within 3 %), never the model's claim
            "ALTER TABLE poller_runs ADD COLUMN vision_calls INTEGER",
            "ALTER TABLE poller_runs ADD COLUMN vision_tokens INTEGER",
            "ALTER TABLE poller_runs ADD COLUMN vision_seconds REAL",
            "ALTER TABLE poller_runs ADD COLUMN vision_cost_usd REAL",
        ),
    )
]


def other_dealer_prices(db: Any, coin_slug: str, vendor: str, since: str) -> list[float]:
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
