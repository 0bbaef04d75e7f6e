"""The spot spider: one MetalPriceAPI poll; with `-a backfill=24h` also the missing hours of the last day."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from staktrakr.config import config_from_settings
from staktrakr.errors import ConfigError
from staktrakr.feeds import FeedSpider, add_component
from staktrakr.models import Status
from staktrakr.redact import redact_text
from staktrakr.timeutil import iso_ms, parse_time, utcnow

from .api import (
    SOURCE_API,
    SOURCE_TIMEFRAME,
    SYMBOLS,
    AnswerError,
    LatestAnswer,
    RateError,
    SpotFeedError,
    TimeframeAnswer,
    check_sane,
    read_answer,
    sane_bounds,
    usd_per_oz,
)
from .api_key import KEY_META, ApiKeyMiddleware, key_secrets
from .items import SpotBackfillItem, SpotPriceItem
from .pipeline import SpotStorePipeline
from .settings import DEFAULT_SANE_BOUNDS, SpotSettings
from .store import spot_readings_between

# /v1/timeframe gives one rate per day: filling more than a week of hours with it says little.
MAX_BACKFILL_HOURS = 7 * 24


def _parse_backfill(value: str | None) -> int | None:
    if value in (None, "", "0"):
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([hd]?)\s*", str(value).lower())
    hours = int(match[1]) * (24 if match[2] == "d" else 1) if match else 0
    if not 1 <= hours <= MAX_BACKFILL_HOURS:
        raise SpotFeedError(f"-a backfill={value!r}: give a duration like 24h or 2d (1 hour to {MAX_BACKFILL_HOURS // 24} days)")
    return hours


class SpotSpider(FeedSpider):
    """One MetalPriceAPI poll; with `-a backfill=24h` also the missing hours of the last day."""

    name = "spot"
    custom_settings = {
        # JSON from one API: no browser, so no Playwright driver either (the base handlers apply).
        "DOWNLOAD_HANDLERS": {},
        "DEFAULT_REQUEST_HEADERS": {"Accept": "application/json"},
        "COOKIES_ENABLED": False,
    }

    def __init__(self, backfill: str | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.argument_error: str | None = None
        self.bounds: dict[str, tuple[float, float]] = dict(DEFAULT_SANE_BOUNDS)  # settings applied in start()
        self.api = SpotSettings()  # the environment's, read in start()
        try:
            self.backfill_hours = _parse_backfill(backfill)
        except SpotFeedError as exc:  # reported as the run's error once the crawl has stats
            self.backfill_hours, self.argument_error = None, str(exc)

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        # Last before the download, first after it: nothing else ever sees the key.
        add_component(settings, "DOWNLOADER_MIDDLEWARES", ApiKeyMiddleware, 990)
        add_component(settings, "ITEM_PIPELINES", SpotStorePipeline, 800)

    async def start(self) -> AsyncIterator[Any]:
        if self.argument_error:
            self.fatal(self.argument_error)
            return
        try:
            self.api = config_from_settings(self.settings, SpotSettings)
        except ConfigError as exc:
            self.fatal(str(exc))
            return
        if self.api.METAL_PRICE_API_KEY is None:
            self.fatal("METAL_PRICE_API_KEY is not set: the spot feed needs a MetalPriceAPI key")
            return
        try:
            self.bounds = sane_bounds(self.settings)
        except SpotFeedError as exc:
            self.fatal(str(exc))
            return
        self.crawler.stats.set_value("staktrakr/targets", len(SYMBOLS))
        yield self.api_request("/v1/latest", {}, self.parse_latest, self.latest_failed)
        if self.backfill_hours:
            request = self.backfill_request(utcnow())
            if request is not None:
                yield request

    def api_request(self, path: str, params: dict[str, str], callback: Any, errback: Any, **meta: Any) -> scrapy.Request:
        query = urlencode({**params, "base": "USD", "currencies": ",".join(SYMBOLS)}, safe=",")
        return scrapy.Request(
            f"{self.api.METALPRICE_API_URL}{path}?{query}",
            callback=callback,
            errback=errback,
            # An API that redirects is misconfigured; following would hand the key to the target.
            meta={KEY_META: True, "dont_redirect": True, "download_slot": "metalpriceapi", **meta},
            dont_filter=True,
        )

    # -- /v1/latest ---------------------------------------------------------------------------

    def parse_latest(self, response: Response) -> Iterator[SpotPriceItem]:
        polled = utcnow()
        try:
            answer = read_answer(response, LatestAnswer)
        except AnswerError as exc:
            yield from self.all_failed(str(exc), polled)
            return
        for symbol, metal in SYMBOLS.items():
            try:
                price = check_sane(metal, usd_per_oz(answer.rates, symbol), self.bounds)
            except RateError as exc:
                yield self.item(metal, polled, reason=str(exc))
            else:
                yield self.item(metal, polled, price=price)

    def latest_failed(self, failure: Failure) -> Iterator[SpotPriceItem]:
        yield from self.all_failed(self.download_error(failure), utcnow())

    def all_failed(self, reason: str, when: datetime) -> Iterator[SpotPriceItem]:
        self.logger.error("spot: MetalPriceAPI poll failed for every metal: %s", self.scrub(reason))
        for metal in SYMBOLS.values():
            yield self.item(metal, when, reason=reason)

    def item(self, metal: str, when: datetime, *, price: float | None = None, reason: str | None = None) -> SpotPriceItem:
        return SpotPriceItem(
            metal=metal,
            spot=price,
            status=(Status.ok if price is not None else Status.error).value,
            reason=self.scrub(reason) if reason else None,
            source=SOURCE_API,
            timestamp=iso_ms(when),
        )

    def download_error(self, failure: Failure) -> str:
        name, text = self.failure_text(failure)
        if text.endswith("(DOWNLOAD_TIMEOUT)"):
            return text
        return self.scrub(f"{name}: {text}")[:300]

    def scrub(self, text: str) -> str:
        return redact_text(text, key_secrets(self.api.METAL_PRICE_API_KEY))

    # -- /v1/timeframe ------------------------------------------------------------------------

    def backfill_request(self, now: datetime) -> scrapy.Request | None:
        """The timeframe call for the (hour, metal) pairs of the last hours without a reading."""
        this_hour = now.replace(minute=0, second=0, microsecond=0)
        hours = [this_hour - timedelta(hours=n) for n in range(self.backfill_hours, 0, -1)]
        rows = spot_readings_between(self.context.db, iso_ms(hours[0]), iso_ms(this_hour))
        present = {(parse_time(r["timestamp"]).replace(minute=0, second=0, microsecond=0), r["metal"]) for r in rows}
        missing = [(hour, metal) for hour in hours for metal in SYMBOLS.values() if (hour, metal) not in present]
        if not missing:
            self.logger.info("spot backfill: every metal has readings in each of the last %d hours; nothing to fill", self.backfill_hours)
            return None
        first, last = missing[0][0].date().isoformat(), missing[-1][0].date().isoformat()
        self.logger.info(
            "spot backfill: %d hour(s) of the last %d lack readings (%d metal-hours); asking /v1/timeframe for %s..%s",
            len({h for h, _ in missing}), self.backfill_hours, len(missing), first, last,
        )  # fmt: skip
        return self.api_request(
            "/v1/timeframe", {"start_date": first, "end_date": last}, self.parse_timeframe, self.timeframe_failed, missing=missing
        )

    def parse_timeframe(self, response: Response) -> Iterator[SpotBackfillItem]:
        missing: list[tuple[datetime, str]] = response.meta["missing"]
        try:
            answer = read_answer(response, TimeframeAnswer)
        except AnswerError as exc:
            self.backfill_failed(str(exc))
            return
        no_rate: dict[str, set[str]] = defaultdict(set)
        filled = 0
        for hour, metal in missing:
            day = hour.date().isoformat()
            symbol = next(s for s, m in SYMBOLS.items() if m == metal)
            try:
                rates = answer.rates.get(day)
                if rates is None:
                    raise RateError("the answer has no rate for this day")
                price = check_sane(metal, usd_per_oz(rates, symbol), self.bounds)
            except RateError as exc:
                no_rate[f"{metal} {day}"].add(str(exc))
                continue
            filled += 1
            yield SpotBackfillItem(metal=metal, spot=price, source=SOURCE_TIMEFRAME, timestamp=iso_ms(hour))
        for what, reasons in sorted(no_rate.items()):
            self.logger.warning("spot backfill %s: hours left empty: %s", what, self.scrub("; ".join(sorted(reasons))))
        self.crawler.stats.set_value("staktrakr/spot/backfilled", filled)
        self.logger.info("spot backfill: %d of %d missing metal-hours filled from daily rates", filled, len(missing))

    def timeframe_failed(self, failure: Failure) -> None:
        self.backfill_failed(self.download_error(failure))

    def backfill_failed(self, reason: str) -> None:
        # The poll itself decides the run's outcome; a failed backfill is retried next run.
        self.crawler.stats.set_value("staktrakr/spot/backfill_error", self.scrub(reason))
        self.logger.error("spot backfill: /v1/timeframe failed, no hour filled: %s", self.scrub(reason))

