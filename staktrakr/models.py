"""Data that crosses module boundaries: coins, dealer listings, crawl targets, outcomes, items."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import scrapy
from pydantic import BaseModel, ConfigDict, Field


class Metal(StrEnum):
    silver = "silver"
    gold = "gold"
    platinum = "platinum"
    palladium = "palladium"
    goldback = "goldback"


class Status(StrEnum):
    """Outcome of one target in one run (stored in price_snapshots.status)."""

    ok = "ok"  # a price was read (in stock)
    out_of_stock = "out_of_stock"  # the page says it cannot be bought now; price may still be shown
    wrong_product = "wrong_product"  # the page shows another weight/denomination than the target
    blocked = "blocked"  # bot wall, captcha, HTTP 403/429: says nothing about stock
    no_price = "no_price"  # page read but no trustworthy price on it
    error = "error"  # download failed, or the price failed validation

    @property
    def captured(self) -> bool:
        """Whether the outcome is real information about the product (not a failure)."""
        return self in (Status.ok, Status.out_of_stock)


FAILURE_STATUSES = (Status.blocked, Status.no_price, Status.error)


class Coin(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    metal: Metal
    # Troy ounces for bullion; for Goldbacks the denomination in G units (as the live config).
    weight_oz: float = Field(gt=0)
    enabled: bool = True
    fbp_url: str | None = None
    notes: str | None = None

    @property
    def fine_oz(self) -> float:
        """Troy ounces of pure metal: a Goldback G1 holds 1/1000 oz of gold."""
        return self.weight_oz / 1000 if self.metal is Metal.goldback else self.weight_oz

    @property
    def spot_metal(self) -> Metal:
        return Metal.gold if self.metal is Metal.goldback else self.metal


class Listing(BaseModel):
    """One dealer's page(s) for one coin."""

    model_config = ConfigDict(frozen=True)

    coin_slug: str
    vendor: str
    urls: tuple[str, ...] = ()
    enabled: bool = True
    vendor_name: str | None = None
    selector: str | None = None
    hints: str | None = None

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.urls)


class Target(BaseModel):
    """What one crawl attempt is about: a coin at a dealer, with URLs tried in order."""

    model_config = ConfigDict(frozen=True)

    coin: Coin
    vendor: str
    urls: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.coin.slug}/{self.vendor}"


class DealerProfile(BaseModel):
    """What the crawler must know about a dealer; each dealer plugin returns one."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    homepage: str | None = None  # the dealer's home page; also its link in `_vendor_meta`
    # Brand colour (CSS hex, `#rrggbb`) the web app draws the dealer's chips with (`_vendor_meta`).
    color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    # True: always through headless Chromium; False: never; None: learned by the crawl (a page
    # that renders its price with JavaScript sends the dealer to the browser, remembered).
    browser: bool | None = None
    # Longest wait for a browser page's price to settle (STAKTRAKR_BROWSER_MAX_WAIT_MS when unset).
    browser_max_wait_ms: int | None = None
    preorder_purchasable: bool = False  # "pre-order" means "you can buy it now"
    max_concurrency: int | None = None  # override of STAKTRAKR_DEALER_CONCURRENCY
    # Phrases after which the page holds other products (carousels, add-ons): cut there.
    tail_markers: tuple[str, ...] = ()
    # CSS selectors of the product area, tried in order before the generic guesses.
    product_selectors: tuple[str, ...] = ()
    # Words that name the cheapest payment column on this dealer's tables.
    cheap_payment_words: tuple[str, ...] = ()


class ExtractionResult(BaseModel):
    """What the extraction chain decided for one page, and why."""

    price: float | None = None
    in_stock: bool | None = None
    status: Status = Status.no_price
    method: str | None = None
    reason: str | None = None
    steps: list[str] = Field(default_factory=list)
    client_rendered: bool = False  # the page looks like it builds its price with JavaScript
    # Out of stock only because the buy button is disabled (stores enable it once a stock check
    # answered): the rendered page may say otherwise.
    buy_button_disabled: bool = False

    def as_public(self) -> dict[str, Any]:
        return {
            "price": self.price,
            "in_stock": self.in_stock,
            "status": self.status.value,
            "method": self.method,
            "reason": self.reason,
        }


class Observation(BaseModel):
    """What one target's visit found: the fields of a retail item, declared once. The store
    adds the row's identity (store/snapshots.Snapshot) and the SQL columns follow from both."""

    coin_slug: str
    vendor: str
    url: str | None = None
    price: float | None = None
    in_stock: bool | None = None
    status: Status
    method: str | None = None
    reason: str | None = None
    scraped_at: str
    confidence: float | None = None
    http_status: int | None = None
    elapsed_ms: int | None = None
    # How the price was decided: "firecrawl" (page text; the live contract's name) unless a
    # plugin that cross-checks the page decided otherwise (e.g. "firecrawl+vision", "vision").
    source: str | None = None


def _retail_item_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {name: scrapy.Field() for name in Observation.model_fields}
    fields["target"] = scrapy.Field()  # the Target the visit was about
    # Per-observation data of plugins, kept out of the core model: `plugin_columns` are stored
    # in price_snapshots columns that the plugin's own migration added; `plugin_data` is for
    # the plugin's components in this crawl (e.g. a screenshot's path) and never stored.
    fields["plugin_columns"] = scrapy.Field()
    fields["plugin_data"] = scrapy.Field()
    return fields


# A Scrapy item (pipelines and signals handle it like any other) whose fields are Observation's.
RetailPriceItem = type(
    "RetailPriceItem",
    (scrapy.Item,),
    {"__doc__": "One stored observation in the making: a target's outcome in one run.", "__module__": __name__, **_retail_item_fields()},
)


def plugin_columns(item: Any) -> dict[str, Any]:
    """The item's plugin columns, created empty on first use."""
    return item.setdefault("plugin_columns", {})


def plugin_data(item: Any) -> dict[str, Any]:
    """The item's plugin data (never stored), created empty on first use."""
    return item.setdefault("plugin_data", {})
