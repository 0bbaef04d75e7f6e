"""Store every retail outcome in `price_snapshots` (and failures in `provider_failures`)."""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter

from staktrakr.crawl_context import CrawlContext
from staktrakr.models import Status
from staktrakr.store.ids import new_id
from staktrakr.store.snapshots import Snapshot, insert_snapshot
from staktrakr.timeutil import floor_15, iso_s, parse_time

logger = logging.getLogger("staktrakr.targets")


class StorePipeline:
    def __init__(self, context: CrawlContext, stats: Any):
        self.context = context
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(CrawlContext.of(crawler), crawler.stats)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        adapter = ItemAdapter(item)
        if "coin_slug" not in adapter.field_names():
            return item  # other spiders' items are stored by their own pipelines
        poller = self.context.config.POLLER_ID
        scraped_at = adapter["scraped_at"]
        snapshot = Snapshot(
            id=new_id(poller, parse_time(scraped_at)),
            run_id=self.stats.get_value("staktrakr/run_id"),
            poller_id=poller,
            scraped_at=scraped_at,
            window_start=iso_s(floor_15(parse_time(scraped_at))),
            coin_slug=adapter["coin_slug"],
            vendor=adapter["vendor"],
            url=adapter.get("url"),
            price=adapter.get("price"),
            in_stock=adapter.get("in_stock"),
            status=Status(adapter["status"]),
            method=adapter.get("method"),
            reason=adapter.get("reason"),
            confidence=adapter.get("confidence"),
            http_status=adapter.get("http_status"),
            elapsed_ms=adapter.get("elapsed_ms"),
            source=adapter.get("source"),
            scraped_price=adapter.get("scraped_price"),
            vision_price=adapter.get("vision_price"),
            vision_in_stock=adapter.get("vision_in_stock"),
            vision_weight=adapter.get("vision_weight"),
            vision_agrees=adapter.get("vision_agrees"),
        )
        insert_snapshot(self.context.db, snapshot)
        self.stats.inc_value(f"staktrakr/status/{snapshot.status.value}")
        price = f"{snapshot.price:.2f}" if snapshot.price is not None else "-"
        logger.info(
            "%-16s %-26s %-13s %10s %-22s %5d ms  %s",
            snapshot.vendor, snapshot.coin_slug, snapshot.status.value, price, snapshot.method or "-",
            snapshot.elapsed_ms or 0, snapshot.reason or "",
        )  # fmt: skip
        return item
