"""The vision cross-check's part in the retail spider's visits, through the spider's signals
(staktrakr/visit_signals.py): the spider itself knows nothing of screenshots.

* `browser_visit_starting`: the screenshot is taken in the browser visit that reads the page,
  once it settled (page methods appended to the request); its path is kept in the request's meta.
* `observation_ready`: a page read in the browser hands its screenshot to the item
  (plugin_data); a static page worth a look gets one extra browser visit for its screenshot
  while VISION_MAX_EXTRA_VISITS (and the call budget) lasts.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from staktrakr.models import DealerProfile, Target, plugin_data
from staktrakr.visit_signals import browser_visit_starting, observation_ready

from .screenshots import VisionCapture
from .status import VISION_STATUSES

logger = logging.getLogger(__name__)

SCREENSHOT_META = "vision_screenshot"  # request meta: where this visit's screenshot goes
SCREENSHOT = "vision.screenshot"  # item plugin_data: the screenshot of the page that gave the item


def screenshot_of(item: Any) -> str | None:
    return (item.get("plugin_data") or {}).get(SCREENSHOT)


class ScreenshotVisits:
    def __init__(self, crawler: Any, capture: VisionCapture):
        self.capture = capture
        crawler.signals.connect(self.browser_visit_starting, signal=browser_visit_starting)
        crawler.signals.connect(self.observation_ready, signal=observation_ready)

    def browser_visit_starting(self, request: scrapy.Request, target: Target, profile: DealerProfile) -> None:
        methods, request.meta[SCREENSHOT_META] = self.capture.page_methods(target, profile)
        request.meta["playwright_page_methods"] = [*request.meta.get("playwright_page_methods", ()), *methods]

    def observation_ready(self, item: Any, meta: dict[str, Any], spider: Any) -> scrapy.Request | None:
        screenshot = meta.get(SCREENSHOT_META) if item.get("http_status") is not None else None
        if screenshot and os.path.isfile(screenshot):
            plugin_data(item)[SCREENSHOT] = screenshot
            return None
        if meta.get("browser") or item.get("status") not in VISION_STATUSES or not self.capture.take_extra_visit():
            return None
        target: Target = item["target"]
        # proxy tiers: the extra visit goes through the tier the static page came through
        request = spider.request_for(target, meta["url_index"], browser=True, proxy_tier=meta.get("proxy_tier", 0), started=meta.get("started"))
        return request.replace(callback=self.screenshot_taken, errback=self.screenshot_failed, cb_kwargs={"item": item})

    # the extra browser visit of a static page, only for its screenshot
    def screenshot_taken(self, response: Response, item: Any) -> Any:
        screenshot = response.meta.get(SCREENSHOT_META)
        if response.status < 400 and screenshot and os.path.isfile(screenshot):
            plugin_data(item)[SCREENSHOT] = screenshot
        yield item

    def screenshot_failed(self, failure: Failure) -> Any:
        item = failure.request.cb_kwargs["item"]
        logger.warning("%s %s: screenshot visit failed: %s", item["vendor"], item["coin_slug"], failure.getErrorMessage()[:200])
        yield item
