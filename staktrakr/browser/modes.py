"""Which dealers need the browser: learned, remembered, and probed now and then.

A dealer profile may force either way (`browser=True` / `browser=False`). Otherwise a dealer is
read statically until one of its pages shows no price, only a price from data or a bulk label,
or a buy button its scripts have not enabled (`static_page_needs_browser`): that page is read once
more in the browser, and when the rendered page reads differently the dealer needs the browser.
Its remaining targets of the run then go straight to the browser (the download handler asks when
each download starts, not when it was queued), and the database remembers it per dealer with the
time it was learned, so the next run starts right. Once the remembered mode is older than
STAKTRAKR_RENDER_PROBE_HOURS, one target of the dealer per run is fetched statically as a probe
and compared with the rendered page; an in-stock price that reads the same both ways switches the
dealer back to static HTML.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from typing import Any

from ..crawl_context import CrawlContext, one_per_crawler
from ..errors import StaktrakrError
from ..models import DealerProfile, ExtractionResult, Status
from ..store.render_modes import learned_render_modes, remember_render_mode
from ..timeutil import iso_ms, parse_time, utcnow

logger = logging.getLogger(__name__)

BROWSER, STATIC = "browser", "static"


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
        return one_per_crawler(crawler, cls)

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
    if result.status is Status.out_of_stock and result.buy_button_disabled:
        # Stores ship the buy button disabled and enable it once a stock check answered.
        return f"{result.reason} in the static HTML, and the page runs scripts"
    return None
