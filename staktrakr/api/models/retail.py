"""The retail files of the API: manifest, latest index, providers, a coin's latest and history.

Fields marked "ours" are additions of this project to the live contract (the live system's
files lack them, so a reader must not require them); everything else is the live contract.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel, model_validator

from .base import ApiModel, Number


class CoinMeta(ApiModel):
    name: str
    metal: str
    weight: Number


class Manifest(ApiModel):
    """`api/manifest.json`: what the API holds and when it was generated."""

    generated_at: str
    latest_window: str | None
    window_count: int
    coin_count: int
    coins: list[str]
    coins_meta: dict[str, CoinMeta]
    endpoints: dict[str, str]
    schema_version: int | None = Field(None, description="ours: the version of this layout")


class CoinSummary(ApiModel):
    """One coin in `api/latest.json`."""

    window_start: str | None
    median_price: Number | None
    lowest_price: Number | None
    vendor_count: int
    is_stale: bool | None = Field(None, description="only dealers' last-known prices of the last 24 h")
    melt_value: Number | None = Field(None, description="ours: spot price times fine ounces")
    lowest_premium_pct: Number | None = Field(None, description="ours")


class LatestIndex(ApiModel):
    """`api/latest.json`: the summary of every coin with data in the last 24 h."""

    window_start: str | None
    generated_at: str
    coin_count: int
    coins: dict[str, CoinSummary]


# The one key of `api/providers.json` that is not a coin: how the web app names each dealer.
VENDOR_META_KEY = "_vendor_meta"


class VendorMeta(ApiModel):
    """A dealer as the web app shows it (`_vendor_meta` in `api/providers.json`)."""

    name: str
    color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$", description="CSS colour of the dealer's chips")
    url: str | None = Field(None, description="the dealer's home page")


class Providers(RootModel[dict[str, dict[str, str] | dict[str, VendorMeta]]]):
    """`api/providers.json`: coin slug -> dealer -> the canonical product URL, and under
    `_vendor_meta` (the only key starting with `_`) dealer -> its display name, colour, home page."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        # The published schema says which key holds what (the union alone would accept dealer
        # names under a coin): coins map dealer -> URL, `_vendor_meta` dealer -> VendorMeta.
        schema = handler.resolve_ref_schema(handler(core_schema))
        coins, meta = schema.pop("additionalProperties")["anyOf"]
        schema["properties"] = {VENDOR_META_KEY: meta}
        schema["patternProperties"] = {"^[^_]": coins}
        schema["additionalProperties"] = False
        return schema

    @model_validator(mode="after")
    def _meta_only_under_its_key(self) -> Providers:
        for key, value in self.root.items():
            if key == VENDOR_META_KEY:
                if any(not isinstance(v, VendorMeta) for v in value.values()):
                    raise ValueError(f"{VENDOR_META_KEY}: every dealer must be an object with a name")
            elif key.startswith("_"):
                raise ValueError(f"{key!r}: the only key starting with '_' is {VENDOR_META_KEY!r}")
            elif any(not isinstance(v, str) for v in value.values()):
                raise ValueError(f"coin {key!r}: every dealer must map to a URL string")
        return self


class VendorQuote(ApiModel):
    """A dealer's price in `api/{slug}/latest.json` `vendors` (fresh, or stale and last known)."""

    price: Number
    confidence: int | None
    source: str
    inStock: bool  # noqa: N815 - the published key
    stale: bool | None = None
    stale_since: str | None = None
    method: str | None = Field(None, description="ours: how the price was read")
    scraped_at: str | None = Field(None, description="ours")
    outlier: bool | None = None
    per_oz: Number | None = Field(None, description="ours: price per fine troy ounce; for a Goldback per G unit (compare g1_usd)")
    premium_pct: Number | None = Field(None, description="ours: premium over melt value (a Goldback's exchange value), percent")


class Window(ApiModel):
    """One 15-minute window of the last 24 h."""

    window: str
    median: Number
    low: Number
    vendors: dict[str, Number]
    carried: list[str] | None = Field(None, description="ours: dealers whose price was carried over")
    outliers: list[str] | None = Field(None, description="ours: dealers left out as outliers")


class SpotRef(ApiModel):
    """ours: the spot price the melt value was computed from."""

    metal: str
    price: Number
    as_of: str


class SlugLatest(ApiModel):
    """`api/{slug}/latest.json`: everything about one coin now."""

    slug: str
    window_start: str | None
    median_price: Number | None
    lowest_price: Number | None
    vendors: dict[str, VendorQuote]
    availability_by_site: dict[str, bool]
    last_known_price_by_site: dict[str, Number]
    last_available_date_by_site: dict[str, str]
    windows_24h: list[Window]
    spot: SpotRef | None = Field(None, description="ours")
    melt_value: Number | None = Field(None, description="ours")


class DailyVendor(ApiModel):
    avg: Number | None
    inStock: bool  # noqa: N815 - the published key
    low: Number | None = Field(None, description="ours")
    samples: int | None = Field(None, description="ours")


class HistoryDay(ApiModel):
    """One day of `api/{slug}/history-7d.json` / `history-30d.json`."""

    date: str
    avg_median: Number | None
    avg_low: Number | None
    sample_count: int
    vendors: dict[str, DailyVendor]


class History(RootModel[list[HistoryDay]]):
    """`api/{slug}/history-7d.json` and `history-30d.json`: one entry per day with data, oldest first."""
