"""Store every retail outcome in `price_snapshots` (and failures in `provider_failures`).

One row per attempt, always: an item that an earlier pipeline (validation, vision) or a plugin
hook choked on, and a target whose spider callback raised, are stored here as `error` with a
reason naming what raised (Scrapy would otherwise log a traceback and drop them). A row the
database refused (full disk, read-only file system, damaged file) is counted as lost: the run
recorder hears about every stored and every lost row (`row_stored` / `row_lost`), so the run's
totals are what is really in the database and a run that lost rows exits non-zero.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem

from staktrakr.crawl_context import CrawlContext
from staktrakr.failures import what_failed
from staktrakr.models import Status, Target
from staktrakr.runs import report_storage_fault, row_lost, row_stored
from staktrakr.store.ids import new_id
from staktrakr.store.snapshots import Snapshot, insert_snapshot
from staktrakr.timeutil import floor_15, iso_ms, iso_s, parse_time, utcnow

logger = logging.getLogger("staktrakr.targets")


class RowNotStored(DropItem):
    """The database refused the row; the fault is logged once, the row counted as lost."""

    def __init__(self, message: str):
        # Scrapy's own "Dropped:" line would print the whole item: ours is enough.
        super().__init__(message, log_level="DEBUG")


class StorePipeline:
    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.stored_targets: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.item_failed, signal=signals.item_error)
        crawler.signals.connect(pipeline.callback_failed, signal=signals.spider_error)
        return pipeline

    def process_item(self, item: Any, spider: Any = None) -> Any:
        adapter = ItemAdapter(item)
        if "coin_slug" not in adapter.field_names():
            return item  # other spiders' items are stored by their own pipelines
        try:
            snapshot = self.snapshot(item)
        except Exception as exc:  # a malformed item is still an attempt: it gets its row
            snapshot = self.error_snapshot(adapter, f"not stored as read: {what_failed(exc)}")
        if not self.store(snapshot):
            raise RowNotStored(f"{snapshot.vendor} {snapshot.coin_slug}: not stored")
        return item

    # -- attempts that failed before reaching this pipeline ---------------------------------

    def item_failed(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        """An earlier pipeline (or a hook it called) raised: the attempt is stored as `error`."""
        adapter = ItemAdapter(item)
        if "coin_slug" not in adapter.field_names():
            return
        self.store(self.error_snapshot(adapter, what_failed(failure.value)))

    def callback_failed(self, failure: Any, response: Any, spider: Any) -> None:
        """A spider callback raised (an extraction hook, a bug) before the target's item existed."""
        request = getattr(response, "request", None)
        target = request.meta.get("target") if request is not None else None
        if not isinstance(target, Target) or (target.coin.slug, target.vendor) in self.stored_targets:
            return
        started = request.meta.get("started")
        values = {
            "coin_slug": target.coin.slug,
            "vendor": target.vendor,
            "url": request.url,
            "http_status": getattr(response, "status", None),
            "elapsed_ms": int((time.monotonic() - started) * 1000) if started else None,
        }
        self.store(self.error_snapshot(values, what_failed(failure.value)))

    # -- rows -------------------------------------------------------------------------------

    def snapshot(self, item: Any) -> Snapshot:
        """The item's row: its Observation fields, plugins' columns, and the row's identity."""
        return Snapshot.from_item(item, self._identity(item["scraped_at"]))

    def error_snapshot(self, values: Any, reason: str) -> Snapshot:
        """The row of an attempt that failed inside our own code: no price is trusted from it."""
        get = values.get
        try:
            scraped_at = iso_ms(parse_time(get("scraped_at"))) if get("scraped_at") else iso_ms(utcnow())
        except (TypeError, ValueError):
            scraped_at = iso_ms(utcnow())
        return Snapshot(
            **self._identity(scraped_at),
            coin_slug=str(get("coin_slug")),
            vendor=str(get("vendor")),
            url=get("url"),
            status=Status.error,
            method=get("method"),
            reason=reason,
            http_status=get("http_status"),
            elapsed_ms=get("elapsed_ms"),
        )

    def _identity(self, scraped_at: str) -> dict[str, Any]:
        poller = self.context.config.POLLER_ID
        when = parse_time(scraped_at)
        return {
            "id": new_id(poller, when),
            "run_id": self.stats.get_value("staktrakr/run_id"),
            "poller_id": poller,
            "scraped_at": scraped_at,
            "window_start": iso_s(floor_15(when)),
        }

    def store(self, snapshot: Snapshot) -> bool:
        """Insert the row; False (and counted as lost) when the database refused it."""
        try:
            insert_snapshot(self.context.db, snapshot)
        except Exception as exc:  # noqa: BLE001 - whatever it was, the row is not in the database
            report_storage_fault(self.crawler, exc)
            logger.warning(
                "%-16s %-26s %-13s NOT STORED (%s)", snapshot.vendor, snapshot.coin_slug, snapshot.status.value, type(exc).__name__
            )
            self.crawler.signals.send_catch_log(signal=row_lost, snapshot=snapshot, error=exc)
            return False
        self.stored_targets.add((snapshot.coin_slug, snapshot.vendor))
        self.stats.inc_value(f"staktrakr/status/{snapshot.status.value}")
        self.crawler.signals.send_catch_log(signal=row_stored, snapshot=snapshot)
        price = f"{snapshot.price:.2f}" if snapshot.price is not None else "-"
        logger.info(
            "%-16s %-26s %-13s %10s %-22s %5d ms  %s",
            snapshot.vendor, snapshot.coin_slug, snapshot.status.value, price, snapshot.method or "-",
            snapshot.elapsed_ms or 0, snapshot.reason or "",
        )  # fmt: skip
        return True
