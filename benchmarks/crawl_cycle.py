"""Crawl-cycle benchmark: a simulated dealer farm on 127.0.0.1 crawled by the real spiders.

    python benchmarks/crawl_cycle.py [--dealers 9] [--targets 20] [--latency 1.0 2.0] [--no-baseline]

Prints the cycle wall time, the politeness lower bound (max over dealers of the sum of its
page latencies divided by its allowed concurrency), their ratio, a one-page-at-a-time
baseline on the same farm, and the crawl's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from staktrakr.catalogue import catalogue_coin
from staktrakr.samples.server import SITES, SampleSites, SiteConfig
from staktrakr.store import Database

# Page templates from the sample dealers; the farm's dealers have their own ids (plain HTTP,
# default profile) so the figures measure the engine, not one dealer's browser wait.
TEMPLATES = ["apmex/ase.html", "jmbullion/ase.html", "sdbullion/ase.html", "monumentmetals/ase.html", "herobullion/ase.html",
             "providentmetals/ase.html", "summitmetals/ase.html", "gainesvillecoins/ase.html", "bullionexchanges/maple-silver.html"]
DEALERS = [f"farm{i + 1:02d}" for i in range(len(TEMPLATES))]


def build_farm(dealers: int, targets: int) -> tuple[dict[str, str], dict]:
    pages: dict[str, str] = {}
    coins: dict = {}
    coin = catalogue_coin("ase")
    assert coin is not None
    for d, template in list(zip(DEALERS, TEMPLATES))[:dealers]:
        html = (SITES / template).read_text(encoding="utf-8")
        for i in range(targets):
            pages[f"/{d}/p{i}.html"] = html
    for i in range(targets):
        slug = f"bench-coin-{i}"
        coins[slug] = {"name": coin.name, "metal": "silver", "weight_oz": 1, "providers": []}
    return pages, coins


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dealers", type=int, default=9)
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--latency", type=float, nargs=2, default=(1.0, 2.0))
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    pages, coins = build_farm(args.dealers, args.targets)
    config = SiteConfig(latency=tuple(args.latency), pages=pages)
    with tempfile.TemporaryDirectory() as tmp, SampleSites(config) as sites:
        for slug, i in zip(coins, range(args.targets)):
            coins[slug]["providers"] = [{"id": d, "url": sites.url(f"{d}/p{i}.html")} for d in DEALERS[: args.dealers]]
        providers = Path(tmp) / "providers.json"
        providers.write_text(json.dumps({"coins": coins}), encoding="utf-8")
        env = dict(os.environ, SCRAPY_SETTINGS_MODULE="staktrakr.settings", STAKTRAKR_PROVIDERS=str(providers),
                   STAKTRAKR_DB=str(Path(tmp) / "bench.db"), POLLER_ID="bench",
                   PYTHONPATH=os.pathsep.join(filter(None, [farm_plugin(Path(tmp)), os.environ.get("PYTHONPATH")])))
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "retail", "-s", f"STAKTRAKR_DEALER_CONCURRENCY={args.concurrency}", "-s", "LOG_LEVEL=WARNING"],
                              env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        with Database.open_local(Path(tmp) / "bench.db") as db:
            ok = db.query_value("SELECT COUNT(*) FROM price_snapshots WHERE status = 'ok'")
            crawl_phase = db.query_value("SELECT duration_s FROM poller_runs")
            total = db.query_value("SELECT COUNT(*) FROM price_snapshots")
        bound = max(config.served_latency.values()) / args.concurrency
        max_in_flight = max(config.max_in_flight.values())
        print(f"farm: {args.dealers} dealers x {args.targets} targets, latency {args.latency[0]}-{args.latency[1]} s, {args.concurrency} per dealer")
        print(f"crawl exit {done.returncode}: {total} rows stored, {ok} ok; max in flight at one dealer: {max_in_flight}")
        print(f"process wall time:         {wall:7.1f} s  (incl. interpreter and Scrapy start-up)")
        print(f"cycle wall time:           {crawl_phase:7.1f} s  (spider opened -> closed, poller_runs.duration_s)")
        print(f"politeness lower bound:    {bound:7.1f} s")
        print(f"ratio cycle / bound:       {crawl_phase / bound:7.2f}   (process / bound: {wall / bound:.2f})")
        print(f"peak RSS of the crawl:     {rss_mb:7.0f} MB")
        if not args.no_baseline:
            config.served_latency.clear()
            started = time.monotonic()
            for path in pages:  # one page at a time, no delay at all: the old poller's shape
                urllib.request.urlopen(sites.url(path), timeout=30).read()
            baseline = time.monotonic() - started
            print(f"one-page-at-a-time:        {baseline:7.1f} s  ({baseline / wall:.1f}x the process wall time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
