"""Per-coin retail figures (what the API says about each coin): merge of both pollers, last-known fallback, outliers, confidence,
the 24-hour windows and the daily history.

Only informative observations enter (status `ok` or `out_of_stock`): a blocked or failed
attempt says nothing about price or stock, so it can neither hide a price nor an out-of-stock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..api.models.retail import CoinSummary, DailyVendor, HistoryDay, SlugLatest, SpotRef, VendorQuote, Window
from ..extract.money import round2
from .. import medians
from ..medians import upper_median
from ..models import Coin, Metal
from ..timeutil import floor_15, iso_ms, iso_s

SCRAPED_SOURCE = "firecrawl"  # the live contract's value for "price read from the dealer page"
LAST_KNOWN_SOURCE = "turso_last_known"
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Observation:
    vendor: str
    scraped_at: str
    window: str
    price: float | None
    in_stock: bool
    ok: bool  # status ok: in stock with a price
    method: str | None
    source: str | None = None  # set by the vision cross-check; None means page text only
    confidence: float | None = None  # set by the vision cross-check


@dataclass(frozen=True)
class ExportParams:
    lookback: timedelta = timedelta(hours=2)
    fallback: timedelta = timedelta(hours=24)
    outlier_share: float = 0.20
    outlier_min_dealers: int = 3
    carry_windows: int = 8  # 2 h of 15-minute windows
    outlier_confidence: int = 20


def outliers(values: dict[str, float], params: ExportParams) -> set[str]:
    """Dealers whose price is more than the set share away from the other dealers' median.

    With only two others, their median is the mean of two numbers and one wrong price drags
    it; then the reference is the median of all three, which a single wrong price cannot move.
    """
    n = len(values)
    if n < params.outlier_min_dealers:
        return set()
    items = sorted(values.items(), key=lambda kv: kv[1])
    prices = [p for _, p in items]
    everyone = upper_median(prices)
    others_count = n - 1
    flagged = set()
    for i, (vendor, price) in enumerate(items):
        if others_count >= params.outlier_min_dealers:
            reference = medians.median(prices[:i] + prices[i + 1 :])
        else:
            reference = everyone
        if reference is not None and reference > 0 and abs(price - reference) / reference > params.outlier_share:
            flagged.add(vendor)
    return flagged


def score(price: float, window_median: float | None, prev_median: float | None) -> int:
    """Scrape-only confidence (LIVE-SYSTEM §3): 50, +30 within 3 % of the median, -15 beyond
    8 %, -20 when more than 10 % away from yesterday's median; clamped to 0-100."""
    value = 50
    if window_median:
        deviation = abs(price - window_median) / window_median
        if deviation <= 0.03:
            value += 30
        elif deviation > 0.08:
            value -= 15
    if prev_median and abs(price - prev_median) / prev_median > 0.10:
        value -= 20
    return max(0, min(100, value))


@dataclass
class CoinFigures:
    latest: SlugLatest  # api/{slug}/latest.json
    summary: CoinSummary | None  # the coin's entry in api/latest.json (None: no data in 24 h)
    history_7d: list[HistoryDay]
    history_30d: list[HistoryDay]
    latest_window: str | None = None


def history_day(day: str, observations: list[Observation], params: ExportParams) -> HistoryDay | None:
    """One day of history from that day's observations (oldest first): per dealer the average
    and low of in-stock `ok` prices that were not outliers in their 15-minute window."""
    by_window: dict[str, list[Observation]] = defaultdict(list)
    for o in observations:
        by_window[o.window].append(o)
    prices: dict[str, list[float]] = defaultdict(list)
    in_stock: dict[str, bool] = {}
    for window_rows in by_window.values():
        latest: dict[str, float] = {}
        for o in window_rows:  # time order: the last one of a dealer wins
            if o.ok and o.price is not None:
                latest[o.vendor] = o.price
        flagged = outliers(latest, params)
        for o in window_rows:
            if not o.ok or o.price is None:
                in_stock.setdefault(o.vendor, False)
                continue
            if o.price == latest[o.vendor]:
                is_outlier = o.vendor in flagged
            else:  # the other poller saw another price in the same window
                is_outlier = o.vendor in outliers({**latest, o.vendor: o.price}, params)
            if not is_outlier:
                prices[o.vendor].append(o.price)
                in_stock[o.vendor] = True
    if not in_stock:
        return None
    vendors: dict[str, DailyVendor] = {}
    for vendor in sorted(in_stock):
        values = prices.get(vendor, [])
        vendors[vendor] = DailyVendor(
            avg=round2(sum(values) / len(values)) if values else None,
            inStock=in_stock[vendor],
            low=round2(min(values)) if values else None,
            samples=len(values),
        )
    averages = [v.avg for v in vendors.values() if v.avg is not None]
    lows = [v.low for v in vendors.values() if v.low is not None]
    median = upper_median(averages)
    return HistoryDay(
        date=day,
        avg_median=round2(median) if median is not None else None,
        avg_low=round2(min(lows)) if lows else None,
        sample_count=sum(v.samples or 0 for v in vendors.values()),
        vendors=vendors,
    )


def _windows(observations: list[Observation], as_of: datetime, params: ExportParams) -> list[Window]:
    """The last 24 h as 15-minute windows with data; values carried at most 2 h, flagged."""
    last = floor_15(as_of)
    starts = [last - WINDOW * i for i in range(95, -1, -1)]
    keys = [iso_s(w) for w in starts]
    index = {k: i for i, k in enumerate(keys)}
    observed: dict[int, dict[str, Observation]] = defaultdict(dict)
    for o in observations:
        i = index.get(o.window)
        if i is not None:
            observed[i][o.vendor] = o  # time order: the last of the window wins
    carry: dict[str, tuple[float, int]] = {}
    windows = []
    for i, start in enumerate(starts):
        seen = observed.get(i)
        if not seen:
            continue
        values: dict[str, float] = {}
        for vendor, o in seen.items():
            if o.ok and o.price is not None:
                values[vendor] = o.price
            else:
                carry.pop(vendor, None)  # out of stock is never carried over
        carried = []
        for vendor, (price, j) in carry.items():
            if vendor not in seen and i - j <= params.carry_windows:
                values[vendor] = price
                carried.append(vendor)
        flagged = outliers(values, params)
        for vendor in values:
            if vendor in seen:
                if vendor in flagged:
                    carry.pop(vendor, None)
                else:
                    carry[vendor] = (values[vendor], i)
        kept = {v: round2(p) for v, p in sorted(values.items()) if v not in flagged}
        if not kept:
            continue
        median = upper_median(kept.values())
        windows.append(
            Window(
                window=iso_ms(start),
                median=median,
                low=min(kept.values()),
                vendors=kept,
                carried=sorted(v for v in carried if v not in flagged),
                outliers=sorted(flagged),
            )
        )
    return windows


@dataclass(frozen=True)
class SpotQuote:
    metal: str
    price: float  # USD per troy ounce
    as_of: str  # when it was read


# What a Goldback is worth is the official exchange rate (USD per G unit, the Goldback feed's
# g1_usd) times its denomination; its gold content (1/1000 oz per G) is a small part of that, so
# measured against gold a G1 read as $12,490 an ounce and a large "premium".
GOLDBACK_RATE = "goldback"


def reference_metal(coin: Coin) -> str:
    """The quote a coin is measured against: its spot metal, or the Goldback rate."""
    return GOLDBACK_RATE if coin.metal is Metal.goldback else coin.spot_metal.value


def reference_units(coin: Coin) -> float:
    """How many units of that quote the coin holds: fine troy ounces, or G units (its denomination)."""
    return coin.weight_oz if coin.metal is Metal.goldback else coin.fine_oz


def premium(price: float, melt: float | None) -> float | None:
    return round2((price - melt) / melt * 100) if melt else None


def coin_figures(
    slug: str,
    recent: list[Observation],
    history_30d: list[HistoryDay],
    configured: list[str],
    as_of: datetime,
    params: ExportParams,
    last_in_stock: Callable[[str], tuple[float, str] | None],
    coin: Coin | None = None,
    spot: SpotQuote | None = None,
) -> CoinFigures:
    """Everything the API says about one coin: `recent` holds its observations of the last
    26 hours (oldest first), `history_30d` its daily entries, `last_in_stock(vendor)` the last
    in-stock price and time of a dealer (for dealers now out of stock)."""
    as_of_key = iso_ms(as_of)
    fresh_since = iso_ms(as_of - params.lookback)
    fallback_since = iso_ms(as_of - params.fallback)
    latest_fresh: dict[str, Observation] = {}
    latest_day: dict[str, Observation] = {}
    for o in recent:
        if o.scraped_at > as_of_key or o.scraped_at < fallback_since:
            continue
        latest_day[o.vendor] = o
        if o.scraped_at >= fresh_since:
            latest_fresh[o.vendor] = o

    first_7 = (as_of.date() - timedelta(days=6)).isoformat()
    history_7d = [day for day in history_30d if day.date >= first_7]
    yesterday = (as_of.date() - timedelta(days=1)).isoformat()
    prev_median = next((d.avg_median for d in history_30d if d.date == yesterday), None)

    fresh_prices = {v: o.price for v, o in sorted(latest_fresh.items()) if o.ok and o.price is not None}
    flagged = outliers(fresh_prices, params)
    clean = [p for v, p in fresh_prices.items() if v not in flagged]
    median = upper_median(clean)
    lowest = min(clean) if clean else None

    vendors: dict[str, VendorQuote] = {}
    for vendor, price in fresh_prices.items():
        o = latest_fresh[vendor]
        # a vision cross-check decided the confidence already; otherwise the scrape-only score
        confidence = int(o.confidence) if o.confidence is not None else score(price, median, prev_median)
        entry = VendorQuote(
            price=round2(price), confidence=confidence, source=o.source or SCRAPED_SOURCE, inStock=True,
            method=o.method, scraped_at=o.scraped_at,
        )  # fmt: skip
        if vendor in flagged:
            entry.outlier = True
            entry.confidence = min(confidence, params.outlier_confidence)
        vendors[vendor] = entry

    all_vendors = list(dict.fromkeys([*configured, *sorted(latest_day)]))
    stale_prices: dict[str, float] = {}
    for vendor in all_vendors:
        o = latest_day.get(vendor)
        if vendor in vendors or o is None or not o.ok or o.price is None:
            continue  # fresh already, nothing in 24 h, or the newest word is "out of stock"
        entry = VendorQuote(
            price=round2(o.price), confidence=None, source=LAST_KNOWN_SOURCE, inStock=True, stale=True,
            stale_since=o.scraped_at, method=o.method,
        )  # fmt: skip
        reference = median if median is not None else None
        if reference and abs(o.price - reference) / reference > params.outlier_share:
            entry.outlier = True
        vendors[vendor] = entry
        stale_prices[vendor] = o.price

    # What buyers also want: price per ounce of metal (per G unit for a Goldback), melt value
    # (exchange value for a Goldback) and premium over it.
    units = reference_units(coin) if coin is not None else None
    melt = round2(spot.price * units) if spot is not None and units is not None else None
    if units is not None:
        for entry in vendors.values():
            entry.per_oz = round2(entry.price / units)
            entry.premium_pct = premium(entry.price, melt)

    availability: dict[str, bool] = {}
    last_known: dict[str, float] = {}
    last_date: dict[str, str] = {}
    for vendor in all_vendors:
        o = latest_day.get(vendor)
        if o is None:
            continue  # no word about this dealer in 24 h: say nothing rather than "available" (B-7)
        availability[vendor] = o.ok
        if not o.ok:
            found = last_in_stock(vendor)
            if found is not None:
                last_known[vendor] = round2(found[0])
                last_date[vendor] = found[1][:10]

    windows = _windows(recent, as_of, params)
    latest_window = max((o.window for o in latest_fresh.values() if o.ok), default=None)
    window_start = latest_window or (windows[-1].window[:19] + "Z" if windows else None)

    latest = SlugLatest(
        slug=slug,
        window_start=window_start,
        median_price=round2(median) if median is not None else None,
        lowest_price=round2(lowest) if lowest is not None else None,
        vendors=vendors,
        availability_by_site=availability,
        last_known_price_by_site=last_known,
        last_available_date_by_site=last_date,
        windows_24h=windows,
        spot=SpotRef(metal=spot.metal, price=spot.price, as_of=spot.as_of) if spot is not None else None,
        melt_value=melt,
    )

    summary: CoinSummary | None = None
    if clean:
        summary = CoinSummary(window_start=window_start, median_price=latest.median_price, lowest_price=latest.lowest_price, vendor_count=len(clean))
    else:
        stale_clean = [p for v, p in stale_prices.items() if not vendors[v].outlier]
        if stale_clean:
            stale_median = upper_median(stale_clean)
            summary = CoinSummary(
                window_start=window_start,
                median_price=round2(stale_median) if stale_median is not None else None,
                lowest_price=round2(min(stale_clean)),
                vendor_count=len(stale_clean),
                is_stale=True,
            )
    if summary is not None:
        summary.melt_value = melt
        summary.lowest_premium_pct = premium(summary.lowest_price, melt) if summary.lowest_price is not None else None
    return CoinFigures(latest=latest, summary=summary, history_7d=history_7d, history_30d=history_30d, latest_window=latest_window)
