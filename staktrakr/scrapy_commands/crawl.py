"""`scrapy crawl` whose exit status says whether the run captured anything.

Scrapy's own command exits 0 even when every target failed; cron and the operator need
non-zero then. The RunRecorder extension puts the status in the crawler's stats.
"""

from __future__ import annotations

import argparse

import logging
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from staktrakr.config import Config, config_from_settings, sections
from staktrakr.errors import ConfigError, StoreError
from staktrakr.locking import LockBusy, job_lock
from staktrakr.plugin_manager import get_plugin_manager
from staktrakr.runs import JOB_LOCKED_SETTING
from staktrakr.shards import shard_of
from staktrakr.store import open_database
from staktrakr.store.faults import os_fault

logger = logging.getLogger("staktrakr.crawl")


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) < 1:
            raise UsageError()
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        assert self.crawler_process is not None
        try:
            config = config_from_settings(self.settings)
            # The plugins' sections too (hook staktrakr_config_fields): a bad variable of a
            # feed plugin is the same one line as the core's, not a component's traceback.
            get_plugin_manager(config)
            for model in sections().values():
                config_from_settings(self.settings, model)
        except ConfigError as exc:  # before any component is built: one message, no traceback
            logger.error("%s", exc)
            self.exitcode = exc.exit_code
            return
        try:
            _check_database(config)
        except StoreError as exc:  # before Scrapy starts: one line naming the file, no traceback
            logger.error("%s", exc)
            self.exitcode = exc.exit_code
            return
        # One run of a job per poller (and dealer shard) and machine; a retry pass shares the lock
        # of its spider so it never doubles the load on a dealer while the main run is still going.
        lock_dir = Path(self.settings.get("STAKTRAKR_LOCK_DIR") or Path(config.STAKTRAKR_DB).parent / "locks")
        stale_after_s = self.settings.getfloat("STAKTRAKR_LOCK_STALE_S")  # default in settings.py
        shard = shard_of(config)
        lock_name = f"{config.POLLER_ID}-{args[0]}" + (f"-shard{shard.index}of{shard.count}" if shard else "")
        try:
            with job_lock(lock_name, lock_dir, stale_after_s=stale_after_s):
                self.settings.set(JOB_LOCKED_SETTING, True, priority="cmdline")
                self._crawl(args[0], opts)
        except LockBusy as busy:
            logger.warning("skipped: %s", busy)  # cron overlap: not a failure
            self.exitcode = 0
        except OSError as exc:  # the lock folder: unwritable, read-only, full
            fault = os_fault(exc, lock_dir)
            if fault is None:
                raise
            logger.error("%s", fault)
            self.exitcode = fault.exit_code

    def _crawl(self, spider: str, opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(spider)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        stats = crawler.stats
        self.exitcode = int(stats.get_value("staktrakr/exit_code", 0) if stats else 0)


def _check_database(config: Config) -> None:
    """Open the database as the crawl will (quick integrity check, then migrations), so a
    directory, a missing permission, a read-only or full file system, a damaged file or an
    emptied one with its history beside it stops the crawl at once instead of losing its rows."""
    with open_database(config):
        pass
