"""The spot feed's settings: its environment variables (a section of the configuration), its
Scrapy settings with their defaults, and how a settings value is read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from staktrakr.config import http_url

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


def default_settings() -> dict[str, Any]:
    """The Scrapy settings the feed reads (hook `staktrakr_default_settings`); settings.py and
    `-s NAME=value` override them."""
    return {
        # A spot reading outside these USD/oz bounds is rejected (a rate that was not inverted, a zero).
        "STAKTRAKR_SPOT_SANE_BOUNDS": {metal: list(pair) for metal, pair in DEFAULT_SANE_BOUNDS.items()},
        # Retail price / melt value allowed while spot is fresh, per coin slug or metal; defaults:
        # 0.97-2.0 for coins of 1 oz or more, 0.97-3.0 for fractional pieces, 1.2-4.0 for Goldbacks.
        "STAKTRAKR_SPOT_BOUNDS": {},
        "STAKTRAKR_SPOT_MAX_AGE_HOURS": DEFAULT_SPOT_MAX_AGE_HOURS,  # older spot: the static bounds apply
    }


class SpotSettings(BaseModel):
    """The spot feed's environment variables (hook `staktrakr_config_fields`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    METAL_PRICE_API_KEY: SecretStr | None = Field(None, description="MetalPriceAPI key.")
    METALPRICE_API_URL: str = Field("https://api.metalpriceapi.com", description="MetalPriceAPI base URL.")

    @field_validator("METALPRICE_API_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)


def number(value: Any) -> float | None:
    """A real number (not a bool) as float, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def setting_dict(settings: Any, name: str) -> dict[str, Any]:
    """A dict setting from Scrapy settings, a mapping (JSON text accepted) or nothing."""
    if settings is None:
        return {}
    if hasattr(settings, "getdict"):
        return dict(settings.getdict(name))
    value = settings.get(name) if isinstance(settings, Mapping) else None
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


def factor_pair(value: Any) -> tuple[float, float] | None:
    """[low, high] with 0 < low < high, else None."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = (number(v) for v in value)
        if low is not None and high is not None and 0 < low < high:
            return low, high
    return None
