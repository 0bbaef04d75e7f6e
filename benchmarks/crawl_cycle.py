"""Crawl-cycle benchmark: a simulated dealer farm on 127.0.0.1 crawled by the real spiders.

    python benchmarks/crawl_cycle.py [--dealers 9] [--browser-dealers 3] [--targets 20]
                                     [--latency 1.0 2.0] [--render-delay 0.5 2.0] [--no-baseline]

The last --browser-dealers dealers are script-rendered storefronts: their tier table appears
--render-delay seconds after `load` (a "Loading prices…" skeleton until then), so only a browser
reads them. Two crawls run on one database: the first learns which dealers need the browser,
the second is the steady state. For each it prints the cycle wall time, the politeness lower
bound (max over dealers of the time its pages need — latency, plus the render delay of
script-rendered pages, one download per target — divided by its allowed concurrency), their
ratio, the most requests in flight at one dealer, how the pages were read, and the crawl's
peak RSS; then a one-page-at-a-time baseline on the same farm.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from staktrakr.catalogue import catalogue_coin
from staktrakr_samples.server import SITES, SampleSites, SiteConfig
from staktrakr_samples.storefront import script_rendered
from staktrakr.store import Database

# Page templates from the sample dealers; the farm's dealers have their own ids (plain HTTP,
# default profile) so the figures measure the engine, not one dealer's browser wait.
TEMPLATES = ["apmex/ase.html", "jmbullion/ase.html", "sdbullion/ase.html", "monumentmetals/ase.html", "herobullion/ase.html",
             "providentmetals/ase.html", "summitmetals/ase.html", "gainesvillecoins/ase.html", "bullionexchanges/maple-silver.html"]
DEALERS = [f"farm{i + 1:02d}" for i in range(len(TEMPLATES))]


def build_farm(dealers: int, browser_dealers: int, targets: int, render: tuple[float, float]) -> tuple[dict[str, str], dict, dict[str, float]]:
    pages: dict[str, str] = {}
    coins: dict = {}
    render_s: dict[str, float] = {}  # per dealer: seconds its pages take to render after load
    coin = catalogue_coin("ase")
    assert coin is not None
    rng = random.Random(7)
    for n, (d, template) in enumerate(list(zip(DEALERS, TEMPLATES))[:dealers]):
        html = (SITES / template).read_text(encoding="utf-8")
        for i in range(targets):
            if n >= dealers - browser_dealers:
                delay = rng.uniform(*render)
                render_s[d] = render_s.get(d, 0.0) + delay
                pages[f"/{d}/p{i}.html"] = script_rendered(html, int(delay * 1000))
            else:
                pages[f"/{d}/p{i}.html"] = html
    for i in range(targets):
        slug = f"bench-coin-{i}"
        coins[slug] = {"name": coin.name, "metal": "silver", "weight_oz": 1, "providers": []}
    return pages, coins, render_s


def farm_plugin(folder: Path) -> str:
    """A dealer plugin package for the farm's dealers (a crawl refuses dealers no plugin
    describes), installed the way pip would: a module and its dist-info with the entry point."""
    (folder / "staktrakr_farm.py").write_text(
        "from staktrakr.hookspecs import hookimpl\n"
        "from staktrakr.models import DealerProfile\n\n\n"
        "@hookimpl\n"
        "def staktrakr_dealer_profiles():\n"
        f"    return [DealerProfile(id=d, name=d) for d in {DEALERS!r}]\n",
        encoding="utf-8",
    )
    info = folder / "staktrakr_farm-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: staktrakr-farm\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[staktrakr]\nfarm = staktrakr_farm\n", encoding="utf-8")
    return str(folder)


def crawl_once(label: str, env: dict[str, str], config: SiteConfig, render_s: dict[str, float], db_path: Path, concurrency: int) -> None:
    config.served_latency.clear()
    config.max_in_flight.clear()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "retail", "-s", f"STAKTRAKR_DEALER_CONCURRENCY={concurrency}", "-s", "LOG_LEVEL=WARNING"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.monotonic() - started
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with Database.open_local(db_path) as db:
        run = db.query("SELECT run_id, duration_s FROM poller_runs ORDER BY started_at DESC LIMIT 1")[0]
        rows = db.query("SELECT vendor, status, method, reason, elapsed_ms FROM price_snapshots WHERE run_id = ?", (run["run_id"],))
    per_dealer = {d: (config.served_latency.get(d, 0.0) + render_s.get(d, 0.0)) / concurrency for d in config.served_latency}
    bound = max(per_dealer.values())
    browser = sum(1 for r in rows if (r["method"] or "").startswith("browser"))
    ok = sum(r["status"] == "ok" for r in rows)
    cycle = run["duration_s"]
    print(f"-- {label}")
    print(f"crawl exit {done.returncode}: {len(rows)} rows, {ok} ok, {browser} read in the browser; most in flight at one dealer: {max(config.max_in_flight.values())}")
    print(f"process wall time:         {wall:7.1f} s  (incl. interpreter and Scrapy start-up)")
    print(f"cycle wall time:           {cycle:7.1f} s  (spider opened -> closed, poller_runs.duration_s)")
    print(f"politeness lower bound:    {bound:7.1f} s  (one download per target)")
    print(f"ratio cycle / bound:       {cycle / bound:7.2f}   (process / bound: {wall / bound:.2f})")
    print(f"peak RSS (largest child):  {rss_mb:7.0f} MB")
    waits = [float(m.group(1)) for r in rows if (m := re.search(r"browser read after ([\d.]+) s", r["reason"] or ""))]
    if waits and render_s:
        rendered = sum(render_s.values()) / sum(1 for r in rows if r["vendor"] in render_s)
        print(f"browser pages: read {sum(waits) / len(waits):.2f} s after load on average; their scripts render after {rendered:.2f} s")
    if done.returncode:
        print(done.stderr[-2000:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dealers", type=int, default=9)
    parser.add_argument("--browser-dealers", type=int, default=3)
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--latency", type=float, nargs=2, default=(1.0, 2.0))
    parser.add_argument("--render-delay", type=float, nargs=2, default=(0.5, 2.0))
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    pages, coins, render_s = build_farm(args.dealers, args.browser_dealers, args.targets, tuple(args.render_delay))
    config = SiteConfig(latency=tuple(args.latency), pages=pages)
    with tempfile.TemporaryDirectory() as tmp, SampleSites(config) as sites:
        for slug, i in zip(coins, range(args.targets)):
            coins[slug]["providers"] = [{"id": d, "url": sites.url(f"{d}/p{i}.html")} for d in DEALERS[: args.dealers]]
        providers = Path(tmp) / "providers.json"
        providers.write_text(json.dumps({"coins": coins}), encoding="utf-8")
        db_path = Path(tmp) / "bench.db"
        env = dict(os.environ, SCRAPY_SETTINGS_MODULE="staktrakr.settings", STAKTRAKR_PROVIDERS=str(providers),
                   STAKTRAKR_DB=str(db_path), POLLER_ID="bench",
                   PYTHONPATH=os.pathsep.join(filter(None, [farm_plugin(Path(tmp)), os.environ.get("PYTHONPATH")])))
        print(f"farm: {args.dealers} dealers ({args.browser_dealers} script-rendered, {args.render_delay[0]}-{args.render_delay[1]} s after load) "
              f"x {args.targets} targets, latency {args.latency[0]}-{args.latency[1]} s, {args.concurrency} per dealer")
        crawl_once("run 1: nothing known yet (learns which dealers need the browser)", env, config, render_s, db_path, args.concurrency)
        crawl_once("run 2: steady state", env, config, render_s, db_path, args.concurrency)
        if not args.no_baseline:
            started = time.monotonic()
            for path in pages:  # one page at a time, no delay at all: the old poller's shape
                urllib.request.urlopen(sites.url(path), timeout=30).read()
            baseline = time.monotonic() - started
            print(f"one-page-at-a-time:        {baseline:7.1f} s  (static downloads only, render delays not counted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
