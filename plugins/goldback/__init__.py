"""Goldback feed plugin: the official G1 USD rate, `api/goldback-spot.json` and `goldback-YYYY.json`.

    scrapy crawl goldback            scrape today's rate unless it is already stored
    scrapy crawl goldback -a force=1 scrape again (the day's entry becomes the newer rate)

The live scraper took the most frequent dollar amount between 0.50 and 20.00 on the page, which
a promotion or a shipping threshold can outvote, and the export could overwrite the rate file from
retail prices, which made the scraper skip and the year history miss days (B-10). Here the rate
is the amount labelled for G1 ("1 Goldback", "G1", in a table or a sentence); when the page only
lists other denominations, G1 is their value per unit, provided they agree. The files are built
from stored scrapes only, with every denomination (G½ and G2 included).

The package by job: `settings`, `page` (reading the rate page), `items`, `spider`, `pipeline`
(the rows), `store` (its table, its SQL, its migration), `files` (the published files, written by
the export only), `checks` (health) and `importers` (backfill).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from staktrakr.hookspecs import hookimpl
from staktrakr.models import Coin
from staktrakr.store.migrations import Migration
from staktrakr.timeutil import parse_time

from .files import goldback_files
from .settings import GoldbackSettings, default_settings
from .spider import GoldbackSpider
from .store import MIGRATIONS, latest_goldback_rate

GOLDBACK_METAL = "goldback"


@hookimpl
def staktrakr_spiders() -> list[type]:
    return [GoldbackSpider]


@hookimpl
def staktrakr_default_settings() -> dict[str, Any]:
    return default_settings()


@hookimpl
def staktrakr_config_fields() -> type[GoldbackSettings]:
    return GoldbackSettings


@hookimpl
def staktrakr_migrations() -> list[Migration]:
    return list(MIGRATIONS)


@hookimpl
def staktrakr_export_files(db: Any, as_of: str, coins: Mapping[str, Coin]) -> dict[str, Any]:
    return goldback_files(db, parse_time(as_of))


@hookimpl
def staktrakr_spot_price(db: Any, metal: str, since: str, until: str) -> dict[str, Any] | None:
    # A Goldback is priced against the official G1 rate, not its gold content: the export asks
    # for metal "goldback" (USD per G unit) when it measures Goldback premiums.
    if metal != GOLDBACK_METAL:
        return None
    row = latest_goldback_rate(db, since, until)
    return {"spot": row["g1_usd"], "timestamp": row["scraped_at"]} if row is not None else None


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
