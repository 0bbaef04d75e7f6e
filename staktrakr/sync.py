"""Turso sync for crawls and commands: pull before reading, push after writing, and a failure of
either is one warning, never fatal (the rows stay local and go out with the next push).

`TursoSync` is the crawl's Scrapy extension (EXTENSIONS, before the run recorder): it pulls when
the spider opens (provider edits and the other pollers' rows, before the run reads anything)
and pushes when the crawl context closes the database, after every other component is done
with it (the run row included). Switching it off (`-s EXTENSIONS='{"staktrakr.sync.TursoSync": null}'`)
leaves the run recorder and storage untouched. The CLI's commands use the same two functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from scrapy import signals

from .crawl_context import CrawlContext
from .errors import StoreError, SyncError

logger = logging.getLogger(__name__)

Warn = Callable[[str], None]


def pull_or_warn(db: Any, warn: Warn, *, then: str = "running on the local copy") -> bool:
    """Fetch the remote's changes; False (after one warning "<why>; <then>") when it failed.
    A database without a remote is left alone (False)."""
    if not db.synced:
        return False
    try:
        db.pull()
    except SyncError as exc:
        warn(f"{exc}; {then}")
        return False
    return True


def push_or_warn(db: Any, warn: Warn, *, then: str = "{backlog} local change(s) stay queued for the next push") -> bool:
    """Send the local changes; False (after one warning "<why>; <then>", where `{backlog}` is the
    number of changes still queued) when it failed. Nothing is lost: they go with the next push."""
    if not db.synced:
        return False
    try:
        db.push()
    except SyncError as exc:
        backlog = db.backlog() if "{backlog}" in then else None
        warn(f"{exc}; {then.format(backlog=backlog)}")
        return False
    return True


class TursoSync:
    """Pull at the crawl's start, push at its end (see the module's docstring)."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Any) -> TursoSync:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        ext.context.before_close(ext.push)
        return ext

    def spider_opened(self, spider: Any) -> None:
        try:
            db = self.context.db
        except StoreError:
            return  # the run recorder reports it (and closes the spider)
        if db.synced and not pull_or_warn(db, logger.warning):
            self.crawler.stats.set_value("staktrakr/pull_failed", True)

    def push(self, db: Any) -> None:
        """Send this run's rows; a failure costs nothing: they stay queued for the next run."""
        if push_or_warn(db, logger.warning, then="{backlog} local change(s) stay queued for the next run"):
            logger.info("pushed to the remote database")
        elif db.synced:
            self.crawler.stats.set_value("staktrakr/push_failed", True)
