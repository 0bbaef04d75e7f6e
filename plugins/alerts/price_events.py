"""Price events: a coin cheaper than it has been most of the month, a dealer's price jump.

Prices, not premiums: the coin's spot metal moves little against a 30-day spread of dealer
prices, and this keeps the plugin on the core's price table (spot belongs to its own plugin).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from staktrakr.medians import median
from staktrakr.store import Database
from staktrakr.timeutil import iso_ms

from .incidents import Condition
from .settings import AlertSettings

MIN_DAYS = 5  # a percentile of fewer past days says nothing
RECENT = timedelta(hours=2)  # the newest crawl of each dealer


def _ok_prices(db: Database, since: str, until: str) -> list[dict]:
    return db.query(
        """SELECT coin_slug, vendor, scraped_at, price FROM price_snapshots
           WHERE status = 'ok' AND price IS NOT NULL AND scraped_at >= ? AND scraped_at <= ? ORDER BY scraped_at""",
        (since, until),
    )


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(share * len(ordered) + 0.999999) - 1))]


def low_price_conditions(db: Database, now: datetime) -> list[Condition]:
    """Coins whose lowest price now is under the 10th percentile of their daily lowest prices
    of the 30 days before today."""
    recent_since = iso_ms(now - RECENT)
    daily_low: dict[str, dict[str, float]] = defaultdict(dict)
    now_low: dict[str, tuple[float, str]] = {}
    for row in _ok_prices(db, iso_ms(now - timedelta(days=30)), iso_ms(now)):
        slug, price, day = row["coin_slug"], float(row["price"]), row["scraped_at"][:10]
        if row["scraped_at"] >= recent_since:
            if slug not in now_low or price < now_low[slug][0]:
                now_low[slug] = (price, row["vendor"])
        elif day < now.date().isoformat():
            daily_low[slug][day] = min(price, daily_low[slug].get(day, price))
    found = []
    for slug, (price, vendor) in sorted(now_low.items()):
        days = list(daily_low[slug].values())
        if len(days) < MIN_DAYS:
            continue
        p10 = percentile(days, 0.10)
        if price < p10:
            found.append(Condition("price-low", slug, f"{slug} at {price:,.2f} ({vendor}), under its 30-day 10th percentile {p10:,.2f}"))
    return found


def price_move_conditions(db: Database, now: datetime, settings: AlertSettings) -> list[Condition]:
    """Dealers whose newest price of a coin is ALERT_PRICE_MOVE away from their 7-day median
    before it."""
    recent_since = iso_ms(now - RECENT)
    before: dict[tuple[str, str], list[float]] = defaultdict(list)
    newest: dict[tuple[str, str], float] = {}
    for row in _ok_prices(db, iso_ms(now - timedelta(days=7)), iso_ms(now)):
        pair = (row["vendor"], row["coin_slug"])
        if row["scraped_at"] >= recent_since:
            newest[pair] = float(row["price"])
        else:
            before[pair].append(float(row["price"]))
    found = []
    for (vendor, slug), price in sorted(newest.items()):
        reference = median(before.get((vendor, slug), []))
        if reference and abs(price / reference - 1) > settings.ALERT_PRICE_MOVE:
            found.append(
                Condition("price-move", f"{vendor}/{slug}", f"{vendor} {slug} at {price:,.2f}, {price / reference - 1:+.0%} from its 7-day median {reference:,.2f}")
            )
    return found
