"""Screenshots for the vision cross-check, taken by the browser visit that reads the page.

Dealers fetched with the browser get a screenshot in the same visit (visits.py hears of it
through the spider's `browser_visit_starting` signal): a few extra page methods
run after the page has loaded and before scrapy-playwright reads its HTML (viewport 1280×900,
Escape and the common pop-up close buttons, the product title / price area scrolled into view,
a viewport-only PNG). Static dealers get a separate browser visit only while the run's
VISION_MAX_EXTRA_VISITS budget lasts, and only for outcomes that vision will look at.

Every step is best effort: a screenshot that fails is logged and the page's outcome is kept,
never turned into an error (scrapy-playwright would fail the whole request on an exception in
a page method, so ours never raise).

Screenshots live in `<VISION_SCREENSHOT_DIR>/<run_id>/<coin>_<dealer>.png` (default folder
`<STAKTRAKR_DB folder>/screenshots`); the newest VISION_KEEP_RUNS run folders are kept.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import Any

from staktrakr.config import config_from_settings
from staktrakr.models import DealerProfile, Target

from .client import CallBudget

logger = logging.getLogger(__name__)

# Close buttons of newsletter / promo / cookie pop-ups; only visible ones are clicked, at most three.
CLOSE_SELECTORS = (
    '[role="dialog"] [aria-label*="close" i]',
    '[aria-modal="true"] [aria-label*="close" i]',
    '.modal [data-dismiss="modal"]',
    '.modal [data-bs-dismiss="modal"]',
    ".modal .close",
    ".modal-close",
    ".popup-close",
    ".newsletter-popup .close",
    ".klaviyo-close-form",
    ".mfp-close",
    ".fancybox-close",
    'button[aria-label="Close"]',
)
# Where the product is, when the dealer profile names nothing: the title first (the tier table
# sits under it on every dealer we know), then the table itself.
PRODUCT_AREA = ("h1", "table")

_CLICK_CLOSE = """(selectors) => {
  let clicked = 0;
  for (const selector of selectors) {
    let found = [];
    try { found = document.querySelectorAll(selector); } catch (e) { continue; }
    for (const el of found) {
      const box = el.getBoundingClientRect();
      const style = window.getComputedStyle(el);
      if (box.width && box.height && style.visibility !== 'hidden' && style.display !== 'none') {
        el.click();
        if (++clicked >= 3) return clicked;
        break;
      }
    }
  }
  return clicked;
}"""
_SCROLL_TO_PRODUCT = """(selectors) => {
  for (const selector of selectors) {
    let el = null;
    try { el = document.querySelector(selector); } catch (e) { continue; }
    if (el && el.getClientRects().length) {
      el.scrollIntoView({block: 'start'});
      window.scrollBy(0, -80);
      return selector;
    }
  }
  return null;
}"""


async def capture(page: Any, path: str, *, key: str, selectors: tuple[str, ...], width: int, height: int, timeout_ms: int) -> bool:
    """A scrapy-playwright page method: the product area as a viewport PNG at `path`. Never raises."""
    try:
        await page.set_viewport_size({"width": width, "height": height})
        await page.keyboard.press("Escape")
        await page.evaluate(_CLICK_CLOSE, list(CLOSE_SELECTORS))
        area = (*selectors, *PRODUCT_AREA)
        try:
            await page.wait_for_selector(", ".join(area), state="visible", timeout=min(timeout_ms, 2000))
        except Exception:  # noqa: BLE001 - no title or table: photograph what there is
            pass
        await page.evaluate(_SCROLL_TO_PRODUCT, list(area))
        await page.screenshot(path=path, full_page=False, timeout=timeout_ms, animations="disabled")
        return True
    except Exception as exc:  # noqa: BLE001 - a screenshot is optional; the page's outcome is not
        logger.warning("%s: screenshot failed: %s", key, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
        return False


def prune_runs(base: Path, keep: int) -> int:
    """Remove all but the `keep` newest run folders under `base`; returns how many went."""
    if not base.is_dir():
        return 0
    runs = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = 0
    for old in runs[max(keep, 0) :]:
        shutil.rmtree(old, ignore_errors=True)
        removed += 1
    return removed


class VisionCapture:
    """Per crawl: where screenshots go and the two budgets (extra browser visits, Gemini
    requests) shared by the visits (visits.py) and the pipeline. Built by the pipeline, only
    when the cross-check is on."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        settings = crawler.settings
        configured = settings.get("VISION_SCREENSHOT_DIR")
        self.base = Path(configured) if configured else config_from_settings(settings).STAKTRAKR_DB.parent / "screenshots"
        self.keep_runs = settings.getint("VISION_KEEP_RUNS")
        self.width = settings.getint("VISION_VIEWPORT_WIDTH")
        self.height = settings.getint("VISION_VIEWPORT_HEIGHT")
        self.timeout_ms = settings.getint("VISION_SCREENSHOT_TIMEOUT_MS")
        self.extra_visits = settings.getint("VISION_MAX_EXTRA_VISITS")
        self.extra_used = 0
        self.calls = CallBudget(settings.getint("VISION_MAX_CALLS"))
        self._lock = threading.Lock()

    @property
    def run_dir(self) -> Path:
        run_id = self.crawler.stats.get_value("staktrakr/run_id") or "run"
        return self.base / str(run_id)

    def path_for(self, target: Target) -> Path:
        return self.run_dir / f"{target.coin.slug}_{target.vendor}.png"

    def page_methods(self, target: Target, profile: DealerProfile) -> tuple[list[Any], str]:
        """Page methods that leave a screenshot of `target`'s page, and its path."""
        from scrapy_playwright.page import PageMethod

        path = self.path_for(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # an earlier URL's picture must not stand in for this one
        method = PageMethod(
            capture, str(path), key=f"{target.vendor} {target.coin.slug}", selectors=tuple(profile.product_selectors),
            width=self.width, height=self.height, timeout_ms=self.timeout_ms,
        )  # fmt: skip
        return [method], str(path)

    def take_extra_visit(self) -> bool:
        """One more browser visit for a static page's screenshot, if the run's budget allows."""
        if self.calls.exhausted:
            return False
        with self._lock:
            if self.extra_used >= self.extra_visits:
                self.crawler.stats.inc_value("staktrakr/vision/extra_visits_skipped")
                return False
            self.extra_used += 1
        self.crawler.stats.inc_value("staktrakr/vision/extra_visits")
        return True

    def prune(self) -> None:
        removed = prune_runs(self.base, self.keep_runs)
        if removed:
            logger.info("removed %d old screenshot folder(s) from %s (keeping %d runs)", removed, self.base, self.keep_runs)
