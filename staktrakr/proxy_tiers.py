"""Downloader middleware: retry a blocked or failed download through the next proxy tier.

Order of attempts for one request (DESIGN.md §6):

    direct, with Scrapy's own retries (RETRY_TIMES, for timeouts / connection errors / 5xx)
    -> proxy tier 1 -> proxy tier 2 -> ...  (each tier once, no Scrapy retries on a tier)

A download is handed to the next tier when it answers with a status in
STAKTRAKR_PROXY_ON_STATUS (403, 429, ...), when it is a bot-wall page served with HTTP 2xx
(`blocked_reason`), or when it fails with a network error Scrapy would retry (RETRY_EXCEPTIONS:
timeouts, refused or lost connections, a dead proxy) or a browser navigation error. When no
tier is left the last outcome goes to the spider, which stores it as usual (blocked / error).

Static pages go through Scrapy's HttpProxyMiddleware (`meta["proxy"]`; it moves the
credentials into a Proxy-Authorization header). Browser pages get one Playwright context per
tier (`proxy-1`, `proxy-2`, ...) created with that tier's proxy. The tier a response came
through is in `meta["proxy_tier"]` (0 = direct); `proxy_path_reason` turns it into the stored
row's reason ("via proxy tier 1: ..."). The row's `method` is never changed: it is exported in
the public API and says how the price was read, not how the page was fetched.

Stats: `staktrakr/proxy/tier_<n>/requests` (handed to tier n), `staktrakr/proxy/tier_<n>/passed`
(came back through it not blocked), `staktrakr/proxy/exhausted` (no tier left).

Proxy URLs carry credentials: they are never logged, put in stats or in a stored reason; only
tier numbers are.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.misc import load_object

from .crawl_context import CrawlContext
from .extract.blocked import blocked_reason
from .extract.page import Page

logger = logging.getLogger(__name__)

# Keys of one download attempt that must not follow the request to the next tier.
_ATTEMPT_KEYS = (
    "proxy", "_auth_proxy", "_scheme_proxy", "download_latency", "redirect_times", "redirect_ttl",
    "redirect_urls", "redirect_reasons", "playwright_context", "playwright_context_kwargs",
)  # fmt: skip
_NET_ERROR = re.compile(r"net::ERR_[A-Z_]+")


@dataclass(frozen=True)
class ProxyTier:
    """One entry of PROXY_TIERS, split the way each download path wants it."""

    number: int
    url: str  # with credentials: only ever put into meta["proxy"] / a browser context
    server: str  # scheme://host:port, no credentials
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, number: int, url: str) -> ProxyTier:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        return cls(
            number=number,
            url=url,
            server=f"{parts.scheme}://{parts.hostname}{port}",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def socks(self) -> bool:
        return self.server.startswith("socks")

    @property
    def label(self) -> str:
        return f"proxy tier {self.number}"

    def browser_context_kwargs(self) -> dict[str, Any]:
        proxy: dict[str, str] = {"server": self.server}
        if self.username:
            proxy["username"] = self.username
        if self.password:
            proxy["password"] = self.password
        return {"proxy": proxy}


class ProxyTierMiddleware:
    """Re-schedules a blocked, timed-out or failed request through the next PROXY_TIERS entry."""

    def __init__(self, crawler: Any, tiers: list[ProxyTier]):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.tiers = tiers
        self.on_status = {int(s) for s in settings.getlist("STAKTRAKR_PROXY_ON_STATUS")}
        self.on_bot_wall = settings.getbool("STAKTRAKR_PROXY_ON_BOT_WALL")
        self.on_exceptions = tuple(
            load_object(e) if isinstance(e, str) else e for e in settings.getlist("RETRY_EXCEPTIONS")
        )

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProxyTierMiddleware:
        urls = CrawlContext.of(crawler).config.PROXY_TIERS
        if not urls:
            # Without a message: Scrapy would log a WARNING on every crawl that uses no proxies.
            raise NotConfigured
        tiers = [ProxyTier.parse(n, secret.get_secret_value()) for n, secret in enumerate(urls, 1)]
        for tier in tiers:
            if tier.socks:
                # Scrapy's HTTP downloader speaks only to http(s) proxies; Chromium can use SOCKS.
                logger.warning("%s is a SOCKS proxy: used for browser pages only", tier.label)
        max_contexts = crawler.settings.getint("PLAYWRIGHT_MAX_CONTEXTS")
        if max_contexts and max_contexts < len(tiers) + 1:
            # scrapy-playwright keeps contexts open, so a browser page needing one more waits forever.
            logger.warning(
                "PLAYWRIGHT_MAX_CONTEXTS=%d is below 1 + %d proxy tiers: browser pages may wait for a context",
                max_contexts, len(tiers),
            )  # fmt: skip
        logger.info("proxy tiers: %d after the direct attempt", len(tiers))
        return cls(crawler, tiers)

    # -- every attempt ---------------------------------------------------------------------------

    def process_request(self, request: Request) -> None:
        number = request.meta.get("proxy_tier", 0)
        if not number:
            return None
        tier = self.tiers[number - 1]
        meta = request.meta
        # Each tier is tried once: Scrapy's retries belong to the direct path.
        meta["dont_retry"] = True
        # A fresh cookie jar per tier: a bot wall's cookies set for another address only hurt.
        meta.setdefault("cookiejar", f"proxy-{number}")
        if meta.get("playwright"):
            meta["playwright_context"] = f"proxy-{number}"
            meta["playwright_context_kwargs"] = tier.browser_context_kwargs()
        else:
            meta["proxy"] = tier.url  # HttpProxyMiddleware (750) moves the credentials to a header
        return None

    def process_response(self, request: Request, response: Response) -> Request | Response:
        reason = self._blocked(response)
        number = request.meta.get("proxy_tier", 0)
        if reason is None:
            if number:
                self.stats.inc_value(f"staktrakr/proxy/tier_{number}/passed")
            return response
        return self._next_tier(request, reason) or response

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not self._escalates(exception):
            return None
        return self._next_tier(request, _exception_reason(exception))

    # -- decisions -------------------------------------------------------------------------------

    def _blocked(self, response: Response) -> str | None:
        if response.status in self.on_status:
            return f"HTTP {response.status}"
        if self.on_bot_wall and 200 <= response.status < 300 and isinstance(response, TextResponse):
            return blocked_reason(Page(response.text, url=response.url, http_status=response.status))
        return None

    def _escalates(self, exception: Exception) -> bool:
        # Playwright's errors (navigation timeout, net::ERR_PROXY_CONNECTION_FAILED, ...) are the
        # browser path's network failures; scrapy-playwright does not wrap them.
        return isinstance(exception, self.on_exceptions) or type(exception).__module__.startswith("playwright.")

    def _next_tier(self, request: Request, reason: str) -> Request | None:
        meta = request.meta
        number = meta.get("proxy_tier", 0)
        here = self.tiers[number - 1].label if number else "direct"
        browser = bool(meta.get("playwright"))
        following = next((t for t in self.tiers[number:] if browser or not t.socks), None)
        who = _who(request)
        if following is None:
            if number:
                # The spider names every path tried in the stored reason.
                meta["proxy_exhausted"] = True
                self.stats.inc_value("staktrakr/proxy/exhausted")
                logger.info("%s: %s through %s, no proxy tier left", who, reason, here)
            return None
        logger.info("%s: %s %s, trying %s of %d", who, reason, here, following.label, len(self.tiers))
        self.stats.inc_value(f"staktrakr/proxy/tier_{following.number}/requests")
        next_meta = {k: v for k, v in meta.items() if k not in _ATTEMPT_KEYS and k != "cookiejar"}
        next_meta["proxy_tier"] = following.number
        next_meta["proxy_failures"] = [*meta.get("proxy_failures", ()), f"{here}: {reason}"]
        next_meta["proxy_tiers_tried"] = meta.get("proxy_tiers_tried", 0) + 1
        headers = request.headers.copy()
        headers.pop(b"Proxy-Authorization", None)  # never hand one tier's credentials to another
        # Start over from the URL the spider asked for, not from where a bot wall redirected to.
        url = (meta.get("redirect_urls") or [request.url])[0]
        return request.replace(url=url, headers=headers, meta=next_meta, dont_filter=True)


def proxy_path_reason(meta: dict[str, Any], reason: str | None) -> str | None:
    """The stored reason, saying which proxy tier the outcome came through and what failed before.

    "via proxy tier 1 (direct: HTTP 403): tier table: 94.19" when a tier worked;
    "all 2 proxy tiers failed (direct: HTTP 403; proxy tier 1: ...); proxy tier 2: HTTP 403"
    when none did. Unchanged for a direct outcome.
    """
    number = meta.get("proxy_tier", 0)
    if not number:
        return reason
    earlier = "; ".join(meta.get("proxy_failures") or ())
    if meta.get("proxy_exhausted"):
        tried = meta.get("proxy_tiers_tried", number)
        plural = "s" if tried != 1 else ""
        head = f"all {tried} proxy tier{plural} failed ({earlier}); proxy tier {number}"
    else:
        head = f"via proxy tier {number}" + (f" ({earlier})" if earlier else "")
    return f"{head}: {reason}" if reason else head


def _who(request: Request) -> str:
    target = request.meta.get("target")
    if target is not None and hasattr(target, "vendor"):
        return f"{target.vendor} {target.coin.slug}"
    return f"<{request.method} {request.url}>"


def _exception_reason(exception: Exception) -> str:
    """A short reason that cannot carry a URL (and so no credentials)."""
    name = type(exception).__name__
    if type(exception).__module__.startswith("playwright."):
        found = _NET_ERROR.search(str(exception))
        return f"browser {found.group(0)}" if found else f"browser {name}"
    return name
