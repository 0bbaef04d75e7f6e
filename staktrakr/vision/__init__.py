"""Vision cross-check: a screenshot of each product page read by Gemini, merged with the page text.

    client.py       the Gemini call (google-genai), bounded retries, call budget, token totals
    schema.py       the answer's pydantic model (also the response schema sent to Gemini)
    prompt.py       the instructions sent with each screenshot
    merge.py        the decision: agreement, disagreement, vision only, wrong weight, stock
    screenshots.py  taking screenshots in the browser visit, the extra-visit budget, pruning

The Scrapy side is pipelines/vision.py (the cross-check per item) and the marked lines of
spiders/retail.py (screenshots); plugins/vision.py is the feature's plugin.
"""

from __future__ import annotations

from typing import Any

PLUGIN_NAME = "staktrakr.plugins.vision"
PIPELINE = "staktrakr.pipelines.vision.VisionPipeline"
# Outcomes worth a look: blocked, wrong-product and failed pages are never sent.
VISION_STATUSES = ("ok", "out_of_stock", "no_price")


def vision_status(config: Any, pm: Any) -> tuple[bool, str]:
    """(on, why not): on with VISION_ENABLED, GEMINI_API_KEY and the vision plugin loaded."""
    if not config.VISION_ENABLED:
        return False, "VISION_ENABLED is not set"
    if config.GEMINI_API_KEY is None:
        return False, "VISION_ENABLED is set but GEMINI_API_KEY is not"
    if pm is not None and not pm.has_plugin(PLUGIN_NAME):
        return False, f"the {PLUGIN_NAME} plugin is not loaded (STAKTRAKR_PLUGINS)"
    return True, ""
