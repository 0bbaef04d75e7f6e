"""Price events: a coin cheaper than it has been most of the month, a dealer's price jump.

"Cheaper" is measured by the premium over the metal's value when spot prices are known (asked
through the hook `staktrakr_spot_price`, as the export does: a spot feed plugin answers), so a
falling metal does not pass for a bargain; without spot for a day or for now, by the price.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from staktrakr.catalogue import catalogue_coin
from staktrakr.export.figures import reference_metal, reference_units
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


# (metal, since, until) -> the newest spot price read in that span, or None
SpotAt = Callable[[str, str, str], float | None]


class _Worth:
    """What one unit of a coin is worth at a time: its metal's value then (cached per day)."""

    def __init__(self, spot_at: SpotAt | None):
        self.spot_at = spot_at
        self.cache: dict[tuple[str, str, str], float | None] = {}

    def of(self, slug: str, since: str, until: str) -> float | None:
        coin = catalogue_coin(slug)
        if coin is None or self.spot_at is None:
            return None
        key = (reference_metal(coin), since, until)
        if key not in self.cache:
            self.cache[key] = self.spot_at(*key)
        spot = self.cache[key]
        units = reference_units(coin)
        return spot * units if spot and units else None


def low_price_conditions(db: Database, now: datetime, spot_at: SpotAt | None = None) -> list[Condition]:
    """Coins whose lowest premium now (the lowest price, without spot) is under the 10th
    percentile of their daily lowest of the 30 days before today."""
    recent_since = iso_ms(now - RECENT)
    worth = _Worth(spot_at)
    now_worth: dict[str, float | None] = {}
    daily_low: dict[str, dict[str, tuple[float, float | None]]] = defaultdict(dict)  # slug -> day -> (price, premium)
    now_low: dict[str, tuple[float, float | None, str]] = {}
    for row in _ok_prices(db, iso_ms(now - timedelta(days=30)), iso_ms(now)):
        slug, price, day = row["coin_slug"], float(row["price"]), row["scraped_at"][:10]
        if row["scraped_at"] >= recent_since:
            if slug not in now_worth:
                now_worth[slug] = worth.of(slug, iso_ms(now - timedelta(hours=24)), iso_ms(now))
            value = _premium(price, now_worth[slug])
            if slug not in now_low or _lower((price, value), now_low[slug][:2]):
                now_low[slug] = (price, value, row["vendor"])
        elif day < now.date().isoformat():
            value = _premium(price, worth.of(slug, f"{day}T00:00:00.000Z", f"{day}T23:59:59.999Z"))
            if day not in daily_low[slug] or _lower((price, value), daily_low[slug][day]):
                daily_low[slug][day] = (price, value)
    found = []
    for slug, (price, value, vendor) in sorted(now_low.items()):
        days = list(daily_low[slug].values())
        if len(days) < MIN_DAYS:
            continue
        if value is not None and all(p is not None for _, p in days):
            p10 = percentile([p for _, p in days], 0.10)
            if value < p10:
                found.append(Condition("price-low", slug, f"{slug} at {price:,.2f} ({vendor}), premium {value:+.1f} % under its 30-day 10th percentile {p10:+.1f} %"))
            continue
        p10 = percentile([p for p, _ in days], 0.10)
        if price < p10:
            found.append(Condition("price-low", slug, f"{slug} at {price:,.2f} ({vendor}), under its 30-day 10th percentile {p10:,.2f}"))
    return found


def _premium(price: float, worth: float | None) -> float | None:
    return (price - worth) / worth * 100 if worth else None


def _lower(a: tuple[float, float | None], b: tuple[float, float | None]) -> bool:
    """Lower premium when both have one, else lower price."""
    if a[1] is not None and b[1] is not None:
        return a[1] < b[1]
    return a[0] < b[0]


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
