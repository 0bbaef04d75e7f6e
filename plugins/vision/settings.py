"""The vision cross-check's environment variables and Scrapy settings, with their defaults.

On only with VISION_ENABLED=1 and GEMINI_API_KEY (environment; GEMINI_BASE_URL points it at
another endpoint). Off, none of the VISION_* settings has any effect and the crawl is unchanged.
The VISION_* settings come in through the hook `staktrakr_default_settings` at the lowest
priority: `-s VISION_MAX_CALLS=10` or a project's settings.py still win.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from staktrakr.config import http_url, parse_flag


class VisionSettings(BaseModel):
    """The plugin's environment variables (hook `staktrakr_config_fields`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    VISION_ENABLED: bool = Field(False, description="Turn the vision cross-check on (needs GEMINI_API_KEY).")
    GEMINI_API_KEY: SecretStr | None = Field(None, description="Gemini API key for the vision cross-check.")
    GEMINI_BASE_URL: str | None = Field(None, description="Override the Gemini endpoint (tests, proxies).")

    @field_validator("VISION_ENABLED", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return parse_flag(value) if isinstance(value, str) else value

    @field_validator("GEMINI_BASE_URL")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        return http_url(value)


DEFAULTS: dict[str, Any] = {
    "VISION_MODEL": "gemini-2.5-flash",
    "VISION_API_VERSION": "v1beta",  # generateContent with responseSchema and thinkingConfig
    "VISION_TIMEOUT": 30.0,  # seconds per request to Gemini
    "VISION_MAX_OUTPUT_TOKENS": 1024,
    "VISION_CONCURRENCY": 4,  # requests to Gemini in flight (worker threads)
    "VISION_MAX_CALLS": 100,  # requests to Gemini per run, retries included; then the rest is skipped
    "VISION_RETRIES": 2,  # extra attempts after a 429 / 5xx / refused connection (timeouts: none)
    "VISION_RETRY_BACKOFF": 1.0,  # seconds before the first retry, doubled each time (±20 % jitter)
    "VISION_RETRY_BACKOFF_MAX": 10.0,
    # Static dealers' pages have no browser visit to take the screenshot in: at most this many
    # extra browser visits per run are made for them (browser dealers' screenshots cost nothing extra).
    "VISION_MAX_EXTRA_VISITS": 20,
    "VISION_SCREENSHOT_DIR": None,  # default: <STAKTRAKR_DB folder>/screenshots; one folder per run inside
    "VISION_KEEP_RUNS": 5,  # screenshot folders of the newest runs kept; older ones are removed
    "VISION_VIEWPORT_WIDTH": 1280,
    "VISION_VIEWPORT_HEIGHT": 900,
    "VISION_SCREENSHOT_TIMEOUT_MS": 10_000,
    # The decision (merge.py).
    "VISION_AGREE_TOLERANCE": 0.03,  # |text - vision| / max within this: agreement, confidence 99
    "VISION_DISAGREE_CONFIDENCE": 70,  # cap on disagreement, scaled down by the gap (0 at 50 %)
    "VISION_ONLY_CONFIDENCE": 70,  # cap when only the screenshot had a price
    "VISION_STOCK_CONFLICT_CONFIDENCE": 50,  # cap when the screenshot says out of stock, the text in stock
    "VISION_MEDIAN_LOOKBACK_HOURS": 2.0,  # other dealers' prices this recent form the median
    # Estimated cost in the run figures: USD per million tokens (Gemini 2.5 Flash list prices,
    # paid tier: $0.30 input text/image, $2.50 output). Set them for another model.
    "VISION_PRICE_PER_MTOKEN_IN": 0.30,
    "VISION_PRICE_PER_MTOKEN_OUT": 2.50,
}
