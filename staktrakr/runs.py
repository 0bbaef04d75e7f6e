"""Run bookkeeping: a `poller_runs` row opened when a crawl starts and closed when it ends,
however it ends (finished, shutdown, crash in a callback, fatal configuration error)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals

from .crawl_context import CrawlContext
from .errors import SyncError
from .models import Status
from .store.ids import new_id
from .store.runs import close_orphaned_runs, finish_run, start_run
from .timeutil import ago, iso_ms, utcnow

logger = logging.getLogger(__name__)


class RunRecorder:
    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self.counts: Counter[Status] = Counter()
        self.by_dealer: dict[str, Counter[Status]] = {}
        self.run_id: str | None = None
        self.started = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        # The store pipeline reads the run id from the stats; set it before any item exists.
        ext.run_id = new_id(ext.context.config.POLLER_ID)
        crawler.stats.set_value("staktrakr/run_id", ext.run_id)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self._pull()
        self.crawler.stats.set_value("staktrakr/run_id", self.run_id)
        poller, now = self.context.config.POLLER_ID, utcnow()
        stale_after = self.crawler.settings.getfloat("STAKTRAKR_ORPHANED_RUN_HOURS")
        orphaned = close_orphaned_runs(self.context.db, poller, spider.name, iso_ms(ago(now, hours=stale_after)), iso_ms(now))
        if orphaned:
            logger.warning("closed %d orphaned %s run(s) of poller %s", orphaned, spider.name, poller)
        start_run(self.context.db, self.run_id, poller, spider.name, iso_ms(now))

    def item_scraped(self, item: Any, spider: Any) -> None:
        adapter = ItemAdapter(item)
        if "status" not in adapter.field_names() or adapter.get("status") is None:
            return
        status = Status(adapter["status"])
        self.counts[status] += 1
        self.by_dealer.setdefault(adapter.get("vendor") or spider.name, Counter())[status] += 1

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats
        fatal = stats.get_value("staktrakr/fatal")
        total = sum(self.counts.values())
        captured = sum(n for s, n in self.counts.items() if s.captured)
        if fatal:
            status, exit_code, error = "error", 2, fatal
        elif total == 0:
            status, exit_code, error = ("ok", 0, None) if reason == "finished" else ("error", 1, f"closed: {reason}")
        elif captured == 0:
            status, exit_code, error = "error", 1, "all targets failed"
        else:
            status = "ok" if captured == total and reason == "finished" else "partial"
            exit_code, error = 0, None if reason == "finished" else f"closed: {reason}"
        stats.set_value("staktrakr/exit_code", exit_code)
        try:
            row = finish_run(
                self.context.db,
                self.run_id,
                finished_at=iso_ms(utcnow()),
                status=status,
                finish_reason=reason,
                counts=self.counts,
                duration_s=time.monotonic() - self.started,
                error=error,
                vision=self._vision_figures(),
            )
            self._log_summary(row)
            self.context.pm.hook.staktrakr_run_finished(run=row)
            self._push()
        finally:
            self.context.close()

    def _pull(self) -> None:
        """Provider edits and the other poller's rows, before this run reads anything."""
        db = self.context.db
        if not db.synced:
            return
        try:
            db.pull()
        except SyncError as exc:
            logger.warning("%s; running on the local copy", exc)
            self.crawler.stats.set_value("staktrakr/pull_failed", True)

    def _push(self) -> None:
        """Send this run's rows. A failure costs nothing: they stay queued for the next push."""
        db = self.context.db
        if not db.synced:
            return
        try:
            db.push()
            logger.info("pushed to the remote database")
        except SyncError as exc:
            backlog = db.backlog()
            logger.warning("%s; %s local change(s) stay queued for the next run", exc, backlog)
            self.crawler.stats.set_value("staktrakr/push_failed", True)

    def _vision_figures(self) -> dict[str, float] | None:
        """The vision cross-check's figures from the stats (pipelines/vision.py), None when it was off."""
        stats = self.crawler.stats
        if not stats.get_value("staktrakr/vision/enabled"):
            return None
        return {name: stats.get_value(f"staktrakr/vision/{name}", 0) for name in ("calls", "tokens", "seconds", "cost_usd")}

    def _log_summary(self, row: dict[str, Any]) -> None:
        logger.info(
            "run %s (%s): %s in %.1f s — %d targets, %d captured, %d failed",
            row.get("run_id"), row.get("job"), row.get("status"), row.get("duration_s") or 0,
            row.get("total", 0), row.get("captured", 0), row.get("failures", 0),
        )  # fmt: skip
        for dealer in sorted(self.by_dealer):
            counts = self.by_dealer[dealer]
            parts = ", ".join(f"{s.value} {n}" for s, n in sorted(counts.items(), key=lambda kv: kv[0].value))
            logger.info("  %-18s %s", dealer, parts)
        if row.get("vision_calls") is not None:
            stats = self.crawler.stats
            logger.info(
                "  vision: %d calls, %d tokens, %.1f s, ~$%.4f; %d answered (%d agreed, %d disagreed, %d vision only), "
                "%d failed, %d skipped (budget)",
                row["vision_calls"], row.get("vision_tokens") or 0, row.get("vision_seconds") or 0,
                row.get("vision_cost_usd") or 0, stats.get_value("staktrakr/vision/answered", 0),
                stats.get_value("staktrakr/vision/agreed", 0), stats.get_value("staktrakr/vision/disagreed", 0),
                stats.get_value("staktrakr/vision/vision_only", 0), stats.get_value("staktrakr/vision/failed", 0),
                stats.get_value("staktrakr/vision/skipped_budget", 0),
            )  # fmt: skip
