"""The Goldback spider: today's official rate, unless it is already stored (`-a force=1` scrapes
again); a page whose rate is filled in by JavaScript is fetched once more with the browser."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from staktrakr.config import config_from_settings, parse_flag
from staktrakr.errors import ConfigError
from staktrakr.feeds import FeedSpider, add_component
from staktrakr.models import Status
from staktrakr.timeutil import iso_ms, utcnow

from .items import GoldbackRateItem
from .page import GoldbackRateError, check_band, read_rate_page
from .pipeline import GoldbackStorePipeline
from .settings import GoldbackSettings, goldback_band
from .store import daily_goldback_rates


def rate_of_day(db: Any, day: str) -> dict[str, Any] | None:
    return next((r for r in daily_goldback_rates(db) if r["date"] == day), None)


class GoldbackSpider(FeedSpider):
    """Today's official Goldback exchange rate (G1 in USD)."""

    name = "goldback"

    def __init__(self, force: str | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        try:
            self.force = parse_flag(force)
        except ValueError as exc:
            raise ValueError(f"-a force={force!r}: {exc}") from None

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        add_component(settings, "ITEM_PIPELINES", GoldbackStorePipeline, 800)

    async def start(self) -> AsyncIterator[Any]:
        try:
            self.band = goldback_band(self.settings)
            self.page_url = config_from_settings(self.settings, GoldbackSettings).GOLDBACK_URL
        except (GoldbackRateError, ConfigError) as exc:
            self.fatal(str(exc))
            return
        today = utcnow().date().isoformat()
        stored = None if self.force else rate_of_day(self.context.db, today)
        if stored:
            self.logger.info(
                "goldback: today's rate (%s) is already stored: G1 $%.2f scraped at %s; nothing to do (-a force=1 scrapes again)",
                today, stored["g1_usd"], stored["scraped_at"],
            )  # fmt: skip
            return
        self.crawler.stats.set_value("staktrakr/targets", 1)
        yield self.page_request(browser=False)

    def page_request(self, *, browser: bool) -> scrapy.Request:
        meta: dict[str, Any] = {"browser": browser, "download_slot": "goldback"}
        if browser:
            from scrapy_playwright.page import PageMethod

            meta["playwright"] = True
            # The rate arrives by a fetch after `load`; wait until the page stops talking.
            meta["playwright_page_methods"] = [PageMethod("wait_for_load_state", "networkidle")]
        return scrapy.Request(
            self.page_url, callback=self.parse_page, errback=self.download_failed, meta=meta, dont_filter=True
        )

    def parse_page(self, response: Response) -> Iterator[Any]:
        browser = bool(response.meta.get("browser"))
        if response.status >= 400:
            yield self.item(response.url, reason=f"HTTP {response.status}", method="browser" if browser else "http")
            return
        try:
            quote = read_rate_page(response.text if hasattr(response, "text") else b"")
            check_band(quote.g1_usd, self.band)
        except GoldbackRateError as exc:
            if exc.client_rendered and not browser:
                self.logger.info("goldback G1: no rate in the static HTML but signs of client rendering; fetching once with the browser")
                self.crawler.stats.inc_value("staktrakr/browser_refetch")
                yield self.page_request(browser=True)
                return
            yield self.item(response.url, reason=str(exc), method="browser" if browser else "http")
            return
        for note in quote.notes:
            self.logger.warning("goldback G1: page inconsistency (G1 label kept): %s", note)
        method = f"browser+{quote.method}" if browser else quote.method
        yield self.item(response.url, g1_usd=quote.g1_usd, method=method)

    def download_failed(self, failure: Failure) -> Iterator[Any]:
        name, text = self.failure_text(failure)
        yield self.item(failure.request.url, reason=f"{name}: {text}"[:300], method="download")

    def item(self, url: str, *, g1_usd: float | None = None, method: str | None = None, reason: str | None = None) -> GoldbackRateItem:
        return GoldbackRateItem(
            g1_usd=g1_usd,
            status=(Status.ok if g1_usd is not None else Status.error).value,
            method=method,
            reason=reason,
            url=url,
            scraped_at=iso_ms(utcnow()),
        )
