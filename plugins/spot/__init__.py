"""Spot feed plugin: MetalPriceAPI readings, the `hourly/` and `15min/` files, spot-relative bounds.

    scrapy crawl spot                   one poll of /v1/latest (gold, silver, platinum, palladium)
    scrapy crawl spot -a backfill=24h   also fill the hours of the last day that have no reading

What the live system got wrong and this does not (LIVE-SYSTEM §5, §9):
- every poll is its own row with its real time and its 15-minute floor (B-3);
- a metal with a missing, zero, non-numeric or implausible rate is rejected with its reason and
  the others are stored (the live poller dropped all four, or published gold = 0);
- a 15-minute file that is not valid JSON (the NUL-filled `2220.json`) is written again;
- retail prices are judged against melt value at the latest spot price instead of fixed per-ounce
  ranges that reject all silver below $40 and admit half-ounce gold (B-11).

The API key is a query parameter. It is added by `ApiKeyMiddleware` right before the download and
taken off right after, so requests, responses, log lines, errors and stats only ever see the bare
URL; the project-wide log redaction (staktrakr/logs.py) scrubs it from any log record that still
gets hold of it (a download error that quotes the URL, a `-s METAL_PRICE_API_KEY=…` value).
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import scrapy
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError
from scrapy.http import Response
from twisted.python.failure import Failure

from staktrakr.crawl_context import CrawlContext
from staktrakr.errors import StaktrakrError, StoreError
from staktrakr.export.writer import dumps, write_atomic
from staktrakr.extract.money import round2
from staktrakr.hookspecs import hookimpl
from staktrakr.models import Coin, Metal, Status
from staktrakr.redact import redact_text
from staktrakr.store.ids import new_id
from staktrakr.store.spot import (
    SpotReading,
    insert_spot_readings,
    latest_spot,
    spot_readings_between,
)
from staktrakr.timeutil import floor_15, iso_ms, iso_s, parse_time, space_ts, utcnow

logger = logging.getLogger(__name__)

# MetalPriceAPI symbols of the four metals, in the order the live poller wrote them.
SYMBOLS: dict[str, str] = {"XAU": "gold", "XAG": "silver", "XPT": "platinum", "XPD": "palladium"}
SOURCE_API = "metalprice-api"
SOURCE_TIMEFRAME = "timeframe"  # daily rates of /v1/timeframe, stamped at the missing hour
PROVIDER = "StakTrakr"

# Settings (documented defaults; override with -s NAME=value or in settings.py).
# USD per troy ounce outside which an API value is garbage (an un-inverted rate, a unit change).
DEFAULT_SANE_BOUNDS: dict[str, tuple[float, float]] = {
    "gold": (500.0, 50_000.0),
    "silver": (5.0, 2_000.0),
    "platinum": (100.0, 20_000.0),
    "palladium": (100.0, 20_000.0),
}
# Retail price / melt value. Bullion of 1 oz or more sells a little under melt at worst (dealer
# buy-side rounding) and far below 2x; fractional pieces carry larger premiums; Goldbacks trade
# at about twice their gold content. Overridden per coin slug or per metal by STAKTRAKR_SPOT_BOUNDS.
DEFAULT_BULLION_FACTORS = (0.97, 2.0)
DEFAULT_FRACTIONAL_FACTORS = (0.97, 3.0)
DEFAULT_GOLDBACK_FACTORS = (1.2, 4.0)
DEFAULT_SPOT_MAX_AGE_HOURS = 24.0
# /v1/timeframe gives one rate per day: filling more than a week of hours with it says little.
MAX_BACKFILL_HOURS = 7 * 24

_KEY_META = "metalprice_api_key"  # request meta flag: add the key to this request
_BARE_URL_META = "_metalprice_bare_url"


# -- errors ------------------------------------------------------------------------------------


class SpotFeedError(StaktrakrError):
    """Something the spot feed could not use; the message says what and why."""


class AnswerError(SpotFeedError):
    """The whole API answer is unusable (HTTP error, `success: false`, wrong shape, not JSON)."""


class RateError(SpotFeedError):
    """One metal's rate is unusable (missing, zero, not a number, outside the sane bounds)."""


# -- API answers -------------------------------------------------------------------------------


class ApiError(BaseModel):
    model_config = ConfigDict(extra="allow")

    statusCode: int | None = None  # noqa: N815 - the API's field name
    message: str | None = None
    info: str | None = None


class LatestAnswer(BaseModel):
    """`/v1/latest`: rates are metal units per 1 USD (`XAU`), plus `USDXAU` on paid plans."""

    model_config = ConfigDict(extra="allow")

    success: StrictBool
    error: ApiError | None = None
    base: str | None = None
    timestamp: int | None = None
    # Values are checked per metal, so that one bad rate does not cost the other metals.
    rates: dict[str, Any] | None = None


class TimeframeAnswer(BaseModel):
    """`/v1/timeframe`: `rates` is {YYYY-MM-DD: {XAU: …, USDXAU: …}}."""

    model_config = ConfigDict(extra="allow")

    success: StrictBool
    error: ApiError | None = None
    rates: dict[str, dict[str, Any]] | None = None


def read_answer(response: Response, model: type[LatestAnswer] | type[TimeframeAnswer]) -> Any:
    """The validated answer of a successful call; AnswerError says why there is none."""
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if response.status != 200:
        detail = ""
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            detail = f": {data['error'].get('message') or data['error'].get('info') or ''}".rstrip(": ")
        raise AnswerError(f"HTTP {response.status}{detail}")
    if data is None:
        raise AnswerError("the answer is not JSON")
    try:
        answer = model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:3])
        raise AnswerError(f"unexpected answer shape ({problems})") from None
    if not answer.success:
        error = answer.error or ApiError()
        code = f" {error.statusCode}" if error.statusCode is not None else ""
        raise AnswerError(f"API error{code}: {error.message or error.info or 'no message'}")
    if answer.rates is None:
        raise AnswerError("unexpected answer shape (rates: missing)")
    return answer


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def usd_per_oz(rates: Mapping[str, Any], symbol: str) -> float:
    """USD per troy ounce: `USDXAU` when the answer has a usable one, else 1 / `XAU`."""
    pair = _number(rates.get(f"USD{symbol}"))
    if pair is not None and pair > 0:
        return round2(pair)
    raw = rates.get(symbol)
    if raw is None:
        raise RateError(f"{symbol} is missing from the answer")
    rate = _number(raw)
    if rate is None:
        raise RateError(f"{symbol} rate {raw!r} is not a number")
    if rate <= 0:
        raise RateError(f"{symbol} rate is {rate:g}: no price can be derived from it")
    return round2(1 / rate)


def sane_bounds(settings: Any) -> dict[str, tuple[float, float]]:
    """STAKTRAKR_SPOT_SANE_BOUNDS over the defaults, per metal."""
    bounds = dict(DEFAULT_SANE_BOUNDS)
    for metal, pair in _getdict(settings, "STAKTRAKR_SPOT_SANE_BOUNDS").items():
        parsed = _pair(pair)
        if parsed is None or metal not in bounds:
            raise SpotFeedError(
                f"STAKTRAKR_SPOT_SANE_BOUNDS[{metal!r}] must be [low, high] USD/oz for one of {', '.join(bounds)}; got {pair!r}"
            )
        bounds[metal] = parsed
    return bounds


def check_sane(metal: str, price: float, bounds: Mapping[str, tuple[float, float]]) -> float:
    low, high = bounds[metal]
    if not low <= price <= high:
        raise RateError(f"{price:,.2f} USD/oz is outside the sane bounds {low:,g}-{high:,g} (STAKTRAKR_SPOT_SANE_BOUNDS)")
    return price


# -- items -------------------------------------------------------------------------------------


class SpotPriceItem(scrapy.Item):
    """One metal of one poll: a price (`ok`) or the reason there is none (`error`)."""

    metal = scrapy.Field()
    spot = scrapy.Field()
    status = scrapy.Field()  # counted by the RunRecorder: one per metal
    reason = scrapy.Field()
    source = scrapy.Field()
    timestamp = scrapy.Field()  # ISO-8601 UTC: when the API was polled


class SpotBackfillItem(scrapy.Item):
    """A daily rate filling a missing hour; no `status`, so it does not count as a poll."""

    metal = scrapy.Field()
    spot = scrapy.Field()
    source = scrapy.Field()
    timestamp = scrapy.Field()  # HH:00 of the hour it fills


# -- the spider --------------------------------------------------------------------------------


def add_component(settings: Any, name: str, component: type, order: int) -> None:
    """Add a component to a priority dict for this spider only.

    At spider priority: `CrawlerProcess.crawl()` re-applies the project settings to the crawler,
    which would drop a change made at project priority.
    """
    components = dict(settings.getdict(name))
    components[f"{component.__module__}.{component.__qualname__}"] = order
    settings.set(name, components, priority="spider")


def _parse_backfill(value: str | None) -> int | None:
    if value in (None, "", "0"):
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([hd]?)\s*", str(value).lower())
    hours = int(match[1]) * (24 if match[2] == "d" else 1) if match else 0
    if not 1 <= hours <= MAX_BACKFILL_HOURS:
        raise SpotFeedError(f"-a backfill={value!r}: give a duration like 24h or 2d (1 hour to {MAX_BACKFILL_HOURS // 24} days)")
    return hours


class SpotSpider(scrapy.Spider):
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

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SpotSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.context = CrawlContext.of(crawler)
        return spider

    def _fatal(self, message: str) -> None:
        self.logger.error("spot: %s", message)
        self.crawler.stats.set_value("staktrakr/fatal", message)

    async def start(self) -> AsyncIterator[Any]:
        config = self.context.config
        if self.argument_error:
            self._fatal(self.argument_error)
            return
        if config.METAL_PRICE_API_KEY is None:
            self._fatal("METAL_PRICE_API_KEY is not set: the spot feed needs a MetalPriceAPI key")
            return
        try:
            self.bounds = sane_bounds(self.settings)
        except SpotFeedError as exc:
            self._fatal(str(exc))
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
            f"{self.context.config.METALPRICE_API_URL}{path}?{query}",
            callback=callback,
            errback=errback,
            # An API that redirects is misconfigured; following would hand the key to the target.
            meta={_KEY_META: True, "dont_redirect": True, "download_slot": "metalpriceapi", **meta},
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
        name = failure.type.__name__ if failure.type else "Error"
        text = failure.getErrorMessage() or name
        if "timeout" in name.lower() or "took longer than" in text:
            return f"no answer within {self.settings.getint('DOWNLOAD_TIMEOUT')} s (DOWNLOAD_TIMEOUT)"
        return self.scrub(f"{name}: {text}")[:300]

    def scrub(self, text: str) -> str:
        return redact_text(text, key_secrets(self.context.config.METAL_PRICE_API_KEY))

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


# -- components: the key, the log, the store ---------------------------------------------------


def key_secrets(key: Any) -> tuple[str, ...]:
    """The key as it may appear in text: raw and URL-encoded."""
    if key is None:
        return ()
    value = key.get_secret_value() if hasattr(key, "get_secret_value") else str(key)
    return tuple({value, quote(value, safe=""), quote_plus(value)} - {""})


def _without_key(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "api_key"]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


class ApiKeyMiddleware:
    """Puts `api_key` on MetalPriceAPI requests for the download only.

    The request is changed in place (a replacement request would be rescheduled and then logged
    with its keyed URL) and restored before any other middleware, the engine's "Crawled" line,
    the retry middleware or the spider sees it.
    """

    def __init__(self, key: Any, secrets: tuple[str, ...]):
        self.key = key
        self.secrets = secrets

    @classmethod
    def from_crawler(cls, crawler: Any) -> ApiKeyMiddleware:
        key = CrawlContext.of(crawler).config.METAL_PRICE_API_KEY
        return cls(key, key_secrets(key))

    def process_request(self, request: scrapy.Request) -> None:
        if not request.meta.get(_KEY_META) or self.key is None:
            return None
        bare = request.url
        parts = urlsplit(bare)
        keyed = urlencode({"api_key": self.key.get_secret_value()}) + (f"&{parts.query}" if parts.query else "")
        request.meta[_BARE_URL_META] = bare
        request._set_url(urlunsplit(parts._replace(query=keyed)))  # noqa: SLF001 - see the class docstring
        return None

    def _restore(self, request: scrapy.Request) -> bool:
        bare = request.meta.pop(_BARE_URL_META, None)
        if bare is None:
            return False
        request._set_url(bare)  # noqa: SLF001
        return True

    def process_response(self, request: scrapy.Request, response: Response) -> Response:
        if not self._restore(request):
            return response
        return response.replace(url=_without_key(response.url))

    def process_exception(self, request: scrapy.Request, exception: BaseException) -> None:
        if self._restore(request):
            # Download errors quote the URL ("Getting …?api_key=… took longer than 30 s").
            try:
                exception.args = tuple(redact_text(a, self.secrets) if isinstance(a, str) else a for a in exception.args)
            except (AttributeError, TypeError):
                pass  # the log redaction (staktrakr/logs.py) still scrubs whatever gets logged
        return None


class SpotStorePipeline:
    """Stores spot readings; when the crawl ends, rewrites the spot files they belong in."""

    def __init__(self, crawler: Any):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.hours: set[datetime] = set()
        self.floors: set[datetime] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> SpotStorePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, (SpotPriceItem, SpotBackfillItem)):
            return item
        metal, poll = item["metal"], isinstance(item, SpotPriceItem)
        if poll and item["status"] != Status.ok.value:
            self.stats.inc_value("staktrakr/status/error")
            logger.warning("spot %-9s error     %s", metal, item.get("reason") or "")
            return item
        when = parse_time(item["timestamp"])
        poller = self.context.config.POLLER_ID
        reading = SpotReading(
            id=new_id(poller, when),
            poller_id=poller,
            metal=metal,
            spot=item["spot"],
            source=item["source"],
            timestamp=iso_ms(when),
            timestamp_floor=iso_s(floor_15(when)),
            scraped_at=iso_ms(utcnow()),
        )
        try:
            insert_spot_readings(self.context.db, [reading])
        except StoreError as exc:
            if poll:
                item["status"], item["reason"] = Status.error.value, f"not stored: {exc}"
            logger.error("spot %-9s not stored: %s", metal, exc)
            return item
        self.hours.add(when.replace(minute=0, second=0, microsecond=0))
        if poll:
            # 15-minute files are snapshots of polls; a daily rate stamped HH:00 is not one.
            self.floors.add(floor_15(when))
            self.stats.inc_value("staktrakr/status/ok")
            logger.info("spot %-9s ok %11.2f USD/oz  (%s, polled %s)", metal, reading.spot, reading.source, iso_s(when))
        else:
            self.stats.inc_value("staktrakr/spot/backfill_stored")
            # up to 96 a day: the spider logs the summary
            logger.debug("spot %-9s filled %7.2f USD/oz  (%s, hour %s)", metal, reading.spot, reading.source, iso_s(when))
        return item

    def close_spider(self) -> None:
        if not self.hours:
            return
        root = Path(self.context.config.STAKTRAKR_API_DIR)
        try:
            written = write_spot_files(root, self.context.db, sorted(self.hours), sorted(self.floors))
        except (OSError, StoreError) as exc:
            logger.error("spot files: not written to %s: %s", root, exc)
            return
        if written:
            shown = ", ".join(written) if len(written) <= 4 else f"{written[0]} … {written[-1]}"
            logger.info("spot files: wrote %d under %s: %s", len(written), root, shown)


# -- the published files -----------------------------------------------------------------------


def hourly_path(hour: datetime) -> str:
    return f"hourly/{hour:%Y/%m/%d/%H}.json"


def quarter_path(floor: datetime) -> str:
    return f"15min/{floor:%Y/%m/%d/%H%M}.json"


def _entry(row: Mapping[str, Any], source: str) -> dict[str, Any]:
    """One entry in the live files' shape."""
    return {
        "spot": row["spot"],
        "metal": row["metal"].capitalize(),
        "source": source,
        "provider": PROVIDER,
        "timestamp": space_ts(parse_time(row["timestamp"])),
    }


def hourly_files(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every reading of each hour, oldest first: the last entry is the freshest (what `health` reads)."""
    by_hour: dict[datetime, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_hour[parse_time(row["timestamp"]).replace(minute=0, second=0, microsecond=0)].append(row)
    return {
        hourly_path(hour): [_entry(r, "hourly") for r in sorted(group, key=lambda r: (r["timestamp"], r["metal"], r["id"]))]
        for hour, group in sorted(by_hour.items())
    }


def quarter_files(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The first poll of each 15-minute floor.

    Only the first: a later poll of the same floor (a second row since B-3) must not change a
    file that is published as immutable. Daily timeframe rates are not polls and stay out.
    """
    by_floor: dict[datetime, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["source"] != SOURCE_TIMEFRAME:
            by_floor[floor_15(parse_time(row["timestamp"]))].append(row)
    files = {}
    for floor, group in sorted(by_floor.items()):
        first = min(r["timestamp"] for r in group)
        chosen: dict[str, Mapping[str, Any]] = {}
        for row in sorted(group, key=lambda r: r["id"]):
            if row["timestamp"] == first:
                chosen.setdefault(row["metal"], row)
        files[quarter_path(floor)] = [_entry(chosen[m], "seed") for m in sorted(chosen)]
    return files


def _valid_json_list(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text(encoding="utf-8")), list)
    except (OSError, ValueError):
        return False


def write_spot_files(root: Path, db: Any, hours: list[datetime], floors: list[datetime]) -> list[str]:
    """Rewrite the hourly files of `hours`; write the 15-minute files of `floors` that are
    missing or unreadable (a NUL-filled file would otherwise stay broken forever)."""
    written = []
    for hour in hours:
        rows = spot_readings_between(db, iso_ms(hour), iso_ms(hour + timedelta(hours=1)))
        for relative, entries in hourly_files(rows).items():
            if write_atomic(root / relative, dumps(entries)):
                written.append(relative)
    for floor in floors:
        relative = quarter_path(floor)
        if _valid_json_list(root / relative):
            continue
        rows = spot_readings_between(db, iso_ms(floor), iso_ms(floor + timedelta(minutes=15)))
        entries = quarter_files(rows).get(relative)
        if entries and write_atomic(root / relative, dumps(entries)):
            written.append(relative)
    return written


def spot_export_files(db: Any, as_of: datetime, hours: int = 24) -> dict[str, Any]:
    """The hourly and 15-minute files of the last `hours` hours, as of `as_of`, from the database."""
    first = as_of.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    cutoff = iso_ms(as_of)
    rows = [r for r in spot_readings_between(db, iso_ms(first), iso_ms(as_of + timedelta(seconds=1))) if r["timestamp"] <= cutoff]
    return {**hourly_files(rows), **quarter_files(rows)}


# -- spot-relative retail bounds ---------------------------------------------------------------


def _getdict(settings: Any, name: str) -> dict[str, Any]:
    if settings is None:
        return {}
    if hasattr(settings, "getdict"):
        return dict(settings.getdict(name))
    value = settings.get(name) if isinstance(settings, Mapping) else None
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


def _pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = (_number(v) for v in value)
        if low is not None and high is not None and 0 < low < high:
            return low, high
    return None


_warned: set[str] = set()


def retail_factors(coin: Coin, settings: Any) -> tuple[float, float]:
    """(lower, upper) multiple of melt value: STAKTRAKR_SPOT_BOUNDS by slug, then by metal, then defaults."""
    overrides = _getdict(settings, "STAKTRAKR_SPOT_BOUNDS")
    for key in (coin.slug, coin.metal.value):
        if key not in overrides:
            continue
        pair = _pair(overrides[key])
        if pair is not None:
            return pair
        if key not in _warned:  # once per process, not once per item
            _warned.add(key)
            logger.warning("STAKTRAKR_SPOT_BOUNDS[%r] = %r is not [lower, upper] with 0 < lower < upper; ignored", key, overrides[key])
    if coin.metal is Metal.goldback:
        return DEFAULT_GOLDBACK_FACTORS
    if coin.fine_oz < 1:
        return DEFAULT_FRACTIONAL_FACTORS
    return DEFAULT_BULLION_FACTORS


def _factor(value: float) -> str:
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def spot_bounds(coin: Coin, db: Any, now: datetime, settings: Any) -> tuple[float, float, str] | None:
    max_age = DEFAULT_SPOT_MAX_AGE_HOURS
    if settings is not None and hasattr(settings, "getfloat"):
        max_age = settings.getfloat("STAKTRAKR_SPOT_MAX_AGE_HOURS", DEFAULT_SPOT_MAX_AGE_HOURS)
    metal = coin.spot_metal.value
    reading = latest_spot(db, metal, iso_ms(now - timedelta(hours=max_age)), iso_ms(now))
    if reading is None:
        return None
    low, high = retail_factors(coin, settings)
    melt = reading["spot"] * coin.fine_oz
    basis = f"{_factor(low)}-{_factor(high)}x melt {melt:,.2f} ({metal} spot {reading['spot']:,.2f} at {iso_s(parse_time(reading['timestamp']))})"
    return melt * low, melt * high, basis


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def staktrakr_spiders() -> list[type]:
    return [SpotSpider]


@hookimpl
def staktrakr_export_files(db: Any, as_of: str, coins: dict[str, Coin]) -> dict[str, Any]:
    return spot_export_files(db, parse_time(as_of))


@hookimpl
def staktrakr_price_bounds(coin: Coin, db: Any, now: str, settings: Any) -> tuple[float, float, str] | None:
    return spot_bounds(coin, db, parse_time(now), settings)


# The health check and the backfill importer live in their own modules, imported only when asked
# for (a crawl never needs them).
@hookimpl
def staktrakr_health_checks() -> list[Any]:
    from .checks import health_checks

    return health_checks()


@hookimpl
def staktrakr_backfill_importers() -> list[Any]:
    from .importers import backfill_importers

    return backfill_importers()
