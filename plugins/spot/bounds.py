"""Spot-relative retail bounds (hook `staktrakr_price_bounds`): while a recent spot price is
known, a retail price must lie within a multiple of the coin's melt value."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from staktrakr.models import Coin, Metal
from staktrakr.timeutil import iso_ms, iso_s, parse_time

from .settings import (
    DEFAULT_BULLION_FACTORS,
    DEFAULT_FRACTIONAL_FACTORS,
    DEFAULT_GOLDBACK_FACTORS,
    DEFAULT_SPOT_MAX_AGE_HOURS,
    factor_pair,
    setting_dict,
)
from .store import latest_spot

logger = logging.getLogger(__package__)  # one name for the feed's log lines, whichever module logs

_warned: set[str] = set()


def retail_factors(coin: Coin, settings: Any) -> tuple[float, float]:
    """(lower, upper) multiple of melt value: STAKTRAKR_SPOT_BOUNDS by slug, then by metal, then defaults."""
    overrides = setting_dict(settings, "STAKTRAKR_SPOT_BOUNDS")
    for key in (coin.slug, coin.metal.value):
        if key not in overrides:
            continue
        pair = factor_pair(overrides[key])
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
