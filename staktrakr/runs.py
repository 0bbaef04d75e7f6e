"""Run bookkeeping: a `poller_runs` row opened when a crawl starts and closed when it ends,
however it ends (finished, shutdown, crash in a callback, fatal configuration error).

Retail rows are counted as the store pipeline reports them (`row_stored`, `row_lost`), not as
items leave the pipelines: the run's totals are the rows really in the database, and a run that
could not store some of its rows says how many, ends as `error` and exits with the storage
fault's code (3 or 4). When even the run row cannot be closed (the disk is still full), the next
run of the job closes it: under the job lock no other run of it can be going on.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import Counter
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider

from .crawl_context import CrawlContext
from .errors import StaktrakrError, StoreError, SyncError
from .models import Status
from .shards import shard_of
from .store.ids import new_id
from .store.runs import close_orphaned_runs, finish_run, start_run
from .timeutil import ago, iso_ms, utcnow

logger = logging.getLogger(__name__)
store_logger = logging.getLogger("staktrakr.store")

# Signals of the store pipeline (pipelines/store.py): a target's row was stored (`snapshot`), or
# the database refused it (`snapshot`, `error`).
row_stored = object()
row_lost = object()

# Set by the `crawl` command while it holds the job lock (staktrakr/commands/crawl.py).
JOB_LOCKED_SETTING = "STAKTRAKR_JOB_LOCKED"


# The storage faults of each running crawl, first one first. Kept off the stats on purpose:
# Scrapy prints the stats at the end, and the fault's line must be the only one naming the file.
_FAULTS: weakref.WeakKeyDictionary[Any, list[BaseException]] = weakref.WeakKeyDictionary()


def report_storage_fault(crawler: Any, exc: BaseException) -> None:
    """Log a storage fault once per kind and crawl (one line naming the file: what failed, what
    to do) and keep it for the run's status and exit code; a hundred rows refused by a full
    disk are one fault, not a hundred lines."""
    faults = _FAULTS.setdefault(crawler, [])
    crawler.stats.inc_value("staktrakr/storage_faults")
    if any(type(seen) is type(exc) for seen in faults):
        return  # said already; the first of each kind is kept
    faults.append(exc)
    if isinstance(exc, StaktrakrError):
        store_logger.error("%s", exc)
    else:  # not a fault we know: the traceback is what a developer needs
        store_logger.error("row not stored: %s: %s", type(exc).__name__, exc, exc_info=exc)


def first_storage_fault(crawler: Any) -> BaseException | None:
    faults = _FAULTS.get(crawler)
    return faults[0] if faults else None


class RunRecorder:
    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self.counts: Counter[Status] = Counter()
        self.by_dealer: dict[str, Counter[Status]] = {}
        self.lost: Counter[str] = Counter()  # rows the database refused, per dealer
        self.run_id: str | None = None
        self.run_open = False
        self.started = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.row_stored, signal=row_stored)
        crawler.signals.connect(ext.row_lost, signal=row_lost)
        # The store pipeline reads the run id from the stats; set it before any item exists.
        ext.run_id = new_id(ext.context.config.POLLER_ID)
        crawler.stats.set_value("staktrakr/run_id", ext.run_id)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self.crawler.stats.set_value("staktrakr/run_id", self.run_id)
        try:
            self._pull()
            self._open_run(spider.name)
        except StoreError as exc:
            # Nothing of this run could be stored: fetching the dealers' pages would be for nothing.
            report_storage_fault(self.crawler, exc)
            raise CloseSpider("storage_failed") from None

    def _open_run(self, job: str) -> None:
        poller, now = self.context.config.POLLER_ID, utcnow()
        stale_after = self.crawler.settings.getfloat("STAKTRAKR_ORPHANED_RUN_HOURS")
        # Under the job lock no other run of this job can be going on here, so every run of it
        # still `running` died (killed, or its row could not be closed: a full disk); without
        # the lock only old ones are taken for dead (B-4).
        locked = self.crawler.settings.getbool(JOB_LOCKED_SETTING)
        before = now if locked else ago(now, hours=stale_after)
        shard = shard_of(self.context.config)
        label = shard.label if shard else None
        orphaned = close_orphaned_runs(self.context.db, poller, job, iso_ms(before), iso_ms(now), shard=label)
        if orphaned:
            logger.warning("closed %d orphaned %s run(s) of poller %s", orphaned, job, poller)
        start_run(self.context.db, self.run_id, poller, job, iso_ms(now), shard=label)
        self.run_open = True

    def item_scraped(self, item: Any, spider: Any) -> None:
        adapter = ItemAdapter(item)
        if "coin_slug" in adapter.field_names():
            return  # retail rows: counted as the store pipeline reports them
        if "status" not in adapter.field_names() or adapter.get("status") is None:
            return
        self._count(Status(adapter["status"]), adapter.get("vendor") or spider.name)

    def row_stored(self, snapshot: Any) -> None:
        self._count(snapshot.status, snapshot.vendor)

    def row_lost(self, snapshot: Any, error: BaseException) -> None:
        self.lost[snapshot.vendor] += 1

    def _count(self, status: Status, dealer: str) -> None:
        self.counts[status] += 1
        self.by_dealer.setdefault(dealer, Counter())[status] += 1

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats
        fatal = stats.get_value("staktrakr/fatal")
        total = sum(self.counts.values())
        captured = sum(n for s, n in self.counts.items() if s.captured)
        lost = sum(self.lost.values())
        fault = first_storage_fault(self.crawler)
        if fault is not None:
            # Rows (or the run itself) could not be stored: never `ok`, whatever was captured.
            status, exit_code = "error", int(getattr(fault, "exit_code", 1))
            what = f"{type(fault).__name__}: {getattr(fault, 'problem', None) or fault}"
            error = f"{lost} row(s) not stored: {what}" if lost else f"storage failed: {what}"
        elif fatal:
            status, exit_code, error = "error", 2, fatal
        elif total == 0:
            status, exit_code, error = ("ok", 0, None) if reason == "finished" else ("error", 1, f"closed: {reason}")
        elif captured == 0:
            status, exit_code, error = "error", 1, "all targets failed"
        else:
            status = "ok" if captured == total and reason == "finished" else "partial"
            exit_code, error = 0, None if reason == "finished" else f"closed: {reason}"
        stats.set_value("staktrakr/exit_code", exit_code)
        stats.set_value("staktrakr/rows_stored", total)
        stats.set_value("staktrakr/rows_lost", lost)
        duration = time.monotonic() - self.started
        try:
            row = self._close_run(status, reason, duration, error)
            self._log_summary(row or {"run_id": self.run_id, "job": spider.name, "status": status, "duration_s": duration})
            if row:
                self.context.pm.hook.staktrakr_run_finished(run=row)
                self._push()
        finally:
            self.context.close()

    def _close_run(self, status: str, reason: str, duration: float, error: str | None) -> dict[str, Any] | None:
        """Finish the run row; None when it was never opened or cannot be written now."""
        if not self.run_open:
            return None
        try:
            return finish_run(
                self.context.db,
                self.run_id,
                finished_at=iso_ms(utcnow()),
                status=status,
                finish_reason=reason,
                counts=self.counts,
                duration_s=duration,
                error=error,
                vision=self._vision_figures(),
            )
        except StoreError as exc:
            report_storage_fault(self.crawler, exc)
            self.crawler.stats.set_value("staktrakr/exit_code", max(1, int(getattr(exc, "exit_code", 1))))
            logger.error("run %s could not be closed in the database; the next run of this job closes it", self.run_id)
            return None

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
        total = sum(self.counts.values())
        captured = sum(n for s, n in self.counts.items() if s.captured)
        lost = sum(self.lost.values())
        log = logger.error if lost else logger.info
        log(
            "run %s (%s): %s in %.1f s — %d targets, %d captured, %d failed; %d row(s) stored%s",
            row.get("run_id"), row.get("job"), row.get("status"), row.get("duration_s") or 0,
            total + lost, captured, total - captured, total, f", {lost} row(s) NOT STORED" if lost else "",
        )  # fmt: skip
        for dealer in sorted(set(self.by_dealer) | set(self.lost)):
            counts = self.by_dealer.get(dealer, Counter())
            parts = ", ".join(f"{s.value} {n}" for s, n in sorted(counts.items(), key=lambda kv: kv[0].value))
            if self.lost.get(dealer):
                parts = f"{parts}, not stored {self.lost[dealer]}" if parts else f"not stored {self.lost[dealer]}"
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
