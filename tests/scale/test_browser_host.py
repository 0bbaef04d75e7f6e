"""A shared browser host: `scrapy crawl retail` with PLAYWRIGHT_CONNECT_URL reads its browser
pages in a real `playwright run-server` (which launches Debian's Chromium with the poller's
options); proxy tiers and vision screenshots work through it; when it is down, the browser
targets get `error` rows saying so and the static dealers carry on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from staktrakr_samples.gemini import GeminiConfig, GeminiStandIn
from staktrakr_samples.server import Rule, SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database

from ..conftest import needs_chromium, scrapy, write_json
from ..spiders.test_proxy_tiers import CANARY_PASSWORD, CANARY_USER, start_proxy  # noqa: F401 - a fixture
from .browser_host import browser_host, free_port

BY_PATH = {e["path"]: e for e in load_truth()}
BROWSER_PAGE = "bullionexchanges/ase.html"  # a dealer whose profile always needs the browser
STATIC_PAGES = ["apmex/ase.html", "jmbullion/ase.html"]

pytestmark = [pytest.mark.browser, needs_chromium]


def _rows(db_path: Path) -> dict[tuple[str, str], dict]:
    with Database.open_local(db_path) as db:
        return {(r["coin_slug"], r["vendor"]): r for r in db.query("SELECT * FROM price_snapshots")}


def _providers(tmp_path: Path, sites: SampleSites, paths: list[str]) -> str:
    return str(write_json(tmp_path / "providers.json", providers_for(sites, [BY_PATH[p] for p in paths])))


def test_browser_pages_are_read_on_the_shared_host(tmp_path, config):
    with browser_host(tmp_path) as host, SampleSites() as sites:
        env = {"STAKTRAKR_PROVIDERS": _providers(tmp_path, sites, [BROWSER_PAGE, *STATIC_PAGES]), "PLAYWRIGHT_CONNECT_URL": host.url}
        done = scrapy("crawl", "retail", "-s", "LOG_LEVEL=DEBUG", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _rows(config.STAKTRAKR_DB)
    for path in [BROWSER_PAGE, *STATIC_PAGES]:
        entry = BY_PATH[path]
        row = rows[(entry["coin"], entry["dealer"])]
        assert (row["status"], row["price"]) == (entry["expected"]["status"], entry["expected"]["price"]), row
    assert rows[("ase", "bullionexchanges")]["method"].startswith("browser+")
    assert "Connected to remote Playwright" in done.stderr
    assert "Launching browser" not in done.stderr  # no Chromium of the poller's own
    assert "ignoring PLAYWRIGHT_LAUNCH_OPTIONS" not in done.stderr  # they are sent to the host


def test_proxy_tiers_work_through_the_shared_host(tmp_path, config, start_proxy):  # noqa: F811 - the fixture
    proxy = start_proxy(user=CANARY_USER, password=CANARY_PASSWORD)
    site_config = SiteConfig(rules={f"/{BROWSER_PAGE}": Rule(status=403, block_direct=True)})
    with browser_host(tmp_path) as host, SampleSites(site_config) as sites:
        env = {"STAKTRAKR_PROVIDERS": _providers(tmp_path, sites, [BROWSER_PAGE]), "PLAYWRIGHT_CONNECT_URL": host.url,
               "PROXY_TIERS": proxy.url}  # fmt: skip
        done = scrapy("crawl", "retail", "-s", "LOG_LEVEL=DEBUG", env=env)
        host_log = host.log.read_text(errors="replace")
    assert done.returncode == 0, done.stderr[-3000:]
    row = _rows(config.STAKTRAKR_DB)[("ase", "bullionexchanges")]
    assert (row["status"], row["price"]) == ("ok", 94.49)
    assert row["method"].startswith("browser+") and row["reason"].startswith("via proxy tier 1 (direct: HTTP 403): ")
    assert "Browser context started: 'proxy-1'" in done.stderr and "Connected to remote Playwright" in done.stderr
    for secret in (CANARY_USER, CANARY_PASSWORD):
        assert secret not in done.stdout + done.stderr + host_log


def test_vision_screenshots_are_taken_on_the_shared_host(tmp_path, config):
    gemini_config = GeminiConfig()
    with browser_host(tmp_path) as host, SampleSites() as sites, GeminiStandIn(gemini_config) as gemini:
        env = {"STAKTRAKR_PROVIDERS": _providers(tmp_path, sites, [BROWSER_PAGE]), "PLAYWRIGHT_CONNECT_URL": host.url,
               "VISION_ENABLED": "1", "GEMINI_API_KEY": gemini.config.api_key, "GEMINI_BASE_URL": gemini.base_url}  # fmt: skip
        done = scrapy("crawl", "retail", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    [request] = gemini_config.requests
    assert request.dealer == "bullionexchanges" and request.image_bytes > 10_000
    assert request.image_size == (1280, 900)  # the viewport screenshot, as with a local browser
    row = _rows(config.STAKTRAKR_DB)[("ase", "bullionexchanges")]
    assert (row["status"], row["price"], row["source"]) == ("ok", 94.49, "firecrawl+vision")


def test_when_the_host_is_down_browser_targets_get_error_rows_and_static_dealers_carry_on(tmp_path, config):
    port = free_port()
    down = f"ws://127.0.0.1:{port}/"  # nobody listens there
    with SampleSites() as sites:
        env = {"STAKTRAKR_PROVIDERS": _providers(tmp_path, sites, [BROWSER_PAGE, *STATIC_PAGES]), "PLAYWRIGHT_CONNECT_URL": down}
        done = scrapy("crawl", "retail", env=env)
    assert done.returncode == 0, done.stderr[-3000:]  # the static dealers captured their prices
    assert "Traceback" not in done.stderr
    rows = _rows(config.STAKTRAKR_DB)
    browser_row = rows[("ase", "bullionexchanges")]
    assert browser_row["status"] == "error"
    assert browser_row["reason"] == (
        f"BrowserHostUnreachable: browser host {down} unreachable: BrowserType.connect: WebSocket error: connect ECONNREFUSED 127.0.0.1:{port}"
    )
    for path in STATIC_PAGES:
        entry = BY_PATH[path]
        assert (rows[(entry["coin"], entry["dealer"])]["status"], rows[(entry["coin"], entry["dealer"])]["price"]) == ("ok", entry["expected"]["price"])
    with Database.open_local(config.STAKTRAKR_DB) as db:
        [run] = db.query("SELECT status, error_count, ok_count FROM poller_runs")
    assert (run["error_count"], run["ok_count"]) == (1, 2), json.dumps(run)
