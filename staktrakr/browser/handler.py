"""The download handler: scrapy-playwright's, letting each retail request decide how it is
fetched at the moment its download starts, and sharing one browser between both URL schemes."""

from __future__ import annotations

import inspect
import json
import logging
import os
import weakref
from typing import Any

from playwright.async_api import Error as PlaywrightError
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from ..errors import StaktrakrError
from ..redact import redact_url

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
            if handler.config.connect_url:
                _launch_on_browser_host(handler.config, crawler.settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
        return handler

    async def _maybe_launch_browser(self) -> None:
        try:
            await super()._maybe_launch_browser()
        except PlaywrightError as exc:
            if not self.config.connect_url:
                raise
            # The browser targets of this run get `error` rows saying so; static dealers carry on.
            first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise BrowserHostUnreachable(f"browser host {redact_url(self.config.connect_url)} unreachable: {first_line[:200]}") from None

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


class BrowserHostUnreachable(StaktrakrError):
    """PLAYWRIGHT_CONNECT_URL is set and the Playwright server there does not answer."""


# scrapy-playwright warns that it ignores PLAYWRIGHT_LAUNCH_OPTIONS when connecting; they are not
# ignored here (sent to the browser host below), so the warning would only mislead.
class _ForwardedLaunchOptions(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "ignoring PLAYWRIGHT_LAUNCH_OPTIONS" not in record.getMessage()


logging.getLogger("scrapy-playwright").addFilter(_ForwardedLaunchOptions())

# Launch options a Playwright server takes from its client (`run-server --unsafe` for the last two).
_FORWARDED = {"headless": "headless", "executable_path": "executablePath", "args": "args"}


def _launch_on_browser_host(config: Any, configured: dict[str, Any]) -> None:
    """Connected to a shared browser host (`playwright run-server`), the browser is launched there,
    once per connection: send it our launch options (the lean Chromium flags, Debian's binary,
    --single-process by the same rule as a local browser) in the header the server reads."""
    options = {**configured, **config.launch_options}
    wanted = {name: options[key] for key, name in _FORWARDED.items() if options.get(key) is not None}
    headers = dict(config.connect_kwargs.get("headers") or {})
    headers.setdefault("x-playwright-launch-options", json.dumps(wanted))
    config.connect_kwargs["headers"] = headers


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
