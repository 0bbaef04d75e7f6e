"""Validation: a price outside plausible bounds is stored as `error`/`out_of_bounds`, never `ok`.

Bounds come from the `staktrakr_price_bounds` hook (the spot plugin scales them from the latest
spot price) or, without a recent spot price, from the static per-ounce table.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter

from staktrakr.bounds import static_bounds
from staktrakr.crawl_context import CrawlContext
from staktrakr.models import Coin, Status
from staktrakr.timeutil import iso_s, utcnow

logger = logging.getLogger(__name__)


class ValidatePipeline:
    def __init__(self, context: CrawlContext):
        self.context = context
        self.static_overrides = {
            metal: tuple(pair) for metal, pair in context.settings.getdict("STAKTRAKR_STATIC_BOUNDS").items()
        }
        self._coins: dict[str, Coin] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidatePipeline:
        return cls(CrawlContext.of(crawler))

    def coin(self, slug: str) -> Coin | None:
        if self._coins is None:
            self._coins = dict(self.context.providers.coins)  # resolved once per crawl (CrawlContext)
        return self._coins.get(slug)

    def bounds(self, coin: Coin) -> tuple[float, float, str]:
        dynamic = self.context.pm.hook.staktrakr_price_bounds(
            coin=coin, db=self.context.db, now=iso_s(utcnow()), settings=self.context.settings
        )
        if dynamic:
            return dynamic
        low, high = static_bounds(coin, self.static_overrides)
        return low, high, "static per-oz bounds"

    def process_item(self, item: Any, spider: Any = None) -> Any:
        adapter = ItemAdapter(item)
        if "coin_slug" not in adapter.field_names() or adapter.get("price") is None:
            return item
        coin = self.coin(adapter["coin_slug"])
        if coin is None:
            return item
        price = float(adapter["price"])
        low, high, basis = self.bounds(coin)
        if not low <= price <= high:
            adapter["status"] = Status.error.value
            adapter["reason"] = f"out_of_bounds: {price:g} outside {low:.2f}-{high:.2f} ({basis})"
            return item
        for problem in self.context.pm.hook.staktrakr_validate_item(item=dict(adapter), coin=coin):
            if problem:
                adapter["status"] = Status.error.value
                adapter["reason"] = f"rejected: {problem}"
                break
        return item
