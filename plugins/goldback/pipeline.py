"""The Goldback feed's store pipeline: a scraped rate becomes a row of `goldback_rates`."""

from __future__ import annotations

import logging
from typing import Any

from staktrakr.crawl_context import CrawlContext
from staktrakr.errors import StoreError
from staktrakr.models import Status
from staktrakr.store.ids import new_id
from staktrakr.timeutil import iso_ms, parse_time

from .files import SOURCE
from .items import GoldbackRateItem
from .store import GoldbackRate, insert_goldback_rate

logger = logging.getLogger(__package__)  # one name for the feed's log lines, whichever module logs


class GoldbackStorePipeline:
    """Stores the scraped rate (the files are the export's: `staktrakr export` publishes them)."""

    def __init__(self, crawler: Any):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> GoldbackStorePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, GoldbackRateItem):
            return item
        if item["status"] != Status.ok.value:
            self.stats.inc_value("staktrakr/status/error")
            logger.warning("goldback G1 error  %s (%s)", item.get("reason"), item.get("url"))
            return item
        when = parse_time(item["scraped_at"])
        poller = self.context.config.POLLER_ID
        rate = GoldbackRate(
            id=new_id(poller, when),
            poller_id=poller,
            date=when.date().isoformat(),
            g1_usd=item["g1_usd"],
            scraped_at=iso_ms(when),
            source=SOURCE,
            url=item.get("url"),
        )
        try:
            insert_goldback_rate(self.context.db, rate)
        except StoreError as exc:
            item["status"], item["reason"] = Status.error.value, f"not stored: {exc}"
            logger.error("goldback G1 not stored: %s", exc)
            return item
        self.stats.inc_value("staktrakr/status/ok")
        logger.info("goldback G1 ok  $%.2f for %s  (%s)", rate.g1_usd, rate.date, item.get("method"))
        return item
