"""Proxy tiers: a blocked or failed download is retried through PROXY_TIERS in order.

The crawls run the real `scrapy crawl retail` against the sample dealer sites, through a real
tinyproxy on 127.0.0.1. The sample server's `Rule(block_direct=True)` answers its status (or
body) only to requests that did not come through a proxy; it recognises tinyproxy's requests by
the Via header tinyproxy adds.
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from staktrakr.proxy_tiers import ProxyTierMiddleware, proxy_path_reason
from staktrakr_samples.server import Rule, SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database

from ..conftest import needs_chromium, scrapy, write_json

TRUTH = load_truth()
TINYPROXY = shutil.which("tinyproxy") or next(
    (p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if Path(p).exists()), None
)
CANARY_USER = "canary-user-7Hq2"
CANARY_PASSWORD = "canary-pw-Zq8vX3pLw"

# What a Cloudflare interstitial looks like: served with HTTP 200, no product on it.
BOT_WALL = """<!DOCTYPE html><html><head><title>Just a moment...</title></head>
<body><div id="challenge-form"><h1>Checking your browser before accessing the site.</h1>
<p>Enable JavaScript and cookies to continue</p></div></body></html>"""


def _truth(path: str) -> dict:
    return next(e for e in TRUTH if e["path"] == path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dead_proxy(user: str | None = None, password: str | None = None) -> str:
    """A proxy URL whose port nobody listens on: every connection is refused."""
    auth = f"{user}:{password}@" if user else ""
    return f"http://{auth}127.0.0.1:{_free_port()}"


@dataclass
class Tinyproxy:
    port: int
    process: subprocess.Popen
    log: Path
    user: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        auth = f"{self.user}:{self.password}@" if self.user else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def start_proxy(tmp_path: Path) -> Iterator[Callable[..., Tinyproxy]]:
    """Starts tinyproxy instances on free ports (optionally with BasicAuth); stops them after the test."""
    if TINYPROXY is None:
        pytest.skip("tinyproxy is not installed (apt-get install tinyproxy)")
    started: list[Tinyproxy] = []

    def start(user: str | None = None, password: str | None = None) -> Tinyproxy:
        workdir = tmp_path / f"tinyproxy-{len(started) + 1}"  # outside the database files scanned below
        workdir.mkdir()
        port = _free_port()
        lines = [
            f"Port {port}",
            "Listen 127.0.0.1",
            "Allow 127.0.0.1",
            "Timeout 30",
            "MaxClients 50",
            "LogLevel Info",
            # Keep the Via header: the sample server tells proxied requests by it.
            "DisableViaHeader No",
        ]
        if user:
            lines.append(f"BasicAuth {user} {password}")
        conf = workdir / "tinyproxy.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        log = workdir / "tinyproxy.log"
        with log.open("wb") as out:
            process = subprocess.Popen([TINYPROXY, "-d", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
        proxy = Tinyproxy(port, process, log, user, password)
        started.append(proxy)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return proxy
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    proxy.stop()
                    pytest.fail(f"tinyproxy did not start:\n{log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.05)

    yield start
    for proxy in started:
        proxy.stop()


def _crawl(tmp_path: Path, sites: SampleSites, paths: list[str], tiers: list[str], *args: str, tiers_as_setting: bool = False):
    providers_file = write_json(tmp_path / "providers.json", providers_for(sites, [_truth(p) for p in paths]))
    env = {"STAKTRAKR_PROVIDERS": str(providers_file)}
    if tiers_as_setting:
        args = ("-s", f"PROXY_TIERS={','.join(tiers)}", *args)
    else:
        env["PROXY_TIERS"] = ",".join(tiers)  # as in production
    # LOG_LEVEL=DEBUG: Scrapy's stats dump, which the proxy figures are read from, shows only at DEBUG (staktrakr/logs.py).
    return scrapy("crawl", "retail", "-s", "LOG_LEVEL=DEBUG", *args, env=env)


def _rows(db_path: Path) -> dict[tuple[str, str], dict]:
    with Database.open_local(db_path) as db:
        rows = db.query("SELECT * FROM price_snapshots")
    return {(r["coin_slug"], r["vendor"]): r for r in rows}


# -- crawls through tinyproxy -----------------------------------------------------------------


def test_a_page_blocked_on_the_direct_path_is_read_through_proxy_tier_1(tmp_path, config, start_proxy):
    proxy = start_proxy()
    site_config = SiteConfig(rules={"/apmex/ase.html": Rule(status=403, block_direct=True)})
    with SampleSites(site_config) as sites:
        done = _crawl(tmp_path, sites, ["apmex/ase.html", "apmex/age.html"], [proxy.url])
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _rows(config.STAKTRAKR_DB)
    ase = rows[("ase", "apmex")]
    assert (ase["status"], ase["price"], ase["http_status"]) == ("ok", 94.19, 200)
    assert ase["reason"].startswith("via proxy tier 1 (direct: HTTP 403): ")
    assert ase["method"] == "table"  # how the price was read; the fetch path is in the reason
    # once directly, once through the proxy; the page that was not blocked never saw the proxy
    assert site_config.hits["/apmex/ase.html"] == 2
    age = rows[("age", "apmex")]
    assert age["status"] == "ok" and "proxy" not in (age["reason"] or "")
    assert "'staktrakr/proxy/tier_1/requests': 1" in done.stderr
    assert "apmex ase: HTTP 403 direct, trying proxy tier 1 of 1" in done.stderr


def test_a_bot_wall_served_with_200_is_retried_through_the_proxy(tmp_path, config, start_proxy):
    proxy = start_proxy()
    site_config = SiteConfig(rules={"/jmbullion/ase.html": Rule(status=200, body=BOT_WALL, block_direct=True)})
    with SampleSites(site_config) as sites:
        done = _crawl(tmp_path, sites, ["jmbullion/ase.html"], [proxy.url])
    assert done.returncode == 0, done.stderr[-3000:]
    row = _rows(config.STAKTRAKR_DB)[("ase", "jmbullion")]
    want = _truth("jmbullion/ase.html")["expected"]
    assert (row["status"], row["price"]) == (want["status"], want["price"])
    assert row["reason"].startswith("via proxy tier 1 (direct: bot wall (title: 'Just a moment...')): ")


def test_tiers_are_tried_in_order_and_a_dead_proxy_is_skipped(tmp_path, config, start_proxy):
    proxy = start_proxy()
    site_config = SiteConfig(rules={"/apmex/ase.html": Rule(status=403, block_direct=True)})
    with SampleSites(site_config) as sites:
        done = _crawl(tmp_path, sites, ["apmex/ase.html"], [_dead_proxy(), proxy.url])
    assert done.returncode == 0, done.stderr[-3000:]
    row = _rows(config.STAKTRAKR_DB)[("ase", "apmex")]
    assert (row["status"], row["price"]) == ("ok", 94.19)
    assert row["reason"].startswith("via proxy tier 2 (direct: HTTP 403; proxy tier 1: DownloadConnectionRefusedError): ")
    # the dead tier was tried once, without Scrapy's retries; the page saw direct + tier 2 only
    assert site_config.hits["/apmex/ase.html"] == 2
    assert "'staktrakr/proxy/tier_1/requests': 1" in done.stderr
    assert "'staktrakr/proxy/tier_2/passed': 1" in done.stderr
    assert "retry/count" not in done.stderr


def test_when_every_tier_fails_the_last_outcome_is_stored_with_the_paths_tried(tmp_path, config, start_proxy):
    first, second = start_proxy(), start_proxy()
    rules = {
        "/apmex/ase.html": Rule(status=403),  # blocked for everyone, proxies included
        "/apmex/age.html": Rule(delay_s=3),  # slower than DOWNLOAD_TIMEOUT on every path
    }
    site_config = SiteConfig(rules=rules)
    with SampleSites(site_config) as sites:
        done = _crawl(
            tmp_path, sites, ["apmex/ase.html", "apmex/age.html"], [first.url, second.url],
            "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=1",
        )  # fmt: skip
        hits = dict(site_config.hits)
    assert done.returncode == 1, done.stderr[-3000:]  # nothing captured
    rows = _rows(config.STAKTRAKR_DB)
    blocked = rows[("ase", "apmex")]
    assert blocked["status"] == "blocked"
    assert blocked["reason"] == "all 2 proxy tiers failed (direct: HTTP 403; proxy tier 1: HTTP 403); proxy tier 2: HTTP 403"
    assert hits["/apmex/ase.html"] == 3  # 403 is not retried on the same path
    timed_out = rows[("age", "apmex")]
    assert timed_out["status"] == "error"
    assert timed_out["reason"] == (
        "all 2 proxy tiers failed (direct: DownloadTimeoutError; proxy tier 1: DownloadTimeoutError); "
        "proxy tier 2: DownloadTimeoutError: timeout after 1 s"
    )
    # direct + 1 Scrapy retry, then each tier once
    assert hits["/apmex/age.html"] == 4
    assert "'staktrakr/proxy/exhausted': 2" in done.stderr


def test_proxy_credentials_never_reach_logs_stats_or_the_database(tmp_path, config, start_proxy):
    proxy = start_proxy(user=CANARY_USER, password=CANARY_PASSWORD)
    dead = _dead_proxy(CANARY_USER + "-dead", CANARY_PASSWORD + "-dead")
    rules = {
        "/apmex/ase.html": Rule(status=403, block_direct=True),
        "/jmbullion/ase.html": Rule(status=200, body=BOT_WALL, block_direct=True),
        "/apmex/age.html": Rule(status=403),
    }
    with SampleSites(SiteConfig(rules=rules)) as sites:
        done = _crawl(
            tmp_path, sites, ["apmex/ase.html", "jmbullion/ase.html", "apmex/age.html"], [dead, proxy.url],
            "-s", "LOG_LEVEL=DEBUG", tiers_as_setting=True,  # a `-s` value is the likelier one to be logged
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _rows(config.STAKTRAKR_DB)
    # tinyproxy answers 407 without the right credentials, so these prove they were sent
    assert rows[("ase", "apmex")]["status"] == "ok" and rows[("ase", "jmbullion")]["status"] == "ok"
    assert rows[("age", "apmex")]["status"] == "blocked"
    assert "Dumping Scrapy stats" in done.stderr and "DEBUG" in done.stderr
    secrets = [CANARY_USER, CANARY_PASSWORD]
    secrets += [base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in [(CANARY_USER, CANARY_PASSWORD)]]
    output = done.stdout + done.stderr
    for secret in secrets:
        assert secret not in output
    with Database.open_local(config.STAKTRAKR_DB) as db:
        stored = repr(db.query("SELECT * FROM price_snapshots")) + repr(db.query("SELECT * FROM poller_runs"))
        stored += repr(db.query("SELECT * FROM provider_failures"))
    for secret in secrets:
        assert secret not in stored
    for db_file in tmp_path.glob("staktrakr.db*"):
        data = db_file.read_bytes()
        assert all(secret.encode() not in data for secret in secrets), db_file.name


@pytest.mark.browser
@needs_chromium
def test_browser_pages_go_through_the_same_tiers(tmp_path, config, start_proxy):
    proxy = start_proxy(user=CANARY_USER, password=CANARY_PASSWORD)
    rules = {
        # a browser dealer (profile browser=True)
        "/bullionexchanges/ase.html": Rule(status=403, block_direct=True),
        # a static dealer page that needs the browser once its HTML shows no price
        "/herobullion/kangaroo-silver.html": Rule(status=403, block_direct=True),
    }
    site_config = SiteConfig(rules=rules)
    with SampleSites(site_config) as sites:
        done = _crawl(
            tmp_path, sites, ["bullionexchanges/ase.html", "herobullion/kangaroo-silver.html"], [proxy.url],
            "-s", "LOG_LEVEL=DEBUG",
        )  # fmt: skip
        hits = dict(site_config.hits)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _rows(config.STAKTRAKR_DB)
    js = rows[("ase", "bullionexchanges")]
    assert (js["status"], js["price"]) == ("ok", 94.49)
    assert js["method"].startswith("browser+")
    assert js["reason"].startswith("via proxy tier 1 (direct: HTTP 403): ")
    refetched = rows[("kangaroo-silver", "herobullion")]
    assert (refetched["status"], refetched["price"]) == ("ok", 89.89)
    assert refetched["method"].startswith("browser+") and refetched["reason"].startswith("via proxy tier 1")
    # static direct (403), static through tier 1, then the browser straight through tier 1
    assert hits["/herobullion/kangaroo-silver.html"] == 3
    assert "Browser context started: 'proxy-1'" in done.stderr
    for secret in (CANARY_USER, CANARY_PASSWORD):
        assert secret not in done.stdout + done.stderr


# -- the middleware on its own ------------------------------------------------------------------


def _middleware(tiers: str) -> ProxyTierMiddleware:
    crawler = get_crawler(settings_dict={"PROXY_TIERS": tiers, "STAKTRAKR_PROXY_ON_STATUS": [403, 429]})
    return ProxyTierMiddleware.from_crawler(crawler)


def test_without_proxy_tiers_the_middleware_is_not_loaded():
    with pytest.raises(NotConfigured):
        ProxyTierMiddleware.from_crawler(get_crawler(settings_dict={}))


def test_each_tier_once_then_the_outcome_goes_to_the_spider():
    mw = _middleware("http://u1:p1@proxy-one:8080, http://proxy-two:3128")
    request = Request("https://dealer.example/ase", meta={"download_slot": "dealer"})
    blocked = HtmlResponse(request.url, status=429, body=b"", request=request)

    first = mw.process_response(request, blocked)
    assert first.meta["proxy_tier"] == 1 and first.dont_filter and first.meta["download_slot"] == "dealer"
    mw.process_request(first)
    assert first.meta["proxy"] == "http://u1:p1@proxy-one:8080" and first.meta["dont_retry"]

    first.headers[b"Proxy-Authorization"] = b"Basic dTE6cDE="  # as HttpProxyMiddleware would add
    second = mw.process_exception(first, TimeoutError())
    mw.process_request(second)
    assert second.meta["proxy"] == "http://proxy-two:3128"
    assert b"Proxy-Authorization" not in second.headers  # tier 1's credentials stay with tier 1

    last = mw.process_response(second, HtmlResponse(request.url, status=403, body=b"", request=second))
    assert isinstance(last, HtmlResponse) and second.meta["proxy_exhausted"]
    assert proxy_path_reason(second.meta, "HTTP 403") == (
        "all 2 proxy tiers failed (direct: HTTP 429; proxy tier 1: TimeoutError); proxy tier 2: HTTP 403"
    )


def test_browser_requests_get_a_proxy_context_per_tier():
    mw = _middleware("http://user%40x:p%3Ass@proxy-one:8080")
    request = Request("https://dealer.example/ase", meta={"playwright": True, "playwright_context": "direct", "proxy_tier": 1})
    mw.process_request(request)
    assert request.meta["playwright_context"] == "proxy-1"
    assert request.meta["playwright_context_kwargs"] == {
        "proxy": {"server": "http://proxy-one:8080", "username": "user@x", "password": "p:ss"}
    }
    assert "proxy" not in request.meta  # Chromium, not Scrapy, talks to the proxy
