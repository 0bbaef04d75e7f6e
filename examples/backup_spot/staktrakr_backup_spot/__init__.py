"""staktrakr-backup-spot: an example feature plugin, a second spot source.

MetalPriceAPI's free plan allows 100 requests a month; the hourly spot poll needs 720. When the
spot plugin has no fresh price for a metal (its poll failed, or the quota ran out), the
`backup_spot` spider asks gold-api.com (no key) for that metal, stores the answer in the plugin's
own table and the export publishes `backup-spot/latest.json`; the export's melt values use it
when MetalPriceAPI has nothing recent (hook `staktrakr_spot_price`, asked after the spot plugin).

Everything comes in through staktrakr's hooks; staktrakr finds the module through the entry
point in pyproject.toml and never names it:

    spiders          staktrakr_spiders              the `backup_spot` spider
    settings         staktrakr_default_settings     BACKUP_SPOT_PRIMARY_MAX_AGE_MIN, ..._SANE_BOUNDS
    variables        staktrakr_config_fields        BACKUP_SPOT_URL
    table            staktrakr_migrations           backup_spot_prices
    API file         staktrakr_export_files         backup-spot/latest.json
    spot price       staktrakr_spot_price           the newest backup reading (asked last)
    health           staktrakr_health_checks        feed `backup_spot`
    backfill         staktrakr_backfill_importers   family `backup_spot`
"""

from __future__ import annotations

from typing import Any

from staktrakr.hookspecs import hookimpl
from staktrakr.store.migrations import Migration
from staktrakr.timeutil import parse_time

from .settings import BackupSpotSettings, default_settings
from .store import MIGRATIONS, latest_reading


@hookimpl
def staktrakr_spiders() -> list[type]:
    from .spider import BackupSpotSpider

    return [BackupSpotSpider]


@hookimpl
def staktrakr_default_settings() -> dict[str, Any]:
    return default_settings()


@hookimpl
def staktrakr_config_fields() -> type[BackupSpotSettings]:
    return BackupSpotSettings


@hookimpl
def staktrakr_migrations() -> list[Migration]:
    return list(MIGRATIONS)


@hookimpl
def staktrakr_export_files(db: Any, as_of: str, coins: dict[str, Any]) -> dict[str, Any]:
    from .files import export_files

    return export_files(db, parse_time(as_of))


# Asked after every other spot source: the backup answers only when they have nothing recent.
@hookimpl(trylast=True)
def staktrakr_spot_price(db: Any, metal: str, since: str, until: str) -> dict[str, Any] | None:
    return latest_reading(db, metal, since, until)


@hookimpl
def staktrakr_health_checks() -> list[Any]:
    from .checks import health_checks

    return health_checks()


@hookimpl
def staktrakr_backfill_importers() -> list[Any]:
    from .importers import backfill_importers

    return backfill_importers()
