"""Plugin hook specifications. Built-in features (dealers, feeds, vision, publishing) use only
these, like a third-party package would; docs/ARCHITECTURE.md shows which feature uses which.

A feature is one package: its Scrapy components, tables, settings, environment variables, API
files, health checks, backfill importers and commands all come in through the hooks below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from pydantic import BaseModel

    from .extract.page import Page
    from .models import Coin, DealerProfile, ExtractionResult, Target
    from .store.migrations import Migration

hookspec = pluggy.HookspecMarker("staktrakr")
hookimpl = pluggy.HookimplMarker("staktrakr")


# -- dealers ----------------------------------------------------------------------------------


@hookspec
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    """Called when the crawler starts; return the DealerProfile(s) this plugin provides."""


@hookspec(firstresult=True)
def staktrakr_extract_price(page: Page, target: Target, profile: DealerProfile) -> ExtractionResult | None:
    """Called before the generic chain for each page; return a result to override it, or None."""


# -- the crawl ----------------------------------------------------------------------------------


@hookspec
def staktrakr_spiders() -> list[type]:
    """Called by the spider loader; return extra Scrapy spider classes (e.g. `spot`, `goldback`)."""


@hookspec
def staktrakr_crawl_components() -> dict[str, dict[str, int]] | None:
    """Called when a crawl's settings are built; return the Scrapy components to add, by setting
    name: {"ITEM_PIPELINES": {"pkg.module.Class": 500}, "EXTENSIONS": {...},
    "DOWNLOADER_MIDDLEWARES": {...}, "SPIDER_MIDDLEWARES": {...}}. `-s` overrides still win."""


@hookspec
def staktrakr_default_settings() -> dict[str, Any] | None:
    """Called when a crawl's settings are built; return the Scrapy settings this plugin reads,
    with their defaults. They have the lowest priority: settings.py and `-s` override them."""


@hookspec(firstresult=True)
def staktrakr_price_bounds(coin: Coin, db: Any, now: str, settings: Any) -> tuple[float, float, str] | None:
    """Called by validation per item; return (low, high, basis) to replace the static bounds, or None."""


@hookspec
def staktrakr_validate_item(item: dict[str, Any], coin: Coin) -> str | None:
    """Called by validation after the bounds check; return a rejection reason, or None to accept."""


@hookspec
def staktrakr_run_figures(stats: dict[str, Any]) -> dict[str, Any] | None:
    """Called when a crawl's poller_runs row is about to be closed, with the crawl's stats;
    return this plugin's own columns of that row (added by its migrations) and their values,
    or None when it has nothing to add (e.g. the feature was off)."""


@hookspec
def staktrakr_run_finished(run: dict[str, Any], stats: dict[str, Any]) -> None:
    """Called when a crawl's poller_runs row has been written, with that row and the crawl's
    stats (after the run's summary is logged: a plugin may add its own summary lines)."""


# -- storage and configuration -----------------------------------------------------------------


@hookspec
def staktrakr_migrations() -> list[Migration] | None:
    """Called before a database is used; return the migrations of this plugin's own tables and
    columns (component = the plugin's name, versions 1, 2, ... in order; append only)."""


@hookspec
def staktrakr_config_fields() -> type[BaseModel] | None:
    """Called when the configuration is checked; return a pydantic model of the environment
    variables this plugin reads (field name = variable name; secrets as SecretStr, so that they
    are redacted everywhere)."""


# -- the published API ----------------------------------------------------------------------------


@hookspec
def staktrakr_export_files(db: Any, as_of: str, coins: dict[str, Coin]) -> dict[str, Any] | None:
    """Called by `staktrakr export`; return {relative path: JSON value} of extra files to write."""


@hookspec(firstresult=True)
def staktrakr_spot_price(db: Any, metal: str, since: str, until: str) -> dict[str, Any] | None:
    """Called by the export (melt values of the retail figures); return the newest spot reading
    of `metal` (gold, silver, ...) taken in [since, until] as {"spot": USD/oz, "timestamp": ISO
    UTC}, or None. A spot feed plugin answers it from its own table. Metal `goldback` asks for
    the Goldback rate (USD per G unit), which the Goldback plugin answers."""


@hookspec
def staktrakr_publish(data_dir: str, manifest: dict[str, Any], config: Any) -> str | None:
    """Called by `staktrakr publish` after the export; publish the data root, return a summary line."""


@hookspec
def staktrakr_health_checks() -> list[Any] | None:
    """Called by `staktrakr health` and /metrics; return HealthCheck objects
    (staktrakr.health.HealthCheck) judging the freshness of the files this plugin publishes."""


@hookspec
def staktrakr_backfill_importers() -> list[Any] | None:
    """Called by `staktrakr backfill`; return BackfillImporter objects (staktrakr.backfill)
    that read this plugin's files of a published data root back into its tables."""


# -- the command line ------------------------------------------------------------------------------


@hookspec
def staktrakr_cli_commands(cli: click.Group) -> None:
    """Called when the CLI is built; add click commands to the `staktrakr` group."""
