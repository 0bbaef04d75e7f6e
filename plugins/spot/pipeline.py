"""The spot feed's store pipeline: each usable reading becomes a row of `spot_prices`."""

from __future__ import annotations

import logging
from typing import Any

from staktrakr.crawl_context import CrawlContext
from staktrakr.errors import StoreError
from staktrakr.models import Status
from staktrakr.store.ids import new_id
from staktrakr.timeutil import floor_15, iso_ms, iso_s, parse_time, utcnow

from .items import SpotBackfillItem, SpotPriceItem
from .store import SpotReading, insert_spot_readings

logger = logging.getLogger(__package__)  # one name for the feed's log lines, whichever module logs


class SpotStorePipeline:
    """Stores spot readings (the files are the export's: `staktrakr export` publishes them)."""

    def __init__(self, crawler: Any):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> SpotStorePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, (SpotPriceItem, SpotBackfillItem)):
            return item
        metal, poll = item["metal"], isinstance(item, SpotPriceItem)
        if poll and item["status"] != Status.ok.value:
            self.stats.inc_value("staktrakr/status/error")
            logger.warning("spot %-9s error     %s", metal, item.get("reason") or "")
            return item
        when = parse_time(item["timestamp"])
        poller = self.context.config.POLLER_ID
        reading = SpotReading(
            id=new_id(poller, when),
            poller_id=poller,
            metal=metal,
            spot=item["spot"],
            source=item["source"],
            timestamp=iso_ms(when),
            timestamp_floor=iso_s(floor_15(when)),
            scraped_at=iso_ms(utcnow()),
        )
        try:
            insert_spot_readings(self.context.db, [reading])
        except StoreError as exc:
            if poll:
                item["status"], item["reason"] = Status.error.value, f"not stored: {exc}"
            logger.error("spot %-9s not stored: %s", metal, exc)
            return item
        if poll:
            self.stats.inc_value("staktrakr/status/ok")
            logger.info("spot %-9s ok %11.2f USD/oz  (%s, polled %s)", metal, reading.spot, reading.source, iso_s(when))
        else:
            self.stats.inc_value("staktrakr/spot/backfill_stored")
            # up to 96 a day: the spider logs the summary
            logger.debug("spot %-9s filled %7.2f USD/oz  (%s, hour %s)", metal, reading.spot, reading.source, iso_s(when))
        return item
