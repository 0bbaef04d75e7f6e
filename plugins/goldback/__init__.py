"""Goldback feed plugin: the official G1 USD rate, `api/goldback-spot.json` and `goldback-YYYY.json`.

    scrapy crawl goldback            scrape today's rate unless it is already stored
    scrapy crawl goldback -a force=1 scrape again (the day's entry becomes the newer rate)

The live scraper took the most frequent dollar amount between 0.50 and 20.00 on the page, which
a promotion or a shipping threshold can outvote, and the export could overwrite the rate file from
retail prices, which made the scraper skip and the year history miss days (B-10). Here the rate
is the amount labelled for G1 ("1 Goldback", "G1", in a table or a sentence); when the page only
lists other denominations, G1 is their value per unit, provided they agree. The files are built
from stored scrapes only, with every denomination (G½ and G2 included).
"""

from __future__ import annotations

import json
import logging
import re
import statistics
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import scrapy
from pydantic import BaseModel
from scrapy.http import Response
from twisted.python.failure import Failure

from staktrakr.catalogue import GOLDBACK_DENOMINATIONS
from staktrakr.config import parse_flag
from staktrakr.crawl_context import CrawlContext
from staktrakr.errors import StaktrakrError, StoreError
from staktrakr.export.writer import dumps, write_atomic
from staktrakr.extract.money import clean_text, round2
from staktrakr.extract.page import Page
from staktrakr.hookspecs import hookimpl
from staktrakr.models import Coin, Status
from staktrakr.store.goldback import (
    GoldbackRate,
    daily_goldback_rates,
    insert_goldback_rate,
)
from staktrakr.store.ids import new_id
from staktrakr.timeutil import iso_ms, parse_time, utcnow

from ..spot import add_component  # moves to the core in the split

logger = logging.getLogger(__name__)

SOURCE = "goldback.com"
SPOT_FILE = "api/goldback-spot.json"
# G1 in USD outside which the page was misread: a G1 holds 1/1000 oz of gold and trades at about
# twice its gold value. Setting STAKTRAKR_GOLDBACK_BAND.
DEFAULT_BAND = (2.0, 50.0)
# Denomination values derived from one another must agree this closely (the page rounds to cents).
AGREEMENT = 0.01

UNITS: dict[str, float] = {denom: units for denom, (units, _label, _gold) in GOLDBACK_DENOMINATIONS.items()}
_DENOM_OF_UNITS = {units: denom for denom, units in UNITS.items()}
_WORDS = {"½": 0.5, "1/2": 0.5, "half": 0.5, "one": 1, "two": 2, "five": 5, "ten": 10, "fifty": 50}

# "G1", "G 5", "G½", "G1/2" — or "1 Goldback", "One Goldback", "50 Goldbacks", "½ Goldback".
_LABEL = (
    r"(?:(?<![\w$.])G\s?(?P<g>½|1/2|\d{1,2})(?![\d/½.,])"
    r"|(?<![\w$.,/])(?P<n>½|1/2|\d{1,2}|half|one|two|five|ten|twenty[- ]five|fifty)\s*[-\s]?\s*goldbacks?\b)"
)
_LABEL_RE = re.compile(_LABEL, re.IGNORECASE)
# A label directly followed by its amount: "1 Goldback = $10.06", "One Goldback $ 10.06", "G5: $50.30".
_PROSE_RE = re.compile(
    _LABEL + r"\s*(?:=|:|is|-|–|—|→)?\s*(?:USD\s*)?\$\s*(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?![\d,]*\d)",
    re.IGNORECASE,
)
_AMOUNT_RE = re.compile(r"\$\s*(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?![\d,]*\d)")
# Signs that the rate is filled in by JavaScript after the page loads.
_EMPTY_RATE_ELEMENT = re.compile(r'<(\w+)[^>]*\b(?:id|class)="[^"]*(?:rate|price|exchange)[^"]*"[^>]*>\s*</\1>', re.IGNORECASE)
_DOLLAR_WITHOUT_AMOUNT = re.compile(r"\$\s*$", re.MULTILINE)


# -- errors ------------------------------------------------------------------------------------


class GoldbackRateError(StaktrakrError):
    """The page did not yield a G1 rate that can be trusted; the message says why."""

    def __init__(self, message: str, *, client_rendered: bool = False):
        super().__init__(message)
        self.client_rendered = client_rendered


class GoldbackRateNotFound(GoldbackRateError):
    """No amount labelled for any denomination."""


class GoldbackRateInconsistent(GoldbackRateError):
    """The page gives rates that contradict each other."""


class GoldbackRateOutOfBand(GoldbackRateError):
    """The rate is outside STAKTRAKR_GOLDBACK_BAND."""


# -- reading the page --------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    units: float  # G units of the denomination (0.5 … 50)
    value: float  # USD
    where: str  # "table" or "text"

    @property
    def label(self) -> str:
        return GOLDBACK_DENOMINATIONS[_DENOM_OF_UNITS[self.units]][1]


class GoldbackQuote(BaseModel):
    """What the page says: the G1 rate, how it was found, and the denominations it lists."""

    g1_usd: float
    method: str
    denominations: dict[str, float]  # as listed on the page, by denomination key (g1, g5, …)
    notes: list[str] = []


def _units(match: re.Match[str]) -> float | None:
    raw = (match["g"] or match["n"] or "").lower().replace(" ", "-")
    units = _WORDS.get(raw, 25 if raw == "twenty-five" else None)
    if units is None and raw.isdigit():
        units = int(raw)
    return float(units) if units is not None and float(units) in _DENOM_OF_UNITS else None


def _amount(text: str) -> float:
    return float(text.replace(",", ""))


def _cell_units(text: str) -> float | None:
    """The denomination a short table cell names ("G½", "1 Goldback (G1)"), if exactly one."""
    if len(text) > 40 or _AMOUNT_RE.search(text):
        return None
    found = {_units(m) for m in _LABEL_RE.finditer(text)} - {None}
    return found.pop() if len(found) == 1 else None


def _from_tables(page: Page) -> list[Found]:
    found: list[Found] = []
    if page.tree is None:
        return found
    for table in page.tree.iter("table"):
        rows = [[clean_text(c.text_content()) for c in tr.iter("td", "th")] for tr in table.iter("tr")]
        for i, cells in enumerate(rows):
            labels = [_cell_units(c) for c in cells]
            named = [j for j, u in enumerate(labels) if u is not None]
            if len(named) == 1:
                # a row per denomination: the first amount after its label
                j = named[0]
                for cell in cells[j + 1 :]:
                    amount = _AMOUNT_RE.search(cell)
                    if amount:
                        found.append(Found(labels[j], _amount(amount[1]), "table"))
                        break
            elif len(named) > 1 and i + 1 < len(rows):
                # a header row of denominations: the amounts are in the next row, same columns
                below = rows[i + 1]
                for j in named:
                    amount = _AMOUNT_RE.search(below[j]) if j < len(below) else None
                    if amount:
                        found.append(Found(labels[j], _amount(amount[1]), "table"))
    return found


def _from_text(page: Page) -> list[Found]:
    text = " ".join(page.visible_text.splitlines())
    found = []
    for match in _PROSE_RE.finditer(text):
        units = _units(match)
        if units is not None:
            found.append(Found(units, _amount(match["amount"]), "text"))
    return found


def client_rendered(page: Page) -> bool:
    return bool(_EMPTY_RATE_ELEMENT.search(page.html) or _DOLLAR_WITHOUT_AMOUNT.search(page.visible_text)) or page.built_by_javascript()


def _agrees(value: float, g1: float) -> bool:
    return abs(value - g1) <= AGREEMENT * g1


def read_rate_page(html: str | bytes) -> GoldbackQuote:
    """The G1 USD rate on the official page, or GoldbackRateError saying why there is none."""
    page = Page(html)
    found = list(dict.fromkeys(_from_tables(page) + _from_text(page)))
    if not found:
        raise GoldbackRateNotFound(
            "no amount labelled for G1 or any other denomination on the page", client_rendered=client_rendered(page)
        )
    listed = {_DENOM_OF_UNITS[f.units]: f.value for f in sorted(found, key=lambda f: (f.units, f.where != "table"))}
    g1_values = sorted({f.value for f in found if f.units == 1})
    others = [f for f in found if f.units != 1]
    if len(g1_values) > 1:
        raise GoldbackRateInconsistent("the page gives different G1 rates: " + ", ".join(f"${v:,.2f}" for v in g1_values))
    if g1_values:
        g1 = g1_values[0]
        where = sorted({f.where for f in found if f.units == 1})
        notes = [
            f"{f.label} ${f.value:,.2f} implies G1 ${f.value / f.units:,.3f}, not ${g1:,.2f}"
            for f in others
            if not _agrees(f.value / f.units, g1)
        ]
        agreeing = list(dict.fromkeys(f.label for f in sorted(others, key=lambda f: f.units) if _agrees(f.value / f.units, g1)))
        method = f"G1 labelled ({'/'.join(where)})" + (f", agrees with {', '.join(agreeing)}" if agreeing else "")
        return GoldbackQuote(g1_usd=g1, method=method, denominations=listed, notes=notes)
    per_unit = {f: f.value / f.units for f in others}
    middle = statistics.median(per_unit.values())
    odd = [f for f, v in per_unit.items() if not _agrees(v, middle)]
    if odd:
        detail = ", ".join(f"{f.label} ${f.value:,.2f} -> ${v:,.3f}" for f, v in sorted(per_unit.items(), key=lambda kv: kv[0].units))
        raise GoldbackRateInconsistent(f"no G1 on the page and the other denominations disagree per G unit: {detail}")
    # The largest denomination carries the most digits of the per-unit rate.
    largest = max(others, key=lambda f: f.units)
    labels = ", ".join(f.label for f in sorted(set(others), key=lambda f: f.units))
    return GoldbackQuote(
        g1_usd=round2(largest.value / largest.units),
        method=f"derived from {labels} ({'/'.join(sorted({f.where for f in others}))})",
        denominations=listed,
    )


def goldback_band(settings: Any) -> tuple[float, float]:
    """STAKTRAKR_GOLDBACK_BAND as [low, high] (a list, or JSON / "low,high" on the command line)."""
    raw = settings.get("STAKTRAKR_GOLDBACK_BAND") if settings is not None else None
    if raw in (None, "", [], ()):
        return DEFAULT_BAND
    try:
        values = json.loads(raw) if isinstance(raw, str) and raw.strip().startswith("[") else raw
        if isinstance(values, str):
            values = values.split(",")
        low, high = (float(v) for v in values)
    except (TypeError, ValueError):
        low = high = 0.0
    if not 0 < low < high:
        raise GoldbackRateError(f"STAKTRAKR_GOLDBACK_BAND must be [low, high] USD with 0 < low < high; got {raw!r}")
    return low, high


def check_band(g1_usd: float, band: tuple[float, float]) -> float:
    low, high = band
    if not low <= g1_usd <= high:
        raise GoldbackRateOutOfBand(f"G1 ${g1_usd:,.2f} is outside the plausible band ${low:g}-${high:g} (STAKTRAKR_GOLDBACK_BAND)")
    return g1_usd


# -- item and spider ---------------------------------------------------------------------------


class GoldbackRateItem(scrapy.Item):
    g1_usd = scrapy.Field()
    status = scrapy.Field()  # counted by the RunRecorder
    method = scrapy.Field()
    reason = scrapy.Field()
    url = scrapy.Field()
    scraped_at = scrapy.Field()


def rate_of_day(db: Any, day: str) -> dict[str, Any] | None:
    return next((r for r in daily_goldback_rates(db) if r["date"] == day), None)


class GoldbackSpider(scrapy.Spider):
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

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> GoldbackSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.context = CrawlContext.of(crawler)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        try:
            self.band = goldback_band(self.settings)
        except GoldbackRateError as exc:
            self.logger.error("goldback: %s", exc)
            self.crawler.stats.set_value("staktrakr/fatal", str(exc))
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
            self.context.config.GOLDBACK_URL, callback=self.parse_page, errback=self.download_failed, meta=meta, dont_filter=True
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
        name = failure.type.__name__ if failure.type else "Error"
        text = failure.getErrorMessage() or name
        if "timeout" in name.lower() or "took longer than" in text:
            text = f"no answer within {self.settings.getint('DOWNLOAD_TIMEOUT')} s (DOWNLOAD_TIMEOUT)"
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


class GoldbackStorePipeline:
    """Stores the scraped rate; when the crawl ends, rewrites the Goldback files from the database."""

    def __init__(self, crawler: Any):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.stored = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> GoldbackStorePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, GoldbackRateItem):
            return item
        if item["status"] != Status.ok.value:
            self.stats.inc_value("staktrakr/status/error")
            logger.warning("goldback G1 error  %s (%s)", item.get("reason"), item.get("url"))
            return item
        when = parse_time(item["scraped_at"])
        poller = self.context.config.POLLER_ID
        rate = GoldbackRate(
            id=new_id(poller, when),
            poller_id=poller,
            date=when.date().isoformat(),
            g1_usd=item["g1_usd"],
            scraped_at=iso_ms(when),
            source=SOURCE,
            url=item.get("url"),
        )
        try:
            insert_goldback_rate(self.context.db, rate)
        except StoreError as exc:
            item["status"], item["reason"] = Status.error.value, f"not stored: {exc}"
            logger.error("goldback G1 not stored: %s", exc)
            return item
        self.stored = True
        self.stats.inc_value("staktrakr/status/ok")
        logger.info("goldback G1 ok  $%.2f for %s  (%s)", rate.g1_usd, rate.date, item.get("method"))
        return item

    def close_spider(self) -> None:
        if not self.stored:
            return
        root = Path(self.context.config.STAKTRAKR_API_DIR)
        try:
            files = goldback_files(self.context.db, utcnow())
            written = [rel for rel, value in files.items() if write_atomic(root / rel, dumps(value))]
        except (OSError, StoreError) as exc:
            logger.error("goldback files: not written to %s: %s", root, exc)
            return
        if written:
            logger.info("goldback files: wrote %s under %s", ", ".join(written), root)


# -- the published files -----------------------------------------------------------------------


def goldback_files(db: Any, as_of: datetime) -> dict[str, Any]:
    """`api/goldback-spot.json` (newest stored rate) and `goldback-YYYY.json` (one entry per day of
    the export's year, newest first), from scraped rates only — never from retail prices."""
    rates = daily_goldback_rates(db, until=iso_ms(as_of))
    if not rates:
        return {}
    latest = rates[0]
    g1 = float(latest["g1_usd"])
    # Fresh from the official page today: high. A carried rate (today's scrape has not happened
    # or failed) or one imported from the old API: medium.
    fresh = latest["date"] == as_of.date().isoformat() and latest["source"] == SOURCE
    files: dict[str, Any] = {
        SPOT_FILE: {
            "date": latest["date"],
            "scraped_at": latest["scraped_at"],
            "g1_usd": g1,
            "denominations": {denom: round2(g1 * units) for denom, units in UNITS.items()},
            "source": SOURCE,
            "confidence": "high" if fresh else "medium",
        }
    }
    year = f"{as_of.year:04d}"
    history = [{"date": r["date"], "g1_usd": r["g1_usd"], "scraped_at": r["scraped_at"]} for r in rates if r["date"][:4] == year]
    if history:
        files[f"goldback-{year}.json"] = history
    return files


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def staktrakr_spiders() -> list[type]:
    return [GoldbackSpider]


@hookimpl
def staktrakr_export_files(db: Any, as_of: str, coins: Mapping[str, Coin]) -> dict[str, Any]:
    return goldback_files(db, parse_time(as_of))


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
