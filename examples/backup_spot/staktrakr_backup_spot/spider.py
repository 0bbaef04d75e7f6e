"""The `backup_spot` spider: for each metal whose newest spot price is stale (MetalPriceAPI failed,
or its free plan's 100 requests a month ran out), one request to the backup source.

    scrapy crawl backup_spot        run it after `scrapy crawl spot` (same schedule)

Freshness is asked through staktrakr's hook `staktrakr_spot_price`, so the plugin never imports
the spot plugin: whichever spot source has a recent price answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import scrapy
from pydantic import BaseModel, ConfigDict, ValidationError
from scrapy.http import Response
from twisted.python.failure import Failure

from staktrakr.config import config_from_settings
from staktrakr.errors import ConfigError
from staktrakr.feeds import FeedSpider, add_component
from staktrakr.models import Status
from staktrakr.timeutil import iso_ms, utcnow

from .pipeline import BackupSpotItem, BackupStorePipeline
from .settings import METALS, SYMBOLS, BackupSpotSettings

SOURCE = "gold-api.com"


class PriceAnswer(BaseModel):
    """`GET /price/XAU`: {"name": "Gold", "price": 2345.6, "symbol": "XAU", "updatedAt": "..."}."""

    model_config = ConfigDict(extra="allow")

    symbol: str
    price: float
    updatedAt: datetime  # noqa: N815 - the API's field name


class BackupSpotSpider(FeedSpider):
    name = "backup_spot"
    custom_settings = {"DOWNLOAD_HANDLERS": {}, "COOKIES_ENABLED": False}  # JSON only: no browser

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        add_component(settings, "ITEM_PIPELINES", BackupStorePipeline, 800)

    def stale_metals(self, now: datetime) -> list[str]:
        max_age = timedelta(minutes=self.settings.getfloat("BACKUP_SPOT_PRIMARY_MAX_AGE_MIN", 75))
        since, until = iso_ms(now - max_age), iso_ms(now)
        hook = self.context.pm.hook.staktrakr_spot_price
        return [m for m in METALS if hook(db=self.context.db, metal=m, since=since, until=until) is None]

    async def start(self) -> AsyncIterator[Any]:
        try:
            base = config_from_settings(self.settings, BackupSpotSettings).BACKUP_SPOT_URL
        except ConfigError as exc:
            self.fatal(str(exc))
            return
        stale = self.stale_metals(utcnow())
        self.crawler.stats.set_value("staktrakr/targets", len(stale))
        if not stale:
            self.logger.info("backup_spot: every metal has a fresh spot price; the backup source is not asked")
            return
        self.logger.info("backup_spot: no fresh spot price for %s; asking %s", ", ".join(stale), SOURCE)
        for metal in stale:
            yield scrapy.Request(
                f"{base}/price/{SYMBOLS[metal]}",
                callback=self.parse_price,
                errback=self.download_failed,
                meta={"metal": metal, "dont_redirect": True, "download_slot": "backup_spot"},
                dont_filter=True,
            )

    def parse_price(self, response: Response) -> Iterator[BackupSpotItem]:
        metal = response.meta["metal"]
        if response.status != 200:
            yield self.item(metal, reason=f"HTTP {response.status}")
            return
        try:
            answer = PriceAnswer.model_validate_json(response.body)
        except ValidationError as exc:
            yield self.item(metal, reason=f"unexpected answer shape ({exc.error_count()} problem(s))")
            return
        low, high = self.settings.getdict("BACKUP_SPOT_SANE_BOUNDS").get(metal, (0, float("inf")))
        if answer.symbol != SYMBOLS[metal] or not low <= answer.price <= high:
            yield self.item(metal, reason=f"{answer.symbol} {answer.price:,.2f} USD/oz is not a plausible {metal} price")
            return
        yield self.item(metal, price=round(answer.price, 2), when=answer.updatedAt)

    def download_failed(self, failure: Failure) -> Iterator[BackupSpotItem]:
        name, text = self.failure_text(failure)
        yield self.item(failure.request.meta["metal"], reason=f"{name}: {text}"[:300])

    def item(self, metal: str, *, price: float | None = None, when: datetime | None = None, reason: str | None = None) -> BackupSpotItem:
        return BackupSpotItem(
            metal=metal,
            spot=price,
            status=(Status.ok if price is not None else Status.error).value,
            reason=reason,
            source=SOURCE,
            timestamp=iso_ms(when or utcnow()),
        )
