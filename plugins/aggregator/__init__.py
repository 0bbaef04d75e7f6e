"""Aggregator gap fill: dealers still failed after the retry pass, read from a price-comparison page.

FindBullionPrices-style sites publish, per coin, a table of dealers with a cash/ACH price, a card
price and a premium. The live system used it as a last resort after the main pass (LIVE-SYSTEM
§2.12, since retired); here it is a plugin of its own, off by default:

    scrapy crawl aggregator -s STAKTRAKR_AGGREGATOR_ENABLED=1     (or the same environment variable)

For every coin with targets whose latest attempt by this poller failed (`failed_targets`) and an
`fbp_url` in the providers, the page is fetched once (download slot "aggregator"), the comparison
table is read, and each failed dealer found there gets a retail row with `method: "aggregator"`.
Dealers not on the page stay failed. The rows go through the same validation (bounds) and storage
as every retail item; a later successful retail attempt supersedes them.

What counts as the dealer's price, and why:

* only the cash column (ACH / cash / check / wire): it matches what the retail pass reads on the
  dealer's own page; card prices and premiums are never used, whatever the column order;
* "As low as $X" is a bulk-tier price, not the price of one coin: such a row is not used;
* a dealer listed more than once (a sponsored "featured" row plus its regular row, two listings
  of the same coin): the cheapest in-stock cash price, which is what a buyer of one coin pays;
  an out-of-stock row is used only when the dealer has no in-stock priced row;
* a row that says "Out of Stock" / "Sold Out" gives `out_of_stock` (with the shown cash price, if
  any), like an out-of-stock product page;
* only the first comparison table of the page counts ("similar products" tables below it are
  about other coins).

Counting: only fills produce items. A page that cannot be fetched or read is logged (coin, URL,
reason, the dealers that stay failed) and counted in the stats, and the run still exits 0; the
run fails (exit 1) only when every fill it made was rejected by validation.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import scrapy
from lxml import etree
from pydantic import BaseModel
from scrapy.http import Response
from scrapy.settings import SETTINGS_PRIORITIES
from twisted.python.failure import Failure

from staktrakr.config import parse_flag
from staktrakr.crawl_context import CrawlContext
from staktrakr.errors import ConfigError, StaktrakrError
from staktrakr.extract.blocked import blocked_reason
from staktrakr.extract.money import clean_text, find_amounts
from staktrakr.extract.page import Page
from staktrakr.extract.payment import CHEAP, pay_labels
from staktrakr.hookspecs import hookimpl
from staktrakr.models import Coin, RetailPriceItem, Status
from staktrakr.providers import resolve_providers
from staktrakr.store.snapshots import failed_targets
from staktrakr.timeutil import iso_ms, utcnow

logger = logging.getLogger(__name__)

ENABLED_SETTING = "STAKTRAKR_AGGREGATOR_ENABLED"
METHOD = "aggregator"
DOWNLOAD_SLOT = "aggregator"

# How comparison sites name dealers -> our dealer ids. Matching ignores case, spaces and
# punctuation, and also accepts the name as the leading words of a longer cell text
# ("Summit Metals ★★★★★ 4.9"). Dealers nobody configures are listed so that they are
# recognised (and ignored) rather than mistaken for a configured one.
DEALER_NAMES: dict[str, str] = {
    "JM Bullion": "jmbullion",
    "JMBullion": "jmbullion",
    "jmbullion.com": "jmbullion",
    "APMEX": "apmex",
    "apmex.com": "apmex",
    "SD Bullion": "sdbullion",
    "SDBullion": "sdbullion",
    "sdbullion.com": "sdbullion",
    "Monument Metals": "monumentmetals",
    "monumentmetals.com": "monumentmetals",
    "Hero Bullion": "herobullion",
    "herobullion.com": "herobullion",
    "Bullion Exchanges": "bullionexchanges",
    "bullionexchanges.com": "bullionexchanges",
    "Summit Metals": "summitmetals",
    "summitmetals.com": "summitmetals",
    "Provident Metals": "providentmetals",
    "providentmetals.com": "providentmetals",
    "Gainesville Coins": "gainesvillecoins",
    "gainesvillecoins.com": "gainesvillecoins",
    "BGASC": "bgasc",
    "bgasc.com": "bgasc",
    "Money Metals Exchange": "moneymetals",
    "Money Metals": "moneymetals",
    "moneymetals.com": "moneymetals",
    "BullionStar US": "bullionstar",
    "BullionStar": "bullionstar",
    "Silver.com": "silvercom",
    "Bullion Standard": "bullionstandard",
}


def _key(name: str) -> str:
    return "".join(re.findall(r"[a-z0-9]+", name.lower()))


_ALIASES: dict[str, str] = {_key(name): vendor for name, vendor in DEALER_NAMES.items()}
_MAX_NAME_WORDS = max(len(name.split()) for name in DEALER_NAMES) + 1

_DEALER_HEAD = re.compile(r"\b(dealers?|sellers?|vendors?|stores?|retailers?|merchants?|shops?)\b", re.IGNORECASE)
_PREMIUM_HEAD = re.compile(r"premium|over\s+spot|above\s+spot", re.IGNORECASE)
_CARD_WORDS = re.compile(r"card|credit|debit|paypal|visa|mastercard|amex", re.IGNORECASE)
_BULK = re.compile(r"\b(as\s+low\s+as|starting\s+at)\b", re.IGNORECASE)
_OUT_OF_STOCK = re.compile(
    r"\b(out[\s-]of[\s-]stock|sold[\s-]out|unavailable|back[\s-]?order(ed)?|notify me when)\b",
    re.IGNORECASE,
)
_OUT_OF_STOCK_CLASS = re.compile(r"out[-_]?of[-_]?stock|sold[-_]?out|\boos\b|is[-_]oos|unavailable", re.IGNORECASE)
_INVISIBLE = ("script", "style", "noscript", "template", "head", "del", "s", "strike")
_HIDDEN_CLASSES = {"hidden", "d-none", "is-hidden", "hide", "invisible", "u-hidden"}
_MAX_HEADER_CELL = 40


class ComparisonPageError(StaktrakrError):
    """The aggregator page holds no comparison table we can read; the message says what was missing."""


class ComparisonRow(BaseModel):
    """One dealer row of a comparison table."""

    position: int  # 1-based, in page order
    dealer_name: str  # as the page shows it (link text, logo alt text or leading words)
    dealer_id: str | None  # through DEALER_NAMES; None for a dealer we do not know
    cash_price: float | None  # first amount of the cash/ACH cell
    bulk_only: bool = False  # the cash cell says "as low as": a bulk-tier price
    in_stock: bool = True


class ComparisonTable(BaseModel):
    url: str
    columns: list[str]
    cash_column: str
    rows: list[ComparisonRow]

    def rows_for(self, vendor: str) -> list[ComparisonRow]:
        return [row for row in self.rows if row.dealer_id == vendor]


class Fill(BaseModel):
    """What the table says about one failed dealer."""

    row: ComparisonRow
    price: float | None
    in_stock: bool
    note: str | None = None  # how the row was chosen, when there was a choice


# -- the setting -----------------------------------------------------------------------------


def aggregator_enabled(settings: Any, environ: Mapping[str, str] | None = None) -> bool:
    """`-s STAKTRAKR_AGGREGATOR_ENABLED=…` wins over the environment variable, which wins over
    the settings module's default (off)."""
    environ = os.environ if environ is None else environ
    priority = settings.getpriority(ENABLED_SETTING)
    if priority is not None and priority >= SETTINGS_PRIORITIES["cmdline"]:
        return _flag(settings.get(ENABLED_SETTING))
    raw = environ.get(ENABLED_SETTING)
    if raw not in (None, ""):
        return _flag(raw)
    return _flag(settings.get(ENABLED_SETTING, False))


def _flag(value: Any) -> bool:
    try:
        return parse_flag(value)
    except ValueError as exc:
        raise ConfigError(f"{ENABLED_SETTING}: {exc} (got {value!r})") from None


# -- reading a comparison page -----------------------------------------------------------------


def dealer_id(name: str) -> tuple[str | None, str]:
    """(dealer id, the words that named it) for a dealer cell's text; (None, text) when unknown."""
    words = clean_text(name).split()
    for count in range(min(_MAX_NAME_WORDS, len(words)), 0, -1):
        found = _ALIASES.get(_key(" ".join(words[:count])))
        if found:
            while count > 1 and not _key(words[count - 1]):
                count -= 1  # "Summit Metals ★★★★★": the stars are not part of the name
            return found, " ".join(words[:count])
    return None, clean_text(name)


def _text(el: etree._Element) -> str:
    return clean_text(el.text_content())


def _cells(row: etree._Element) -> list[etree._Element]:
    """The cells of a table row (colspan expanded) or of a grid row (its child elements)."""
    if row.tag == "tr":
        cells: list[etree._Element] = []
        for cell in row:
            if cell.tag in ("td", "th"):
                try:
                    span = int(cell.get("colspan") or 1)
                except ValueError:
                    span = 1
                cells.extend([cell] * max(1, min(span, 20)))
        return cells
    return [child for child in row if isinstance(child.tag, str)]


def _column_kind(text: str) -> str | None:
    """dealer / cash / card / premium / other for a header cell; None when it is no header cell."""
    if len(text) > _MAX_HEADER_CELL or find_amounts(text):
        return None
    if _DEALER_HEAD.search(text):
        return "dealer"
    if _PREMIUM_HEAD.search(text):
        return "premium"
    cheap = any(label.rank == CHEAP for label in pay_labels(text))
    card = bool(_CARD_WORDS.search(text))
    if cheap and not card:
        return "cash"  # "Cash/ACH", "Check/Wire", "ACH (4% off)"
    if card and not cheap:
        return "card"
    return "premium" if "%" in text else "other"


def _find_header(root: etree._Element) -> tuple[etree._Element, list[str], int, int] | None:
    """The first row whose cells name a dealer column and a cash column: (row, labels, dealer, cash)."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        cells = _cells(el)
        if len(cells) < 2:
            continue
        labels = [_text(cell) for cell in cells]
        kinds = [_column_kind(label) for label in labels]
        if None in [kinds[i] for i, label in enumerate(labels) if label]:
            continue  # a cell with a price or a long text: a data row or a container
        if "dealer" in kinds and "cash" in kinds:
            # Several cash columns ("ACH" and "Check/Wire"): the first one.
            return el, labels, kinds.index("dealer"), kinds.index("cash")
    return None


def _rows_after(header: etree._Element) -> list[etree._Element]:
    if header.tag == "tr":
        table = next(header.iterancestors("table"), None)
        scope = table if table is not None else header.getparent()
        rows, after = [], False
        for tr in scope.iter("tr"):
            if tr is header:
                after = True
            elif after and next(tr.iterancestors("table"), None) is table:
                rows.append(tr)
        return rows
    rows = [sibling for sibling in header.itersiblings() if isinstance(sibling.tag, str)]
    if not any(len(_cells(row)) >= 2 for row in rows):
        # head and body in separate containers (a <div> "thead" and "tbody")
        parent = header.getparent()
        siblings = parent.itersiblings() if parent is not None else ()
        rows = [child for sibling in siblings if isinstance(sibling.tag, str) for child in sibling if isinstance(child.tag, str)]
    return rows


def _dealer_of(cell: etree._Element) -> tuple[str | None, str]:
    """Link text first, then a logo's alt/title text, then the cell's leading words."""
    candidates = [_text(a) for a in cell.iter("a")]
    candidates += [clean_text(img.get("alt") or img.get("title") or "") for img in cell.iter("img")]
    candidates.append(_text(cell))
    candidates = [c for c in candidates if c]
    for candidate in candidates:
        found, shown = dealer_id(candidate)
        if found:
            return found, shown
    return None, candidates[0][:60] if candidates else ""


def _out_of_stock(row: etree._Element) -> bool:
    """A stock word in the row's visible text, or a state class on the row itself (a badge's own
    class proves nothing: themes ship hidden "sold out" badges in every row)."""
    return bool(_OUT_OF_STOCK.search(_text(row)) or _OUT_OF_STOCK_CLASS.search(row.get("class") or ""))


def _visible_root(page: Page) -> etree._Element:
    root = copy.deepcopy(page.tree)
    for el in list(root.iter(*_INVISIBLE)):
        if el.getparent() is not None:
            el.drop_tree()  # struck-through old prices go too; the text after them stays
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        style = (el.get("style") or "").replace(" ", "").lower()
        classes = set((el.get("class") or "").lower().split())
        if el.get("hidden") is not None or "display:none" in style or "visibility:hidden" in style or classes & _HIDDEN_CLASSES:
            el.drop_tree()
    return root


def parse_comparison(html: str | bytes, url: str = "") -> ComparisonTable:
    """The dealer rows of the page's first comparison table; ComparisonPageError when there is none."""
    page = Page(html, url=url)
    if page.tree is None:
        raise ComparisonPageError("the page is empty")
    found = _find_header(_visible_root(page))
    if found is None:
        wall = blocked_reason(page)
        what = f"it looks like a bot wall ({wall})" if wall else f"page title {page.title!r}"
        raise ComparisonPageError(
            "no comparison table: no header row with a 'Dealer' column and a cash/ACH/check/wire price column "
            f"({what})"
        )
    header, labels, dealer_col, cash_col = found
    rows = []
    for element in _rows_after(header):
        cells = _cells(element)
        if len(cells) <= max(dealer_col, cash_col) or cells[dealer_col] is cells[cash_col]:
            continue  # a full-width promo or note row
        vendor, shown = _dealer_of(cells[dealer_col])
        if not shown:
            continue
        cash_text = _text(cells[cash_col])
        amounts = find_amounts(cash_text)
        rows.append(
            ComparisonRow(
                position=len(rows) + 1,
                dealer_name=shown,
                dealer_id=vendor,
                cash_price=amounts[0].value if amounts else None,
                bulk_only=bool(_BULK.search(cash_text)),
                in_stock=not _out_of_stock(element),
            )
        )
    if not rows:
        raise ComparisonPageError(f"the comparison table (columns {labels}) has no dealer rows")
    return ComparisonTable(url=url, columns=labels, cash_column=labels[cash_col], rows=rows)


def choose_fill(rows: list[ComparisonRow]) -> tuple[Fill | None, str]:
    """The row that speaks for a dealer (see the module docstring), or None and why not."""
    if not rows:
        return None, "not listed on the comparison page"
    priced = [r for r in rows if r.in_stock and r.cash_price is not None and not r.bulk_only]
    if priced:
        best = min(priced, key=lambda r: r.cash_price or 0.0)
        note = f"cheapest in-stock cash price of {len(rows)} rows" if len(rows) > 1 else None
        return Fill(row=best, price=best.cash_price, in_stock=True, note=note), ""
    out = [r for r in rows if not r.in_stock]
    if out:
        row = out[0]
        return Fill(row=row, price=None if row.bulk_only else row.cash_price, in_stock=False, note="out of stock"), ""
    if any(r.bulk_only for r in rows):
        return None, "the comparison page only gives an 'as low as' (bulk) cash price"
    return None, "no cash/ACH price in the dealer's row"


def _host(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


# -- the spider --------------------------------------------------------------------------------


class AggregatorSpider(scrapy.Spider):
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
            settings.set("EXTENSIONS", extensions, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AggregatorSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.context = CrawlContext.of(crawler)
        return spider

    def plan(self) -> dict[Coin, list[str]]:
        """Failed dealers per coin, for targets that are still enabled in the providers."""
        context = self.context
        providers = resolve_providers(context.config, context.db)
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
            logger.error("%s", exc)
            stats.set_value("staktrakr/fatal", str(exc))
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
        source = f"from {_host(response.url)} comparison table"
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


@hookimpl
def staktrakr_spiders() -> list[type]:
    return [AggregatorSpider]
