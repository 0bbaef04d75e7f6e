"""The download handler: scrapy-playwright's, letting each retail request decide how it is
fetched at the moment its download starts, and sharing one browser between both URL schemes."""

from __future__ import annotations

import inspect
import os
import weakref
from typing import Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from ..errors import StaktrakrError

_ASYNC_HANDLER = inspect.iscoroutinefunction(ScrapyPlaywrightDownloadHandler.download_request)


_HANDLERS: weakref.WeakKeyDictionary[Any, DealerAwareDownloadHandler] = weakref.WeakKeyDictionary()


class DealerAwareDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, which first lets the request decide how it is fetched.

    Requests wait in their dealer's download slot; a request carrying `meta["decide_render"]`
    has it called right before its download starts, so a dealer found to need the browser a
    moment ago sends its queued targets straight to the browser.

    One instance serves both schemes: Scrapy builds a handler per scheme, and each
    scrapy-playwright handler starts its own Playwright driver (a Node.js process of ~80 MB)
    even when no page of its scheme is ever fetched.
    """

    @classmethod
    def from_crawler(cls, crawler: Any) -> DealerAwareDownloadHandler:
        handler = _HANDLERS.get(crawler)
        if handler is None:
            node_options = crawler.settings.get("STAKTRAKR_BROWSER_DRIVER_NODE_OPTIONS")
            if node_options:  # read by the Playwright driver, a child Node.js process started later
                os.environ.setdefault("NODE_OPTIONS", node_options)
            handler = _HANDLERS[crawler] = cls(crawler)
            handler._closing = False
            if _single_process(crawler.settings):
                handler.config.launch_options["args"] = [*handler.config.launch_options.get("args", ()), "--single-process"]
        return handler

    if _ASYNC_HANDLER:

        async def download_request(self, request: Any) -> Any:  # type: ignore[override]
            _decide(request)
            return await super().download_request(request)

        async def close(self) -> None:  # type: ignore[override]
            if not self._closing:  # once, though registered for two schemes
                self._closing = True
                await super().close()

    else:

        def download_request(self, request: Any, spider: Any) -> Any:  # type: ignore[override]
            _decide(request)
            return super().download_request(request, spider)

        def close(self) -> Any:  # type: ignore[override]
            if self._closing:
                from twisted.internet import defer

                return defer.succeed(None)
            self._closing = True
            return super().close()


def _single_process(settings: Any) -> bool:
    """STAKTRAKR_BROWSER_SINGLE_PROCESS, except with proxy tiers: Chromium's --single-process
    mode loses pages (TargetClosedError, hangs) once contexts with their own proxy exist."""
    if not settings.getbool("STAKTRAKR_BROWSER_SINGLE_PROCESS"):
        return False
    try:
        from ..config import config_from_settings

        return not config_from_settings(settings).PROXY_TIERS
    except StaktrakrError:
        return False


def _decide(request: Any) -> None:
    decide = request.meta.pop("decide_render", None)
    if decide is not None:
        decide(request)
