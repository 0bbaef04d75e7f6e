"""The Goldback feed's settings: its environment variable (the rate page's URL, a section of the
configuration) and its Scrapy setting, the plausible band of the G1 rate."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from staktrakr.config import http_url

from .page import GoldbackRateError

# G1 in USD outside which the page was misread: a G1 holds 1/1000 oz of gold and trades at about
# twice its gold value. Setting STAKTRAKR_GOLDBACK_BAND.
DEFAULT_BAND = (2.0, 50.0)


def default_settings() -> dict[str, Any]:
    """The Scrapy settings the feed reads (hook `staktrakr_default_settings`)."""
    return {"STAKTRAKR_GOLDBACK_BAND": list(DEFAULT_BAND)}  # plausible USD per G1


class GoldbackSettings(BaseModel):
    """The Goldback feed's environment variables (hook `staktrakr_config_fields`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    GOLDBACK_URL: str = Field("https://www.goldback.com/exchange-rates/", description="Official Goldback rate page.")

    @field_validator("GOLDBACK_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)


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
