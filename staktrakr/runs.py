"""Run bookkeeping: a `poller_runs` row opened when a crawl starts and closed when it ends,
however it ends (finished, shutdown, crash in a callback, fatal configuration error), and the
run's summary in the log. Turso sync is another extension (staktrakr/sync.py); the database's
lifetime is the crawl context's. Plugins add their own figures to the row (hook
`staktrakr_run_figures`) and their own summary lines (hook `staktrakr_run_finished`).

Retail rows are counted as the store pipeline reports them (`row_stored`, `row_lost`), not as
items leave the pipelines: the run's totals are the rows really in the database, and a run that
could not store some of its rows says how many, ends as `error` and exits with the storage
fault's code (3 or 4). When even the run row cannot be closed (the disk is still full), the next
run of the job closes it: under the job lock no other run of it can be going on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider

from .crawl_context import CrawlContext, one_per_crawler
from .errors import StaktrakrError, StoreError
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

# Set by the `crawl` command while it holds the job lock (staktrakr/scrapy_commands/crawl.py).
JOB_LOCKED_SETTING = "STAKTRAKR_JOB_LOCKED"


class StorageFaults(list[BaseException]):
    """The storage faults of one crawl, first one first (one_per_crawler). Kept off the stats on
    purpose: Scrapy prints the stats at the end, and the fault's line must be the only one naming the file."""

    def __init__(self, crawler: Any):
        super().__init__()


def report_storage_fault(crawler: Any, exc: BaseException) -> None:
    """Log a storage fault once per kind and crawl (one line naming the file: what failed, what
    to do) and keep it for the run's status and exit code; a hundred rows refused by a full
    disk are one fault, not a hundred lines."""
    faults = one_per_crawler(crawler, StorageFaults)
    crawler.stats.inc_value("staktrakr/storage_faults")
    if any(type(seen) is type(exc) for seen in faults):
        return  # said already; the first of each kind is kept
    faults.append(exc)
    if isinstance(exc, StaktrakrError):
        store_logger.error("%s", exc)
    else:  # not a fault we know: the traceback is what a developer needs
        store_logger.error("row not stored: %s: %s", type(exc).__name__, exc, exc_info=exc)


def first_storage_fault(crawler: Any) -> BaseException | None:
    faults = one_per_crawler(crawler, StorageFaults)
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
        row = self._close_run(status, reason, duration, error)
        self._log_summary(row or {"run_id": self.run_id, "job": spider.name, "status": status, "duration_s": duration})
        if row:
            self.context.pm.hook.staktrakr_run_finished(run=row, stats=stats.get_stats())

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
                extra_columns=self._plugin_figures(),
            )
        except StoreError as exc:
            report_storage_fault(self.crawler, exc)
            self.crawler.stats.set_value("staktrakr/exit_code", max(1, int(getattr(exc, "exit_code", 1))))
            logger.error("run %s could not be closed in the database; the next run of this job closes it", self.run_id)
            return None

    def _plugin_figures(self) -> dict[str, Any]:
        """Plugins' own columns of the run row (hook staktrakr_run_figures), from the stats."""
        columns: dict[str, Any] = {}
        for figures in self.context.pm.hook.staktrakr_run_figures(stats=self.crawler.stats.get_stats()):
            columns.update(figures or {})
        return columns

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
