"""Scale-out benchmark: one poller group as 1, 2 and 3 shards over a synthetic catalogue.

    python benchmarks/scale_out.py [--dealers 600] [--browser-dealers 6] [--latency 0.05 0.25]
                                   [--pollers 1 2 3] [--concurrency 2]

A dealer farm on 127.0.0.1 (tests/scale/farm.py: `--dealers` dealers x 2 coins, the last
`--browser-dealers` script-rendered), a real Turso sync server and a shared browser host
(`playwright run-server`). For each poller count N the group's N shards crawl at once, each into
its own local replica that pushes to Turso at the end of its run. Printed per N:

  cycle      wall time from starting the shards until the last one has exited (pushed)
  rows/s     rows that reached Turso in the cycle / cycle
  RSS        peak resident memory of each poller's process tree (Scrapy, Playwright driver),
             sampled every 0.2 s, and of the browser host's (server + one Chromium per poller)
  in flight  the most requests one dealer had in flight at once, across all shards

Figures depend on the machine (cores!); tests never assert them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.scale: the farm and the browser host helpers

from staktrakr.store import Database  # noqa: E402
from staktrakr_samples.server import SampleSites, SiteConfig  # noqa: E402
from tests.conftest import TursoServer, _tursodb_binary  # noqa: E402
from tests.scale.browser_host import browser_host, tree_rss_mb  # noqa: E402
from tests.scale.farm import build_farm  # noqa: E402


class PeakRss:
    """Samples the resident memory of process trees until stopped; keeps each one's peak."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.peak = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], tree_rss_mb(pid))
            self._stop.wait(0.2)


def run_cycle(pollers: int, farm, sites_config: SiteConfig, base_env: dict[str, str], workdir: Path, host, concurrency: int) -> dict:
    """One cycle of a group of `pollers` shards against a fresh Turso server."""
    binary = _tursodb_binary()
    assert binary, "tursodb is not installed (scripts/test.sh installs it)"
    server = TursoServer(binary, workdir / f"turso-{pollers}.db").start()
    try:
        sites_config.max_in_flight.clear()
        processes: dict[str, subprocess.Popen] = {}
        started = time.monotonic()
        for index in range(pollers):
            env = {**base_env, "TURSO_DATABASE_URL": server.url, "STAKTRAKR_DB": str(workdir / f"p{pollers}-s{index}.db")}
            if pollers > 1:
                env["STAKTRAKR_SHARD"] = f"{index}/{pollers}"
            processes[f"shard {index}"] = subprocess.Popen(
                [sys.executable, "-m", "scrapy", "crawl", "retail", "-s", f"STAKTRAKR_DEALER_CONCURRENCY={concurrency}", "-s", "LOG_LEVEL=WARNING"],
                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
        with PeakRss({**{n: p.pid for n, p in processes.items()}, "browser host": host.process.pid}) as rss:
            errors = {name: p.communicate()[1] for name, p in processes.items()}
            cycle = time.monotonic() - started
        for name, process in processes.items():
            if process.returncode != 0:
                print(f"{name} exited {process.returncode}:\n{errors[name][-1500:]}", file=sys.stderr)
    finally:
        server.stop()
    with Database.open_local(workdir / f"turso-{pollers}.db", migrate=False) as remote:  # what reached Turso
        rows = remote.query("SELECT COUNT(*) AS n FROM price_snapshots")[0]["n"]
        ok = remote.query("SELECT COUNT(*) AS n FROM price_snapshots WHERE status = 'ok'")[0]["n"]
    return {
        "pollers": pollers, "cycle": cycle, "rows": rows, "ok": ok, "rows_per_s": rows / cycle,
        "poller_rss": [rss.peak[n] for n in processes], "host_rss": rss.peak["browser host"],
        "in_flight": max(sites_config.max_in_flight.values(), default=0),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dealers", type=int, default=600)
    parser.add_argument("--browser-dealers", type=int, default=6)
    parser.add_argument("--latency", type=float, nargs=2, default=(0.05, 0.25))
    parser.add_argument("--pollers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()

    farm = build_farm(args.dealers, args.browser_dealers)
    config = SiteConfig(latency=tuple(args.latency), pages=farm.pages)
    with tempfile.TemporaryDirectory() as tmp, SampleSites(config) as sites, browser_host(Path(tmp)) as host:
        workdir = Path(tmp)
        providers = workdir / "providers.json"
        providers.write_text(json.dumps(farm.providers(sites.base_url)), encoding="utf-8")
        base_env = {
            **os.environ, "SCRAPY_SETTINGS_MODULE": "staktrakr.settings", "POLLER_ID": "bench", "STAKTRAKR_PROVIDERS": str(providers),
            "STAKTRAKR_API_DIR": str(workdir / "api"), "PLAYWRIGHT_CONNECT_URL": host.url,
            "PYTHONPATH": os.pathsep.join(filter(None, [farm.plugin(workdir / "plugin"), os.environ.get("PYTHONPATH")])),
        }  # fmt: skip
        for name in ("STAKTRAKR_SHARD", "STAKTRAKR_SHARD_COUNT", "JOB_COMPLETION_INDEX", "TURSO_AUTH_TOKEN"):
            base_env.pop(name, None)
        print(f"catalogue: {len(farm.expected)} targets, {args.dealers} dealers ({args.browser_dealers} script-rendered), "
              f"latency {args.latency[0]}-{args.latency[1]} s, {args.concurrency} per dealer, {os.cpu_count()} cores")  # fmt: skip
        results = [run_cycle(n, farm, config, base_env, workdir, host, args.concurrency) for n in args.pollers]

    print()
    print("| pollers | cycle (s) | rows into Turso | ok | rows/s | peak RSS per poller (MB) | browser host peak RSS (MB) | most in flight at one dealer |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        per_poller = ", ".join(f"{mb:.0f}" for mb in r["poller_rss"])
        print(f"| {r['pollers']} | {r['cycle']:.1f} | {r['rows']} | {r['ok']} | {r['rows_per_s']:.1f} | {per_poller} | {r['host_rss']:.0f} | {r['in_flight']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
