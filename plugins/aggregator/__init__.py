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

from typing import Any

from staktrakr.hookspecs import hookimpl

from .spider import AggregatorSpider
from .settings import default_settings


@hookimpl
def staktrakr_spiders() -> list[type]:
    return [AggregatorSpider]


@hookimpl
def staktrakr_default_settings() -> dict[str, Any]:
    return default_settings()
