"""The aggregator's one setting: on or off (off by default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from scrapy.settings import SETTINGS_PRIORITIES

from staktrakr.config import parse_flag
from staktrakr.errors import ConfigError

ENABLED_SETTING = "STAKTRAKR_AGGREGATOR_ENABLED"


def default_settings() -> dict[str, Any]:
    """The Scrapy setting the feed reads (hook `staktrakr_default_settings`): off by default;
    `-s STAKTRAKR_AGGREGATOR_ENABLED=1` or the environment variable turns it on."""
    return {ENABLED_SETTING: False}


def aggregator_enabled(settings: Any, environ: Mapping[str, str] | None = None) -> bool:
    """`-s STAKTRAKR_AGGREGATOR_ENABLED=…` wins over the environment variable, which wins over
    the settings module's default (off)."""
    environ = os.environ if environ is None else environ
    priority = settings.getpriority(ENABLED_SETTING)
    if priority is not None and priority >= SETTINGS_PRIORITIES["cmdline"]:
        return _flag(settings.get(ENABLED_SETTING))
    raw = environ.get(ENABLED_SETTING)
    if raw not in (None, ""):
        return _flag(raw)
    return _flag(settings.get(ENABLED_SETTING, False))


def _flag(value: Any) -> bool:
    try:
        return parse_flag(value)
    except ValueError as exc:
        raise ConfigError(f"{ENABLED_SETTING}: {exc} (got {value!r})") from None
