"""Whether the vision cross-check is on in this crawl, and which outcomes it looks at."""

from __future__ import annotations

from typing import Any

from staktrakr.config import config_from_settings

from .settings import VisionSettings

PLUGIN_NAME = "staktrakr.plugins.vision"
PIPELINE = "staktrakr.plugins.vision.pipeline.VisionPipeline"
# Outcomes worth a look: blocked, wrong-product and failed pages are never sent.
VISION_STATUSES = ("ok", "out_of_stock", "no_price")


def vision_settings(settings: Any) -> VisionSettings:
    """The plugin's variables for a crawl: `-s NAME=value` overrides the environment."""
    return config_from_settings(settings, VisionSettings)


def vision_status(section: VisionSettings, pm: Any) -> tuple[bool, str]:
    """(on, why not): on with VISION_ENABLED, GEMINI_API_KEY and the vision plugin loaded."""
    if not section.VISION_ENABLED:
        return False, "VISION_ENABLED is not set"
    if section.GEMINI_API_KEY is None:
        return False, "VISION_ENABLED is set but GEMINI_API_KEY is not"
    if pm is not None and not pm.has_plugin(PLUGIN_NAME):
        return False, f"the {PLUGIN_NAME} plugin is not loaded (STAKTRAKR_PLUGINS)"
    return True, ""
