"""Spot feed plugin: MetalPriceAPI readings, the `hourly/` and `15min/` files, spot-relative bounds.

The package by job: `settings` (its variables and settings), `api` (the answers), `api_key`
(the key on the wire only), `items`, `spider`, `pipeline` (the rows), `store` (its table, its
SQL, its migration), `files` (the published files, written by the export only), `bounds`,
`checks` (health) and `importers` (backfill).

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

from typing import Any

from staktrakr.hookspecs import hookimpl
from staktrakr.models import Coin
from staktrakr.store.migrations import Migration
from staktrakr.timeutil import parse_time

from .bounds import spot_bounds
from .files import spot_export_files
from .settings import SpotSettings, default_settings
from .spider import SpotSpider
from .store import MIGRATIONS, latest_spot


@hookimpl
def staktrakr_spiders() -> list[type]:
    return [SpotSpider]


@hookimpl
def staktrakr_default_settings() -> dict[str, Any]:
    return default_settings()


@hookimpl
def staktrakr_config_fields() -> type[SpotSettings]:
    return SpotSettings


@hookimpl
def staktrakr_migrations() -> list[Migration]:
    return list(MIGRATIONS)


@hookimpl
def staktrakr_export_files(db: Any, as_of: str, coins: dict[str, Coin]) -> dict[str, Any]:
    return spot_export_files(db, parse_time(as_of))


@hookimpl
def staktrakr_spot_price(db: Any, metal: str, since: str, until: str) -> dict[str, Any] | None:
    return latest_spot(db, metal, since, until)


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
