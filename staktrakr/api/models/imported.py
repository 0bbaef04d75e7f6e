"""Checked views of the published files, for importing them back (`staktrakr backfill`).

Each view keeps only what an import needs and checks it hard: a file from the outside may be
truncated, hand-edited or wrong, and nothing implausible may reach the database. Values must be
plausible numbers and times (pass `context={"now": datetime}` to validate; default: now).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictBool, StringConstraints, TypeAdapter, ValidationInfo

from ...timeutil import iso_s, parse_time, utcnow

# Plausibility limits. They catch corrupt or nonsensical values, not wrong products: the
# widest range the live scraper accepted for any coin was 5-200,000 USD (§2.8), its spot feed
# rejected prices outside 5-50,000 (§5) and its Goldback scraper only read 0.50-20.00 per G1 (§6).
MAX_COIN_PRICE_USD = 200_000.0
SPOT_RANGE_USD = (5.0, 50_000.0)
GOLDBACK_G1_RANGE_USD = (0.5, 100.0)
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)

SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"
VENDOR = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def _time_from_text(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be a date-time string")
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError(f"not a date-time: {value[:40]!r}") from None


def _plausible_time(value: datetime, info: ValidationInfo) -> datetime:
    now = (info.context or {}).get("now") or utcnow()
    if value < EARLIEST_TIME or value > now + FUTURE_SLACK:
        raise ValueError(f"{iso_s(value)} is outside {iso_s(EARLIEST_TIME)} .. now")
    return value


def _date_from_text(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("must be a YYYY-MM-DD string")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date: {value!r}") from None


def _plausible_date(value: date, info: ValidationInfo) -> date:
    _plausible_time(datetime(value.year, value.month, value.day, tzinfo=UTC), info)
    return value


Time = Annotated[datetime, BeforeValidator(_time_from_text), AfterValidator(_plausible_time)]
Day = Annotated[date, BeforeValidator(_date_from_text), AfterValidator(_plausible_date)]
Slug = Annotated[str, StringConstraints(strict=True, pattern=SLUG)]
VendorId = Annotated[str, StringConstraints(strict=True, pattern=VENDOR)]
# strict: a price written as a string ("92.30") or a boolean is a broken file, not a number.
CoinPrice = Annotated[float, Field(strict=True, gt=0, le=MAX_COIN_PRICE_USD, allow_inf_nan=False)]
SpotPrice = Annotated[float, Field(strict=True, ge=SPOT_RANGE_USD[0], le=SPOT_RANGE_USD[1], allow_inf_nan=False)]
G1Price = Annotated[
    float, Field(strict=True, ge=GOLDBACK_G1_RANGE_USD[0], le=GOLDBACK_G1_RANGE_USD[1], allow_inf_nan=False)
]
SpotMetal = Annotated[
    Literal["gold", "silver", "platinum", "palladium"],
    BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v),
]


class ManifestSlugs(BaseModel):
    """`api/manifest.json`: only the slug list matters here."""

    coins: list[Slug]


class WindowPrices(BaseModel):
    """One entry of `windows_24h`: the dealers' prices at one window (median/low are derived)."""

    window: Time
    vendors: dict[VendorId, CoinPrice]


class SlugWindows(BaseModel):
    """`api/{slug}/latest.json`: the windows are the only history it holds."""

    windows_24h: list[WindowPrices]


class DailyAverage(BaseModel):
    avg: CoinPrice | None
    inStock: StrictBool  # noqa: N815 - the published key


class DailyAverages(BaseModel):
    """One day of `api/{slug}/history-30d.json`."""

    date: Day
    vendors: dict[VendorId, DailyAverage]


class SpotReadingEntry(BaseModel):
    """One entry of an hourly or 15-minute spot file; the time stamp is UTC without a zone."""

    spot: SpotPrice
    metal: SpotMetal
    timestamp: Time


class GoldbackRateEntry(BaseModel):
    """One entry of `goldback-YYYY.json`."""

    date: Day
    g1_usd: G1Price
    scraped_at: Time


MANIFEST_SLUGS = TypeAdapter(ManifestSlugs)
SLUG_WINDOWS = TypeAdapter(SlugWindows)
DAILY_HISTORY = TypeAdapter(list[DailyAverages])
SPOT_READINGS = TypeAdapter(list[SpotReadingEntry])
GOLDBACK_RATES = TypeAdapter(list[GoldbackRateEntry])
