"""Which dealers need the browser: decided when a download starts, learned, and remembered.

A dealer profile may force either way (`browser=True` / `browser=False`). Otherwise a dealer is
static until one of its pages shows no price but signs of client-side rendering: that page is
fetched once more with the browser, and from then on the dealer's remaining targets of the run
go straight to the browser (the decision is taken when each download starts, not when it was
queued). The database remembers it per dealer with the time it was learned, so the next run
starts right. Once the remembered mode is older than STAKTRAKR_RENDER_PROBE_HOURS, the first
target of the dealer in a run is fetched statically as a probe; a probe that finds its answer in
the static HTML switches the dealer back to static.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import threading
import weakref
from datetime import timedelta
from typing import Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from ..crawl_context import CrawlContext
from ..errors import StaktrakrError
from ..models import DealerProfile, ExtractionResult, Status
from ..store.render_modes import learned_render_modes, remember_render_mode
from ..timeutil import iso_ms, parse_time, utcnow

logger = logging.getLogger(__name__)

BROWSER, STATIC = "browser", "static"
_MODES: weakref.WeakKeyDictionary[Any, RenderModes] = weakref.WeakKeyDictionary()


class RenderModes:
    """Per crawl: the current mode of every dealer and the probes still to make."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self.probe_after = timedelta(hours=crawler.settings.getfloat("STAKTRAKR_RENDER_PROBE_HOURS"))
        self._lock = threading.Lock()
        self._modes: dict[str, str] | None = None
        self._probes_due: set[str] = set()
        self._remembered: set[tuple[str, str]] = set()

    @classmethod
    def of(cls, crawler: Any) -> RenderModes:
        modes = _MODES.get(crawler)
        if modes is None:
            modes = _MODES[crawler] = cls(crawler)
        return modes

    def _load(self) -> dict[str, str]:
        if self._modes is None:
            try:
                learned = learned_render_modes(self.context.db)
            except (StaktrakrError, OSError, RuntimeError, ValueError) as exc:  # a broken store is reported elsewhere
                logger.warning("learned browser needs not read: %s", exc)
                learned = {}
            now = utcnow()
            self._modes = {vendor: row["mode"] for vendor, row in learned.items()}
            self._probes_due = {
                vendor for vendor, row in learned.items()
                if row["mode"] == BROWSER and now - parse_time(row["learned_at"]) >= self.probe_after
            }  # fmt: skip
        return self._modes

    def choose(self, vendor: str, profile: DealerProfile) -> tuple[bool, bool]:
        """(use the browser, this download is a static probe) for the next download of `vendor`."""
        if profile.browser is not None:
            return profile.browser, False
        with self._lock:
            mode = self._load().get(vendor, STATIC)
            if mode == BROWSER and vendor in self._probes_due:
                self._probes_due.discard(vendor)
                return False, True
        return mode == BROWSER, False

    def needs_browser(self, vendor: str) -> bool:
        with self._lock:
            return self._load().get(vendor) == BROWSER

    def known(self, vendor: str) -> bool:
        """A mode was learned for `vendor`, in this run or an earlier one."""
        with self._lock:
            return vendor in self._load()

    def learn_static_enough(self, vendor: str) -> None:
        """Every target of `vendor` in this run read the same statically: remember it as static."""
        if not self.known(vendor):
            self.learn(vendor, STATIC, "every page of the run answered in its static HTML")

    def learn(self, vendor: str, mode: str, reason: str) -> None:
        """Switch `vendor` for the rest of the run and remember it (and when) in the database."""
        with self._lock:
            modes = self._load()
            changed = modes.get(vendor) != mode
            modes[vendor] = mode
            self._probes_due.discard(vendor)
            if (vendor, mode) in self._remembered:
                return
            self._remembered.add((vendor, mode))
            if mode == STATIC:
                self._remembered.discard((vendor, BROWSER))
            else:
                self._remembered.discard((vendor, STATIC))
        if changed:
            logger.info("%s: %s from now on (%s)", vendor, "browser" if mode == BROWSER else "static HTML", reason)
            self.crawler.stats.inc_value(f"staktrakr/render/learned_{mode}")
        try:
            remember_render_mode(self.context.db, vendor, self.context.config.POLLER_ID, mode, iso_ms(utcnow()), reason)
        except (StaktrakrError, OSError, RuntimeError, ValueError) as exc:
            logger.warning("%s: could not remember that it needs %s: %s", vendor, mode, exc)


# Prices read from data blobs or a bulk "As low as" label: hints, not what the page shows a buyer.
_HINT_METHODS = ("structured_data", "as_low_as")
_SCRIPT = re.compile(rb"<script(?![^>]*application/(?:ld\+)?json)[^>]*>", re.IGNORECASE)


def read_from_hints(result: ExtractionResult) -> bool:
    """The price came from data or a bulk label, not from what the page shows a buyer."""
    return (result.method or "").removeprefix("browser+") in _HINT_METHODS


def static_page_needs_browser(result: ExtractionResult, http_status: int, html: bytes) -> str | None:
    """Why a page fetched without the browser should be read once more in it, or None.

    A person reads the rendered page: when the static HTML shows no price, only a price taken
    from data or a bulk label, or a buy button that its scripts have not enabled yet, and the
    page runs scripts, the rendered page decides."""
    if http_status >= 400 or result.status in (Status.blocked, Status.error, Status.wrong_product):
        return None
    if result.status is Status.no_price and result.client_rendered:
        return "no price in the static HTML; the page builds it with JavaScript"
    if not _SCRIPT.search(html or b"") or b"</html>" not in (html or b"")[-2000:].lower():
        return None  # no scripts, or a cut download: the browser would read the same
    if result.status is Status.no_price:
        return "no price in the static HTML, and the page runs scripts"
    if result.price is not None and read_from_hints(result):
        return f"only a {result.method} price in the static HTML, and the page runs scripts"
    if result.status is Status.out_of_stock and (result.reason or "").startswith("disabled "):
        # Stores ship the buy button disabled and enable it once a stock check answered.
        return f"{result.reason} in the static HTML, and the page runs scripts"
    return None


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
