"""The aggregator spider: dealers still failed after the retry pass, filled from each coin's
comparison page (`fbp_url`)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from staktrakr.errors import ConfigError, StaktrakrError
from staktrakr.feeds import FeedSpider
from staktrakr.models import Coin, RetailPriceItem, Status
from staktrakr.store.snapshots import failed_targets
from staktrakr.timeutil import iso_ms, utcnow

from .comparison import ComparisonPageError, choose_fill, host_name, parse_comparison
from .settings import ENABLED_SETTING, aggregator_enabled

logger = logging.getLogger(__package__)  # one name for the feed's log lines, whichever module logs

METHOD = "aggregator"
DOWNLOAD_SLOT = "aggregator"


class AggregatorSpider(FeedSpider):
    """Fill dealers still failed after the retry pass from each coin's comparison page (`fbp_url`)."""

    name = "aggregator"

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        settings.set(ENABLED_SETTING, False, priority="default")  # off unless a setting or env says so
        try:
            enabled = aggregator_enabled(settings)
        except ConfigError:
            enabled = True  # keep the run bookkeeping so that the bad value is reported as a failed run
        if not enabled:
            # Off means off: no poller_runs row, no database, no sync for a feature nobody turned on.
            extensions = settings.getdict("EXTENSIONS")
            extensions["staktrakr.runs.RunRecorder"] = None
            extensions["staktrakr.sync.TursoSync"] = None  # sync is its own extension (staktrakr/sync.py)
            settings.set("EXTENSIONS", extensions, priority="spider")

    def plan(self) -> dict[Coin, list[str]]:
        """Failed dealers per coin, for targets that are still enabled in the providers."""
        context = self.context
        providers = context.providers
        active = {(t.coin.slug, t.vendor) for t in providers.targets()}
        by_coin: dict[Coin, list[str]] = defaultdict(list)
        for slug, vendor in failed_targets(context.db, context.config.POLLER_ID):
            if (slug, vendor) in active:
                by_coin[providers.coins[slug]].append(vendor)
        return dict(by_coin)

    async def start(self) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        try:
            if not aggregator_enabled(self.settings):
                logger.info("aggregator gap fill is off (set %s=1 to turn it on): nothing to do", ENABLED_SETTING)
                return
            plan = self.plan()
        except StaktrakrError as exc:
            self.fatal(str(exc))
            return
        stats.set_value("staktrakr/targets", sum(len(v) for v in plan.values()))
        if not plan:
            logger.info("nothing to do: no failed targets to fill")
            return
        for coin, vendors in plan.items():
            url = coin.fbp_url
            if not url or urlsplit(url).scheme not in ("http", "https"):
                why = "no fbp_url configured" if not url else f"fbp_url {url!r} is not an http(s) URL"
                logger.info("%s: %s; %s stay failed", coin.slug, why, ", ".join(vendors))
                stats.inc_value("staktrakr/aggregator/no_page", len(vendors))
                continue
            logger.info("%s: reading %s for %d failed dealer(s): %s", coin.slug, url, len(vendors), ", ".join(vendors))
            yield scrapy.Request(
                url,
                callback=self.parse_page,
                errback=self.download_failed,
                meta={"download_slot": DOWNLOAD_SLOT, "coin": coin, "vendors": vendors, "started": time.monotonic()},
                dont_filter=True,
            )

    def parse_page(self, response: Response) -> Any:
        coin: Coin = response.meta["coin"]
        vendors: list[str] = response.meta["vendors"]
        stats = self.crawler.stats
        stats.inc_value("staktrakr/aggregator/pages")
        try:
            if response.status >= 400:
                raise ComparisonPageError(f"HTTP {response.status}")
            if not hasattr(response, "text"):
                raise ComparisonPageError(f"not an HTML page ({response.headers.get('Content-Type', b'').decode(errors='replace')})")
            table = parse_comparison(response.text, response.url)
        except ComparisonPageError as exc:
            logger.warning("%s: cannot read the comparison page %s: %s; %s stay failed", coin.slug, response.url, exc, ", ".join(vendors))
            stats.inc_value("staktrakr/aggregator/unreadable")
            return
        elapsed_ms = int((time.monotonic() - response.meta["started"]) * 1000)
        source = f"from {host_name(response.url)} comparison table"
        for vendor in vendors:
            fill, why = choose_fill(table.rows_for(vendor))
            if fill is None:
                logger.info("%s %s: %s; stays failed", vendor, coin.slug, why)
                stats.inc_value("staktrakr/aggregator/not_filled")
                continue
            reason = f"{source} (dealer row {fill.row.dealer_name!r})" + (f", {fill.note}" if fill.note else "")
            stats.inc_value("staktrakr/aggregator/filled")
            yield RetailPriceItem(
                coin_slug=coin.slug,
                vendor=vendor,
                url=response.url,
                price=fill.price,
                in_stock=fill.in_stock,
                status=(Status.ok if fill.in_stock else Status.out_of_stock).value,
                method=METHOD,
                reason=reason,
                scraped_at=iso_ms(utcnow()),
                http_status=response.status,
                elapsed_ms=elapsed_ms,
            )

    def download_failed(self, failure: Failure) -> None:
        request = failure.request
        coin: Coin = request.meta["coin"]
        reason = failure.getErrorMessage() or failure.type.__name__
        logger.warning(
            "%s: cannot fetch the comparison page %s: %s: %s; %s stay failed",
            coin.slug, request.url, failure.type.__name__, reason, ", ".join(request.meta["vendors"]),
        )  # fmt: skip
        self.crawler.stats.inc_value("staktrakr/aggregator/unreadable")
