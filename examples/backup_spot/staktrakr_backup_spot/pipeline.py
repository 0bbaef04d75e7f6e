"""The backup spot item and the pipeline that stores it in the plugin's own table."""

from __future__ import annotations

import logging
from typing import Any

import scrapy

from staktrakr.crawl_context import CrawlContext
from staktrakr.errors import StoreError
from staktrakr.models import Status
from staktrakr.store.ids import new_id
from staktrakr.timeutil import iso_ms, parse_time, utcnow

from .store import BackupReading, insert_readings

logger = logging.getLogger(__package__)


class BackupSpotItem(scrapy.Item):
    metal = scrapy.Field()
    spot = scrapy.Field()
    status = scrapy.Field()  # counted by staktrakr's run recorder
    reason = scrapy.Field()
    source = scrapy.Field()
    timestamp = scrapy.Field()


class BackupStorePipeline:
    def __init__(self, crawler: Any):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackupStorePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, BackupSpotItem):
            return item
        metal = item["metal"]
        if item["status"] != Status.ok.value:
            self.stats.inc_value("staktrakr/status/error")
            logger.warning("backup_spot %-9s error  %s", metal, item["reason"])
            return item
        poller = self.context.config.POLLER_ID
        when = parse_time(item["timestamp"])
        reading = BackupReading(
            id=new_id(poller, when), poller_id=poller, metal=metal, spot=item["spot"],
            source=item["source"], timestamp=iso_ms(when), scraped_at=iso_ms(utcnow()),
        )  # fmt: skip
        try:
            insert_readings(self.context.db, [reading])
        except StoreError as exc:
            item["status"], item["reason"] = Status.error.value, f"not stored: {exc}"
            logger.error("backup_spot %-9s not stored: %s", metal, exc)
            return item
        self.stats.inc_value("staktrakr/status/ok")
        logger.info("backup_spot %-9s ok %11.2f USD/oz  (%s, %s)", metal, reading.spot, reading.source, reading.timestamp)
        return item
