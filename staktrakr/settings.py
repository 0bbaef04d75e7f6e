"""Scrapy settings. Every knob has a documented default here; override with `-s NAME=value`."""

BOT_NAME = "staktrakr"
# Our `crawl` command sets the exit status from the run's outcome (non-zero when all failed).
COMMANDS_MODULE = "staktrakr.scrapy_commands"
SPIDER_MODULES = ["staktrakr.spiders"]
NEWSPIDER_MODULE = "staktrakr.spiders"
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
# The delay between two requests to one dealer varies by ±50 % (Scrapy 2.19's replacement for
# RANDOMIZE_DOWNLOAD_DELAY, which now warns on every crawl).
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
# Above the per-dealer cap, so that the cap (not the delay) is what binds on a healthy
# dealer; a slow dealer still gets a longer delay.
AUTOTHROTTLE_TARGET_CONCURRENCY = 3.0
DOWNLOAD_TIMEOUT = 30
# A product page is 50-500 KB; a larger answer is logged, a much larger one cancelled (an `error`
# row naming the size). The extraction reads a bounded part of what it gets (below).
DOWNLOAD_WARNSIZE = 3 * 1024 * 1024
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
# What the extraction chain reads of one page: the first 2 M characters and 20,000 elements
# (dealer pages have 2,000-6,000), and at most 2 s of CPU; a page cut or given up says so in its
# reason. The chain runs in a worker thread, never in the reactor. The values are stated once, in
# staktrakr/extract/limits.py, where the chain finds them when it runs outside a crawl.
from staktrakr.extract.limits import (  # noqa: E402, F401 - Scrapy settings of the same names
    STAKTRAKR_EXTRACT_TIME_BUDGET,
    STAKTRAKR_MAX_ELEMENTS,
    STAKTRAKR_MAX_PARSE_BYTES,
)
RETRY_ENABLED = True
RETRY_TIMES = 2
# 403/429 are not retried on the same path: they go to the proxy tiers or are recorded "blocked".
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
REDIRECT_ENABLED = True

# -- proxy tiers (staktrakr/proxy_tiers.py) --------------------------------------------------
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
    "staktrakr.proxy_tiers.ProxyTierMiddleware": 540,
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
# Browser, renderer and network in one Chromium process (the last 90 MB of the table below).
# Not with PROXY_TIERS: contexts with their own proxy lose pages in that mode (measured), so the
# browser then runs its usual processes. A crash takes the whole browser down; scrapy-playwright
# starts a new one and the pages in flight become `error` rows for the retry pass.
STAKTRAKR_BROWSER_SINGLE_PROCESS = True
# Node.js options of the Playwright driver process (unless NODE_OPTIONS is already set): a small
# heap and no JIT; it only relays messages between Scrapy and Chromium.
STAKTRAKR_BROWSER_DRIVER_NODE_OPTIONS = "--max-old-space-size=64 --max-semi-space-size=1 --jitless"


def _chromium_binary() -> str:
    import os

    for candidate in ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium"):
        if os.path.exists(candidate):
            return candidate
    return "/usr/bin/chromium"


# scrapy-playwright's handler, which first lets a retail request decide static or browser at the
# moment its download starts (staktrakr/browser/handler.py).
DOWNLOAD_HANDLERS = {
    "http": "staktrakr.browser.handler.DealerAwareDownloadHandler",
    "https": "staktrakr.browser.handler.DealerAwareDownloadHandler",
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
PLAYWRIGHT_BROWSER_TYPE = "chromium"
# Debian's chromium-headless-shell (the headless-only build) when installed, else chromium.
# Peak RSS of the whole process tree (Scrapy, the Playwright driver, every Chromium process) over
# 120 browser pages, benchmarks/browser_memory.py, 4 pages at a time:
#   chromium, a renderer per page, a driver per URL scheme (before)          1,790 MB
#   one driver; headless shell, one renderer, no zygote, GPU in the browser    791 MB
#   + V8 lite mode (no optimising compiler: dealer pages' scripts are small)   700 MB
#   + network service in the browser process                                  635 MB, flat
#   + --single-process (STAKTRAKR_BROWSER_SINGLE_PROCESS)                 547-578 MB, flat
# Drop "--js-flags=..." on a machine with memory to spare and heavy storefront scripts.
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": _chromium_binary(),
    "headless": True,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--mute-audio",
        "--no-zygote",
        "--in-process-gpu",
        "--renderer-process-limit=1",
        "--enable-features=NetworkServiceInProcess2",
        "--js-flags=--lite-mode --max-semi-space-size=1",
    ],
}
from os import environ as _environ  # noqa: E402

# A shared browser host (README "From two pollers to N"): with PLAYWRIGHT_CONNECT_URL set, e.g.
# ws://browser-host:3000/, this poller launches no Chromium; the host's `playwright run-server
# --unsafe` launches one per poller with the options above (staktrakr/browser/handler.py).
PLAYWRIGHT_CONNECT_URL = _environ.get("PLAYWRIGHT_CONNECT_URL") or None
# One browser; one context per network path (direct, each proxy tier). Browser pages obey the
# same per-dealer concurrency as static pages (they share the dealer's download slot); this is
# the budget of pages open at once in one context, all dealers together. scrapy-playwright
# closes every page after reading it, errors included.
PLAYWRIGHT_MAX_CONTEXTS = 4
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 6
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# Images, fonts, media and known trackers are never needed to read a price.
PLAYWRIGHT_ABORT_REQUEST = "staktrakr.browser.request_filter.abort_heavy_request"
# Reading a browser page (staktrakr/browser/reading.py): after `load`, poll every POLL_MS; stop
# once an in-stock price has stayed the same for SETTLE_MS while the DOM was quiet for QUIET_MS,
# the page's requests had finished and no placeholder was shown; without such an answer
# (sold out, no price, wrong product) once the page has been calm for NO_ANSWER_MS after load;
# never later than MAX_WAIT_MS (a dealer profile's `browser_max_wait_ms` wins).
STAKTRAKR_BROWSER_MAX_WAIT_MS = 10_000
STAKTRAKR_BROWSER_POLL_MS = 100
STAKTRAKR_BROWSER_SETTLE_MS = 200
STAKTRAKR_BROWSER_QUIET_MS = 200
STAKTRAKR_BROWSER_NO_ANSWER_MS = 3_000
# A dealer learned to need the browser is probed with one static download per run once the
# learned mode is this old (it may have stopped rendering its prices client-side).
STAKTRAKR_RENDER_PROBE_HOURS = 24

# -- pipelines and extensions -------------------------------------------------------------
# Plugins add their own components and settings defaults through this add-on (staktrakr/addon.py).
ADDONS = {"staktrakr.addon.PluginComponents": 0}
ITEM_PIPELINES = {
    "staktrakr.pipelines.validate.ValidatePipeline": 100,
    "staktrakr.pipelines.store.StorePipeline": 800,
}
EXTENSIONS = {
    # Turso sync first: its pull at the spider's opening comes before the run row is opened.
    "staktrakr.sync.TursoSync": 400,
    "staktrakr.runs.RunRecorder": 500,
}
# Per-metal, per-troy-ounce bounds used when no recent spot price is known, e.g.
# {"silver": [15, 400]}; the defaults are in staktrakr/bounds.py.
STAKTRAKR_STATIC_BOUNDS = {}
# A run still "running" after this many hours died without closing (killed process).
STAKTRAKR_ORPHANED_RUN_HOURS = 6
# Job locks (one run of a job per poller and machine); default folder: <STAKTRAKR_DB folder>/locks.
STAKTRAKR_LOCK_DIR = None
STAKTRAKR_LOCK_STALE_S = 4 * 3600

# The spot, Goldback and aggregator feeds' settings (STAKTRAKR_SPOT_*, STAKTRAKR_GOLDBACK_BAND,
# STAKTRAKR_AGGREGATOR_ENABLED) are the plugins' own: plugins/spot/settings.py,
# plugins/goldback/settings.py, plugins/aggregator/ (hook staktrakr_default_settings).

# The vision cross-check's VISION_* settings are the plugin's own (plugins/vision/settings.py).

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

# -- operations: redacted logs, JSON lines (staktrakr/logs.py) ----------------------------------
# Every log line is scrubbed of the configured secrets and `api_key=`-style parameters, and with
# LOG_FORMAT=json (environment) it is one JSON object. Installed while Scrapy reads this module,
# so the lines it logs before any extension exists are covered too; the JsonLogs extension adds
# the secrets given as `-s` overrides.
from staktrakr.logs import install_log_hook as _install_log_hook  # noqa: E402

_install_log_hook()
EXTENSIONS["staktrakr.logs.JsonLogs"] = 0
