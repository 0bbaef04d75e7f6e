"""`scrapy crawl` whose exit status says whether the run captured anything.

Scrapy's own command exits 0 even when every target failed; cron and the operator need
non-zero then. The RunRecorder extension puts the status in the crawler's stats.
"""

from __future__ import annotations

import argparse

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from staktrakr.config import config_from_settings
from staktrakr.errors import ConfigError


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) < 1:
            raise UsageError()
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        assert self.crawler_process is not None
        try:
            config_from_settings(self.settings)
        except ConfigError as exc:  # before any component is built: one message, no traceback
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = exc.exit_code
            return
        crawler = self.crawler_process.create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        stats = crawler.stats
        self.exitcode = int(stats.get_value("staktrakr/exit_code", 0) if stats else 0)
