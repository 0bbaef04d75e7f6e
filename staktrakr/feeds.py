"""What every feed spider (spot, Goldback, the aggregator, a plugin's own feed) needs from a crawl.

A feed polls one source per run and reports through the run recorder like the retail pass: the
crawl's shared resources (`context`), a fatal error that fails the run with one line
(`fatal`), a download failure said in words (`download_error`, a timeout names the setting), and
its own pipelines and middlewares added for this spider only (`add_component`).
"""

from __future__ import annotations

from typing import Any

import scrapy
from twisted.python.failure import Failure

from .crawl_context import CrawlContext

FATAL_STAT = "staktrakr/fatal"  # the run recorder fails the run with this message


def add_component(settings: Any, name: str, component: type, order: int) -> None:
    """Add a component to a priority dict (ITEM_PIPELINES, DOWNLOADER_MIDDLEWARES, ...) for this
    spider only.

    At spider priority: `CrawlerProcess.crawl()` re-applies the project settings to the crawler,
    which would drop a change made at project priority.
    """
    components = dict(settings.getdict(name))
    components[f"{component.__module__}.{component.__qualname__}"] = order
    settings.set(name, components, priority="spider")


def failure_text(failure: Failure, timeout_s: int) -> tuple[str, str]:
    """(exception name, what went wrong) of a failed download; a timeout says which setting bounds it."""
    name = failure.type.__name__ if failure.type else "Error"
    text = failure.getErrorMessage() or name
    if "timeout" in name.lower() or "took longer than" in text:
        return name, f"no answer within {timeout_s} s (DOWNLOAD_TIMEOUT)"
    return name, text


class FeedSpider(scrapy.Spider):
    """Base of the feed spiders: `self.context` is the crawl's context once the crawler built it."""

    context: CrawlContext

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.context = CrawlContext.of(crawler)
        return spider

    def fatal(self, message: str) -> None:
        """The run cannot do its job: log it once and fail the run with this line."""
        self.logger.error("%s: %s", self.name, message)
        self.crawler.stats.set_value(FATAL_STAT, message)

    def failure_text(self, failure: Failure) -> tuple[str, str]:
        return failure_text(failure, self.settings.getint("DOWNLOAD_TIMEOUT"))
