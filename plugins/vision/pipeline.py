"""Vision cross-check of each retail outcome that has a screenshot (ITEM_PIPELINES 500, added
by the plugin's hook staktrakr_crawl_components).

Runs between validation (100) and storage (800), so the row is stored once, with the decision
and both readings on it: there is never a separate vision row that could become a dealer's
"latest" observation (B-19). Only `ok`, `out_of_stock` and `no_price` outcomes are looked at;
blocked, wrong-product and failed ones are not worth a call.

Off unless VISION_ENABLED and GEMINI_API_KEY are set (one log line says why it is off), and
then the crawl is exactly what it is without this file. When on, the Gemini call runs in a
thread pool of VISION_CONCURRENCY threads, at most VISION_MAX_CALLS requests per run, each
within VISION_TIMEOUT; whatever goes wrong is logged and the scraped result is kept.

Figures go to the stats (`staktrakr/vision/calls`, `…/tokens`, `…/input_tokens`,
`…/output_tokens`, `…/seconds`, `…/cost_usd`, `…/answered`, `…/agreed`, `…/disagreed`,
`…/vision_only`, `…/wrong_product`, `…/failed`, `…/skipped_budget`, `…/no_screenshot`), from
which the plugin fills its `poller_runs` columns and its line of the run summary (hooks
staktrakr_run_figures, staktrakr_run_finished). The readings go on the row as the plugin's own
columns (item plugin_columns; plugins/vision/store.py), never as fields of the core's model.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from staktrakr.crawl_context import CrawlContext
from staktrakr.models import Status, plugin_columns
from staktrakr.pipelines.validate import ValidatePipeline
from staktrakr.timeutil import ago, iso_ms, utcnow

from .client import CallTotals, ClientOptions, GeminiVision, VisionBudgetExhausted, VisionError
from .merge import METHOD_VISION, Decision, MergeParams, Scraped, decide
from .prompt import build_prompt
from .screenshots import VisionCapture
from .settings import VisionSettings
from .status import VISION_STATUSES, vision_settings, vision_status
from .store import SNAPSHOT_COLUMNS, other_dealer_prices
from .visits import ScreenshotVisits, screenshot_of

logger = logging.getLogger(__name__)

STATS = "staktrakr/vision"


def estimated_cost(totals: CallTotals, usd_per_mtoken_in: float, usd_per_mtoken_out: float) -> float:
    return round(totals.input_tokens / 1e6 * usd_per_mtoken_in + totals.output_tokens / 1e6 * usd_per_mtoken_out, 6)


class VisionPipeline:
    def __init__(self, crawler: Any, section: VisionSettings):
        self.crawler = crawler
        self.stats = crawler.stats
        self.settings = crawler.settings
        self.context = CrawlContext.of(crawler)
        self.section = section
        self.capture = VisionCapture(crawler)
        # The screenshots: taken in the spider's browser visits, through its signals.
        self.visits = ScreenshotVisits(crawler, self.capture)
        self.validator = ValidatePipeline(self.context)
        self.params = MergeParams.from_settings(self.settings)
        self.options = ClientOptions.from_settings(self.settings, section.GEMINI_BASE_URL)
        self.concurrency = max(1, self.settings.getint("VISION_CONCURRENCY"))
        self.median_hours = self.settings.getfloat("VISION_MEDIAN_LOOKBACK_HOURS")
        self.price_in = self.settings.getfloat("VISION_PRICE_PER_MTOKEN_IN")
        self.price_out = self.settings.getfloat("VISION_PRICE_PER_MTOKEN_OUT")
        self.client: GeminiVision | None = None
        self.pool: Any = None
        self._budget_logged = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> VisionPipeline:
        section = vision_settings(crawler.settings)
        active, why_not = vision_status(section, CrawlContext.of(crawler).pm)
        if not active:
            logger.info("vision cross-check off: %s", why_not)
            raise NotConfigured
        return cls(crawler, section)

    # -- run ------------------------------------------------------------------------------------

    def open_spider(self, spider: Any = None) -> None:
        from twisted.python.threadpool import ThreadPool

        key = self.section.GEMINI_API_KEY
        assert key is not None  # vision_status() checked it
        self.client = GeminiVision(key.get_secret_value(), self.options, self.capture.calls)
        from twisted.internet import reactor

        self.pool = ThreadPool(minthreads=0, maxthreads=self.concurrency, name="vision")
        self.pool.start()
        # close_spider stops it; this covers a reactor that stops without closing the spider.
        reactor.addSystemEventTrigger("during", "shutdown", self._stop_pool)
        self.stats.set_value(f"{STATS}/enabled", True)
        self._publish_totals()
        logger.info(
            "vision cross-check on: %s, at most %d calls and %d extra browser visits, %d at a time, screenshots in %s",
            self.options.model, self.capture.calls.limit, self.capture.extra_visits, self.concurrency, self.capture.run_dir,
        )  # fmt: skip

    def _stop_pool(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.stop()

    def close_spider(self, spider: Any = None) -> None:
        self._stop_pool()
        if self.client is not None:
            self._publish_totals()
            self.client.close()
        self.capture.prune()

    def _publish_totals(self) -> None:
        totals = self.client.totals if self.client else CallTotals()
        self.stats.set_value(f"{STATS}/calls", totals.calls)
        self.stats.set_value(f"{STATS}/input_tokens", totals.input_tokens)
        self.stats.set_value(f"{STATS}/output_tokens", totals.output_tokens)
        self.stats.set_value(f"{STATS}/tokens", totals.tokens)
        self.stats.set_value(f"{STATS}/seconds", round(totals.seconds, 3))
        self.stats.set_value(f"{STATS}/cost_usd", estimated_cost(totals, self.price_in, self.price_out))

    # -- items ----------------------------------------------------------------------------------

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        adapter = ItemAdapter(item)
        if "coin_slug" not in adapter.field_names() or adapter.get("status") not in VISION_STATUSES:
            return item
        vendor, slug = adapter["vendor"], adapter["coin_slug"]
        screenshot = screenshot_of(item)
        if not screenshot or not Path(screenshot).is_file():
            self.stats.inc_value(f"{STATS}/no_screenshot")
            return item
        coin = self.validator.coin(slug)
        if coin is None or self.client is None:
            return item
        if self.capture.calls.exhausted:
            self._skip_for_budget(vendor, slug)
            return item
        prompt = build_prompt(coin, vendor, self.context.profile(vendor).name, adapter.get("url") or "")
        try:
            answer = await self._in_thread(self._read, screenshot, prompt)
        except VisionBudgetExhausted:
            self._skip_for_budget(vendor, slug)
            return item
        except VisionError as exc:
            self.stats.inc_value(f"{STATS}/failed")
            logger.warning("%s %s: vision failed, keeping the page result: %s", vendor, slug, exc)
            return item
        except Exception as exc:  # noqa: BLE001 - the run never fails because vision did
            self.stats.inc_value(f"{STATS}/failed")
            logger.warning("%s %s: vision failed unexpectedly, keeping the page result: %s: %s", vendor, slug, type(exc).__name__, exc)
            return item
        finally:
            self._publish_totals()
        self.stats.inc_value(f"{STATS}/answered")
        low, high, _basis = self.validator.bounds(coin)
        since = iso_ms(ago(utcnow(), hours=self.median_hours))
        others = other_dealer_prices(self.context.db, slug, vendor, since)
        scraped = Scraped(
            price=adapter.get("price"), in_stock=adapter.get("in_stock"), status=Status(adapter["status"]), method=adapter.get("method")
        )
        decision = decide(scraped, answer.reading, coin, (low, high), others, self.params)
        self._apply(adapter, decision)
        plugin_columns(item).update({name: getattr(decision, name) for name in SNAPSHOT_COLUMNS})
        if decision.method == METHOD_VISION and decision.price is not None:
            # A price only the screenshot gave goes through the same validation as any other.
            self.validator.process_item(item)
        self._count(decision, scraped)
        logger.debug(
            "%s %s: vision %s in %.1f s, %d tokens: %s", vendor, slug, answer.model, answer.seconds, answer.tokens, decision.note
        )
        return item

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor
        from twisted.internet.threads import deferToThreadPool

        return await maybe_deferred_to_future(deferToThreadPool(reactor, self.pool, function, *args))

    def _read(self, screenshot: str, prompt: str) -> Any:
        assert self.client is not None
        return self.client.read(Path(screenshot).read_bytes(), prompt)

    def _skip_for_budget(self, vendor: str, slug: str) -> None:
        self.stats.inc_value(f"{STATS}/skipped_budget")
        if not self._budget_logged:
            self._budget_logged = True
            logger.warning(
                "%s %s: VISION_MAX_CALLS (%d) reached; the remaining pages keep their page-text result",
                vendor, slug, self.capture.calls.limit,
            )  # fmt: skip

    @staticmethod
    def _apply(adapter: ItemAdapter, decision: Decision) -> None:
        adapter["price"] = decision.price
        adapter["in_stock"] = decision.in_stock
        adapter["status"] = decision.status.value
        adapter["method"] = decision.method
        if decision.source is not None:
            adapter["source"] = decision.source
        if decision.confidence is not None:
            adapter["confidence"] = decision.confidence
        reason = adapter.get("reason")
        adapter["reason"] = f"{reason}; vision: {decision.note}" if reason else f"vision: {decision.note}"

    def _count(self, decision: Decision, scraped: Scraped) -> None:
        if decision.status is Status.wrong_product and scraped.status is not Status.wrong_product:
            self.stats.inc_value(f"{STATS}/wrong_product")
        elif decision.vision_agrees is True:
            self.stats.inc_value(f"{STATS}/agreed")
        elif decision.vision_agrees is False:
            self.stats.inc_value(f"{STATS}/disagreed")
        elif scraped.price is None and decision.price is not None:
            self.stats.inc_value(f"{STATS}/vision_only")
