"""The plugin's environment variable (a section of staktrakr's configuration) and its Scrapy
settings with their defaults."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from staktrakr.config import http_url

METALS = ("gold", "silver", "platinum", "palladium")
SYMBOLS = {"gold": "XAU", "silver": "XAG", "platinum": "XPT", "palladium": "XPD"}


class BackupSpotSettings(BaseModel):
    """Hook `staktrakr_config_fields`: `staktrakr` reads, checks and documents it like its own."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    BACKUP_SPOT_URL: str = Field("https://api.gold-api.com", description="Backup spot source (gold-api.com API, no key).")

    @field_validator("BACKUP_SPOT_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)


def default_settings() -> dict[str, Any]:
    """Hook `staktrakr_default_settings`; settings.py and `-s NAME=value` override them."""
    return {
        # A metal whose newest spot price (from any spot plugin) is older than this is polled
        # from the backup source. MetalPriceAPI is polled hourly: 75 minutes is one missed poll.
        "BACKUP_SPOT_PRIMARY_MAX_AGE_MIN": 75,
        # USD per troy ounce outside which an answer is garbage.
        "BACKUP_SPOT_SANE_BOUNDS": {"gold": [500, 50000], "silver": [5, 2000], "platinum": [100, 20000], "palladium": [100, 20000]},
    }
