"""Scrapy settings. Every knob has a documented default here; override with `-s NAME=value`."""

BOT_NAME = "staktrakr"
# Our `crawl` command sets the exit status from the run's outcome (non-zero when all failed).
COMMANDS_MODULE = "staktrakr.commands"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# Adds one `retail-<dealer>` spider per dealer and the spiders plugins register.
SPIDER_LOADER_CLASS = "staktrakr.spiderloader.StaktrakrSpiderLoader"

# Dealers pages are public product pages; robots.txt disallows nothing we fetch but costs a
# request per dealer and run, and test servers have none.
ROBOTSTXT_OBEY = False

# -- politeness: per dealer, not per host (in tests every dealer is 127.0.0.1) -------------
# Requests carry meta["download_slot"] = dealer id; these limits apply to each slot.
STAKTRAKR_DEALER_CONCURRENCY = 2  # requests in flight per dealer
STAKTRAKR_DEALER_DELAY = 0.5  # seconds between requests to one dealer (randomised 0.5x-1.5x)
CONCURRENT_REQUESTS = 64  # all dealers together; the per-dealer limits are the real bound
# Hands the downloader requests of the least busy dealer first, so one slow dealer's queue
# cannot hold every free downloader place.
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
# Above the per-dealer cap, so that the cap (not the delay) is what binds on a healthy
# dealer; a slow dealer still gets a longer delay.
AUTOTHROTTLE_TARGET_CONCURRENCY = 3.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
# 403/429 are not retried on the same path: they go to the proxy tiers or are recorded "blocked".
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
REDIRECT_ENABLED = True

# -- proxy tiers (staktrakr/middlewares.py) --------------------------------------------------
# PROXY_TIERS (environment, see staktrakr/config.py) lists proxy URLs tried in order after the
# direct attempt. Prefer the environment to `-s PROXY_TIERS=...`: both work and neither is
# logged, but command-line arguments are visible to every user in the process list.
# Order for one request: direct + Scrapy's RETRY_TIMES retries (timeouts, connection errors,
# RETRY_HTTP_CODES) -> tier 1 -> tier 2 -> ..., each tier once. At 540 the middleware sees
# responses and exceptions after RetryMiddleware (550) has given up, and sets meta["proxy"]
# before HttpProxyMiddleware (750) moves the credentials into a Proxy-Authorization header.
# Without PROXY_TIERS it is not loaded at all. The stored row's `reason` names the tier
# ("via proxy tier 1 (direct: HTTP 403): ..."); `method` is unchanged.
DOWNLOADER_MIDDLEWARES = {
    "staktrakr.middlewares.ProxyTierMiddleware": 540,
}
# Statuses handed to the next tier (5xx only after Scrapy's retries on the same path; 407 is a
# proxy refusing our credentials).
STAKTRAKR_PROXY_ON_STATUS = [403, 407, 429, 500, 502, 503, 504, 522, 524]
# Also hand on a bot wall / captcha page served with HTTP 2xx (staktrakr.extract.blocked).
STAKTRAKR_PROXY_ON_BOT_WALL = True
# Network failures handed on are RETRY_EXCEPTIONS plus the browser's navigation errors.
# -- end proxy tiers --------------------------------------------------------------------------
# The spider sees every status itself so that a 403/404 becomes a stored outcome.
HTTPERROR_ALLOW_ALL = True
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False

USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
    "Upgrade-Insecure-Requests": "1",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "none",
}

# -- browser (scrapy-playwright), only for requests that ask for it -------------------------
DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": "/usr/bin/chromium",
    "headless": True,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ],
}
# One browser; one context per network path (direct, each proxy tier); a bounded number of
# pages per context. scrapy-playwright closes every page after reading it, errors included.
PLAYWRIGHT_MAX_CONTEXTS = 4
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# Images, fonts and media are never needed to read a price.
PLAYWRIGHT_ABORT_REQUEST = "staktrakr.browser.abort_heavy_request"
STAKTRAKR_BROWSER_WAIT_MS = 0  # extra settle time after load for every browser page

# -- pipelines and extensions -------------------------------------------------------------
ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.store.StorePipeline": 800,
}
EXTENSIONS = {
    "staktrakr.runs.RunRecorder": 500,
}
STAKTRAKR_STATIC_BOUNDS = {}
# A run still "running" after this many hours died without closing (killed process).
STAKTRAKR_ORPHANED_RUN_HOURS = 6  # {"silver": [15, 400]} overrides the per-oz static bounds

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
